/**
 * A tarball of the running quixlab, as `npm pack` makes it, for vendoring into a project or an app folder.
 * From a checkout it first rebuilds dist/ when a source is newer; from an install it repacks the installed
 * folder, which holds exactly the packed files.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EnvironmentError } from "../errors/index.js";
import { execFailure, execOwned, type Log, requireProgram } from "../infra/process.js";
import { type QuixlabOrigin, tarballName } from "./origin.js";

export interface Tarball {
  /** `quixlab-<version>.tgz`. */
  readonly name: string;
  readonly bytes: Buffer;
}

const NPM_REMEDY = "install Node.js with npm (npm ships with Node), or install quixlab from a registry";

/** Newest modification time (ms) of the .ts/.tsx files under `dirs`, walking folders. */
function newestSource(dirs: readonly string[]): number {
  let newest = 0;
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.tsx?$/.test(e.name)) newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  for (const d of dirs) if (existsSync(d)) walk(d);
  return newest;
}

/** Whether a checkout's dist/ is missing or older than its sources. */
export function distStale(root: string): boolean {
  const marker = join(root, "dist", "cli", "main.js");
  if (!existsSync(marker) || !existsSync(join(root, "dist", "src", "index.js"))) return true;
  return newestSource([join(root, "src"), join(root, "cli")]) > statSync(marker).mtimeMs;
}

const packed = new Map<string, Promise<Tarball>>();

/**
 * Pack the running quixlab once per process (later calls share the result).
 * @example const { name, bytes } = await packQuixlab(quixlabOrigin(), { log })
 */
export function packQuixlab(origin: QuixlabOrigin, opts: { log?: Log; env?: NodeJS.ProcessEnv } = {}): Promise<Tarball> {
  let p = packed.get(origin.root);
  if (!p) {
    p = pack(origin, opts);
    packed.set(origin.root, p);
    p.catch(() => packed.delete(origin.root));
  }
  return p;
}

async function pack(origin: QuixlabOrigin, { log, env = process.env }: { log?: Log; env?: NodeJS.ProcessEnv }): Promise<Tarball> {
  const npm = requireProgram("npm", NPM_REMEDY, env);
  if (origin.kind === "checkout" && distStale(origin.root)) {
    log?.(`building quixlab's dist/ in ${origin.root} (a source is newer than the last build)`);
    const tsc = join(origin.root, "node_modules", "typescript", "bin", "tsc");
    if (!existsSync(tsc)) {
      throw new EnvironmentError(`cannot build quixlab in ${origin.root}: typescript is not installed there`, { remedy: `run 'npm ci' in ${origin.root}` });
    }
    await execOwned(process.execPath, [tsc, "-p", "tsconfig.json"], { cwd: origin.root, env, timeout: 5 * 60_000, maxBuffer: 16 * 1024 * 1024 }).catch((e) => {
      throw new EnvironmentError(`building quixlab in ${origin.root} failed: ${execFailure(e)}`, { cause: e, remedy: `run 'npm run build' in ${origin.root} and fix what it reports` });
    });
  }
  const out = mkdtempSync(join(tmpdir(), "quixlab-pack-"));
  try {
    // --ignore-scripts: dist/ is current (built above, or shipped in the install); prepack would rebuild it.
    await execOwned(npm, ["pack", origin.root, "--ignore-scripts", "--pack-destination", out, "--silent"], {
      cwd: out,
      env: { ...env, npm_config_update_notifier: "false" },
      timeout: 2 * 60_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    const name = tarballName(origin.version);
    const file = join(out, name);
    if (!existsSync(file)) throw new Error(`npm pack wrote ${readdirSync(out).join(", ") || "nothing"}, not ${name}`);
    log?.(`packed quixlab ${origin.version} (${origin.reason})`);
    return { name, bytes: readFileSync(file) };
  } catch (e) {
    throw new EnvironmentError(`packing quixlab from ${origin.root} failed: ${execFailure(e)}`, {
      cause: e,
      remedy: "check that 'npm pack' works in that folder, or install quixlab from a registry",
    });
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
