import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The quixlab package root: a checkout (src/ under tsx, or dist/src/ after a build) or an installed package
 * (dist/ only, see package.json's "files"); both hold package.json and templates/.
 */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, "package.json")) && existsSync(join(dir, "templates", "app"))) return dir;
    dir = dirname(dir);
  }
  throw new Error("quixlab: cannot find the package root from " + fileURLToPath(import.meta.url));
}

/** Per-user cache (jars, downloads): $QUIXLAB_CACHE, else $XDG_CACHE_HOME/quixlab, else ~/.cache/quixlab. */
export function cacheDir(): string {
  if (process.env.QUIXLAB_CACHE) return resolve(process.env.QUIXLAB_CACHE);
  const base = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(base, "quixlab");
}

/** Per-project state (services started in the background, pipeline pids): <cwd>/.quixlab. */
export function stateDir(cwd: string = process.cwd()): string {
  return join(cwd, ".quixlab");
}
