/**
 * Carrying out a promote plan: the app files are written as one set (all or none) and quix.yaml is edited
 * through the descriptor library's locked, validated, atomic transaction. If that edit fails, the app files
 * are put back, so a failed promote leaves every file as it was.
 */
import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { mkdir, open, readFile, rename, rmdir, stat, unlink } from "node:fs/promises";
import { basename, dirname, join, relative, sep } from "node:path";
import { editDescriptor } from "../descriptor/index.js";
import { InputError } from "../errors/index.js";
import type { DescriptorOutcome, PromotePlan } from "./plan.js";

export interface FileContent {
  /** Absolute path. */
  readonly path: string;
  readonly content: string | Buffer;
}

interface Staged {
  readonly path: string;
  readonly tmp: string;
  /** The file's bytes and mode before, or null when it did not exist. */
  backup: { bytes: Buffer; mode: number } | null;
  placed: boolean;
}

const tmpName = (path: string, what: string) => join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.${what}`);

function writeError(path: string, e: unknown): InputError {
  return new InputError(`cannot write ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, {
    remedy: "check that the folder exists, is a folder, and is writable",
    cause: e,
    context: { file: path },
  });
}

async function writeSynced(path: string, data: string | Buffer, mode: number): Promise<void> {
  const fh = await open(path, "wx", mode);
  try {
    await fh.writeFile(data);
    await fh.chmod(mode);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, constants.O_RDONLY).catch(() => undefined);
  if (!fh) return;
  await fh.sync().catch(() => undefined);
  await fh.close();
}

/** Directories that `mkdir -p dir` would create, outermost first. */
async function missingDirs(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    const exists = await stat(d).then(
      () => true,
      () => false,
    );
    if (exists || dirname(d) === d) break;
    out.unshift(d);
  }
  return out;
}

/**
 * Write every file or none. Each file is first written to a temporary file beside it (and fsynced), then the
 * temporaries are renamed into place one by one, then `then` runs (promote edits quix.yaml there). If any step
 * fails, every file already renamed is restored to its previous bytes (or removed if it was new), the
 * temporaries and any folders created for them are removed, and the error is rethrown.
 */
export async function writeFileSet(files: readonly FileContent[], then?: () => Promise<void>): Promise<void> {
  const staged: Staged[] = [];
  const createdDirs: string[] = [];
  try {
    for (const f of files) {
      const dirs = await missingDirs(dirname(f.path));
      await mkdir(dirname(f.path), { recursive: true }).catch((e) => {
        throw writeError(f.path, e);
      });
      createdDirs.push(...dirs);
      const old = await stat(f.path).catch(() => undefined);
      const mode = old ? old.mode & 0o777 : 0o644;
      const s: Staged = { path: f.path, tmp: tmpName(f.path, "tmp"), backup: null, placed: false };
      await writeSynced(s.tmp, f.content, mode).catch((e) => {
        throw writeError(f.path, e);
      });
      staged.push(s);
      if (old) s.backup = { bytes: await readFile(f.path).catch((e) => Promise.reject(writeError(f.path, e))), mode };
    }
    for (const s of staged) {
      await rename(s.tmp, s.path).catch((e) => {
        throw writeError(s.path, e);
      });
      s.placed = true;
    }
    await Promise.all([...new Set(staged.map((s) => dirname(s.path)))].map(syncDir));
    await then?.();
  } catch (e) {
    await rollback(staged, createdDirs);
    throw e;
  }
}

async function rollback(staged: readonly Staged[], createdDirs: readonly string[]): Promise<void> {
  for (const s of [...staged].reverse()) {
    if (!s.placed) {
      await unlink(s.tmp).catch(() => undefined);
      continue;
    }
    if (s.backup === null) {
      await unlink(s.path).catch(() => undefined);
      continue;
    }
    // Restore with the same temp-and-rename, so even a crash mid-rollback never leaves a half-written file.
    const tmp = tmpName(s.path, "restore");
    try {
      await writeSynced(tmp, s.backup.bytes, s.backup.mode);
      await rename(tmp, s.path);
    } catch {
      await unlink(tmp).catch(() => undefined);
    }
  }
  for (const d of [...createdDirs].reverse()) await rmdir(d).catch(() => undefined);
}

export interface ApplyOptions {
  /** The project root: plan paths are relative to it. */
  readonly root: string;
  /** quix.yaml (absolute); created when missing. */
  readonly descriptorFile: string;
  readonly lockTimeoutMs?: number;
}

export interface ApplyResult {
  /** Files written, relative to the root (app files, then quix.yaml when it changed). */
  readonly written: readonly string[];
  readonly descriptorChanged: boolean;
  /** What the edit did to quix.yaml as it was under the lock (it may have changed since the plan was made). */
  readonly outcome: DescriptorOutcome | undefined;
}

/**
 * Write the plan: app files as a set, then the quix.yaml edit under its lock (re-applied to the file as it is
 * then, so a concurrent promote's entries are kept). Any failure leaves every file as it was. A no-op plan
 * writes nothing.
 */
export async function applyPromote(plan: PromotePlan, opts: ApplyOptions): Promise<ApplyResult> {
  if (plan.noop) return { written: [], descriptorChanged: false, outcome: undefined };
  let outcome: DescriptorOutcome | undefined;
  let changed = false;
  await writeFileSet(
    plan.files.map((f) => ({ path: join(opts.root, ...f.path.split("/")), content: f.content })),
    async () => {
      const result = await editDescriptor(
        opts.descriptorFile,
        (doc) => {
          outcome = plan.edit(doc);
        },
        { create: true, timeoutMs: opts.lockTimeoutMs },
      );
      changed = result.changed;
    },
  );
  const descriptor = relative(opts.root, opts.descriptorFile).split(sep).join("/");
  return { written: [...plan.files.map((f) => f.path), ...(changed ? [descriptor] : [])], descriptorChanged: changed, outcome };
}
