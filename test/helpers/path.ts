/** PATH variants for tests that play a machine without some program. */
import { existsSync, mkdtempSync, readdirSync, symlinkSync } from "node:fs";
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
