/**
 * The thin file edge of the descriptor library: read, lock, atomic write, and the edit transaction that
 * combines them. Everything about content (parsing, validating, editing) is pure and lives next door.
 */
import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { link, open, readFile, rename, stat, unlink } from "node:fs/promises";
import { hostname } from "node:os";
import { basename, dirname, join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import type { Document } from "yaml";
import { CheckFailedError, InputError } from "../errors/index.js";
import { newDescriptor } from "./edit.js";
import { formatDescriptorError, isSyntaxFailure, type Loaded, type LoadOptions, loadDescriptor } from "./load.js";
import type { Descriptor, DescriptorError } from "./types.js";

/** A descriptor that failed validation; `errors` holds every problem, located. Exit 1. */
export class DescriptorInvalidError extends CheckFailedError {
  readonly errors: readonly DescriptorError[];
  constructor(message: string, errors: readonly DescriptorError[], remedy: string) {
    super(`${message}:\n${errors.map((e) => `  ${formatDescriptorError(e)}`).join("\n")}`, {
      remedy,
      context: { file: errors[0]?.file, errors: errors.length },
    });
    this.errors = errors;
  }
}

/** Read a descriptor file's text; a missing or unreadable file is an InputError (exit 2). */
export async function readDescriptorText(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      throw new InputError("file not found", { remedy: "pass the path of your quix.yaml, or create one with 'quixlab init'", cause: e, context: { file } });
    }
    throw new InputError(`cannot read the file (${code ?? (e as Error).message})`, { remedy: "check the path and its permissions", cause: e, context: { file } });
  }
}

/** Read and load a descriptor file (syntax and validation errors are in `errors`, not thrown). */
export async function readDescriptor(file: string, opts: LoadOptions = {}): Promise<Loaded<Descriptor> & { text: string }> {
  const text = await readDescriptorText(file);
  return { text, ...loadDescriptor(text, file, opts) };
}

export interface WriteOptions {
  /** Refuse to write unless the file still holds exactly this text (null: unless it does not exist). */
  readonly expectedOriginal?: string | null;
}

/**
 * Replace `file` with `text` atomically: write a temporary file in the same directory, fsync it, rename it over
 * the file and fsync the directory. Readers see the old file or the new one, never a mix. Keeps the file's mode.
 * `expectedOriginal` is only race-free inside `withDescriptorLock`.
 */
