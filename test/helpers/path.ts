/** PATH variants for tests that play a machine without some program. */
import { existsSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";

/**
 * A PATH of one new directory under `parent` holding a symlink to every program on the real PATH except those
 * whose name starts with one of `prefixes`: /usr/bin holds redis-server beside java and what Maven's launcher
 * script runs, so dropping whole directories will not do.
 * @example env.PATH = pathWithout(scratch, ["redis-"])
 */
export function pathWithout(parent: string, prefixes: readonly string[]): string {
  const dir = mkdtempSync(join(parent, "bin-"));
  for (const from of (process.env.PATH ?? "").split(delimiter)) {
    let names: string[];
    try {
      names = readdirSync(from);
    } catch {
      continue;
    }
    for (const name of names) {
      if (prefixes.some((p) => name.startsWith(p)) || existsSync(join(dir, name))) continue;
      symlinkSync(join(from, name), join(dir, name));
    }
  }
  return dir;
}

/**
 * A PATH whose `mvn` is a shell script running `body` (found before the real one; the rest is the system's),
 * in a new directory under `parent`. `prelude` runs first (e.g. to pick the arguments apart).
 */
export function fakeMvn(parent: string, body: string, prelude = ""): string {
  const dir = mkdtempSync(join(parent, "bin-"));
  writeFileSync(join(dir, "mvn"), `#!/bin/sh\n${prelude ? `${prelude}\n` : ""}${body}\n`, { mode: 0o755 });
  return `${dir}:/usr/bin:/bin`;
}

/** Run `fn` with QUIXLAB_CACHE pointing at a fresh empty cache under `parent`, then put the variable back. */
export async function withCache(parent: string, fn: (cache: string) => Promise<void>): Promise<void> {
  const cache = mkdtempSync(join(parent, "cache-"));
  const before = process.env.QUIXLAB_CACHE;
  process.env.QUIXLAB_CACHE = cache;
  try {
    await fn(cache);
  } finally {
    if (before === undefined) delete process.env.QUIXLAB_CACHE;
    else process.env.QUIXLAB_CACHE = before;
  }
}