export async function writeDescriptorAtomic(file: string, text: string, opts: WriteOptions = {}): Promise<void> {
  if (opts.expectedOriginal !== undefined) {
    const now = await readFile(file, "utf8").catch((e: NodeJS.ErrnoException) => {
      if (e.code === "ENOENT") return null;
      throw e;
    });
    if (now !== opts.expectedOriginal) {
      throw new CheckFailedError(`${file} changed on disk since it was read; nothing was written`, {
        remedy: "run the command again (edits go through editDescriptor, which locks the file)",
        context: { file },
      });
    }
  }
  const mode = await stat(file).then(
    (s) => s.mode & 0o777,
    () => 0o644,
  );
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  try {
    const fh = await open(tmp, "wx", mode);
    try {
      await fh.writeFile(text, "utf8");
      await fh.chmod(mode);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw new InputError(`cannot write ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, {
      remedy: "check that the directory exists and is writable",
      cause: e,
      context: { file },
    });
  }
  await syncDir(dirname(file));
}

async function syncDir(dir: string): Promise<void> {
  // Makes the rename itself durable; some platforms cannot open a directory, and then there is nothing to do.
  const fh = await open(dir, constants.O_RDONLY).catch(() => undefined);
  if (!fh) return;
  try {
    await fh.sync();
  } catch {
    // EINVAL/EISDIR on filesystems that do not support it.
  } finally {
    await fh.close();
  }
}

export interface LockOptions {
  /** Give up after this long (default 30 s). */
  readonly timeoutMs?: number;
}

interface LockHolder {
  pid: number;
  host: string;
  token: string;
  at: number;
}

/**
 * Run `fn` while holding `<file>.lock`, so writers in other processes take turns. The lock is a file created
 * with O_EXCL holding our pid; a lock left by a process that died on this host is broken automatically.
 */
export async function withDescriptorLock<T>(file: string, fn: () => Promise<T> | T, opts: LockOptions = {}): Promise<T> {
  const lockPath = `${file}.lock`;
  const me: LockHolder = { pid: process.pid, host: hostname(), token: randomBytes(8).toString("hex"), at: Date.now() };
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  let wait = 2;
  for (;;) {
    try {
      const fh = await open(lockPath, "wx");
      try {
        await fh.writeFile(JSON.stringify(me));
      } finally {
        await fh.close();
      }
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new InputError(`cannot create lock ${lockPath} (${(e as NodeJS.ErrnoException).code})`, { remedy: "check that the directory is writable", cause: e, context: { file } });
      }
    }
    const holder = await readHolder(lockPath);
    if (holder === "gone") continue;
    if (holder !== "unreadable" && isStale(holder)) {
      await breakLock(lockPath, holder);
      continue;
    }
    if (Date.now() >= deadline) {
      const who = holder === "unreadable" ? "another process" : `process ${holder.pid} on ${holder.host}`;
      throw new CheckFailedError(`${file} is locked by ${who}`, {
        remedy: `wait for the other quixlab command to finish; if none is running, delete ${lockPath}`,
        retriable: true,
        context: { file },
      });
    }
    await delay(wait + Math.random() * wait);
    wait = Math.min(wait * 2, 50);
  }
  try {
    return await fn();
  } finally {
    const holder = await readHolder(lockPath);
    if (holder !== "gone" && holder !== "unreadable" && holder.token === me.token) await unlink(lockPath).catch(() => {});
  }
}

async function readHolder(lockPath: string): Promise<LockHolder | "gone" | "unreadable"> {
  let text: string;
  try {
    text = await readFile(lockPath, "utf8");
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ENOENT" ? "gone" : "unreadable";
  }
  try {
    const h = JSON.parse(text) as LockHolder;
    return typeof h.pid === "number" && typeof h.token === "string" ? h : "unreadable";
  } catch {
    // Created but not yet written by its owner; if that owner died right then, the age check clears it.
    const age = await stat(lockPath).then(
      (s) => Date.now() - s.mtimeMs,
      () => 0,
    );
    return age > 10_000 ? { pid: -1, host: hostname(), token: "", at: 0 } : "unreadable";
  }
}

function isStale(h: LockHolder): boolean {
  if (h.host !== hostname()) return false;
  if (h.pid <= 0) return true;
  try {
    process.kill(h.pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ESRCH";
  }
}

/**
 * Move a dead holder's lock aside. If, between our check and the move, the lock was broken and re-taken by a
 * live process, we moved its lock: put it back (link fails if yet another process took the lock meanwhile).
 */
async function breakLock(lockPath: string, stale: LockHolder): Promise<void> {
  const aside = `${lockPath}.stale.${process.pid}.${randomBytes(4).toString("hex")}`;
  try {
    await rename(lockPath, aside);
  } catch {
    return;
  }
  const moved = await readHolder(aside);
  if (moved !== "gone" && moved !== "unreadable" && moved.token !== stale.token) await link(aside, lockPath).catch(() => {});
  await unlink(aside).catch(() => {});
}

export interface EditPlan {
  /** The text before the edit. */
  readonly before: string;
  /** The text after the edit (equal to `before` when the edit changed nothing). */
  readonly after: string;
  readonly descriptor: Descriptor;
  readonly doc: Document.Parsed;
}

/**
 * Apply `edit` to descriptor text and validate the result, without touching disk (for --dry-run diffs).
 * Throws InputError when the text is not YAML and DescriptorInvalidError when the edited result is invalid.
 * `opts.apps` lets the check of the result apply v2.0 inheritance (topics, options) as `validateProject` does.
 */
export function planDescriptorEdit(text: string, file: string, edit: (doc: Document.Parsed) => void, opts: Pick<LoadOptions, "apps"> = {}): EditPlan {
  const loaded = loadDescriptor(text, file);
  if (isSyntaxFailure(loaded.errors)) {
    const e = loaded.errors[0]!;
    throw new InputError(e.message, { remedy: e.remedy, context: { file, line: e.line, column: e.column } });
  }
  edit(loaded.doc);
  const after = String(loaded.doc);
  const check = loadDescriptor(after, file, opts);
  if (check.errors.length > 0) {
    throw new DescriptorInvalidError(
      "the edit would make the descriptor invalid, so nothing was written (positions refer to the edited text)",
      check.errors,
      "fix the problems listed (in the file or in the values passed), then run the command again",
    );
  }
  return { before: text, after, descriptor: check.value, doc: check.doc };
}

export interface EditOptions extends LockOptions, Pick<LoadOptions, "apps"> {
  /** Start from `newDescriptor()` when the file does not exist (default: a missing file is an error). */
  readonly create?: boolean;
}

export interface EditResult extends EditPlan {
  /** False when the edit left the text as it was (nothing was written). */
  readonly changed: boolean;
}

/**
 * The edit transaction: lock the file, read it, apply `edit`, validate, and write atomically only if valid
 * and changed. On any failure the file is left exactly as it was.
 */
export async function editDescriptor(file: string, edit: (doc: Document.Parsed) => void, opts: EditOptions = {}): Promise<EditResult> {
  return withDescriptorLock(
    file,
    async () => {
      const exists = await stat(file).then(
        () => true,
        () => false,
      );
      const original = exists || !opts.create ? await readDescriptorText(file) : null;
      const plan = planDescriptorEdit(original ?? newDescriptor(), file, edit, opts);
      const changed = plan.after !== original;
      if (changed) await writeDescriptorAtomic(file, plan.after, { expectedOriginal: original });
      return { ...plan, changed };
    },
    opts,
  );
}
