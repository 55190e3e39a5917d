import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { EnvironmentError } from "../errors/index.js";
import { killAndRemove, onProcessExit, pidAlive } from "./process.js";

/**
 * Run `fn` while holding a lock directory at `path` (mkdir is atomic), so two processes never fetch the same
 * jars or start the same services at once. A lock left by a process that died is taken over.
 */
export async function withLock<T>(path: string, fn: () => Promise<T>, { timeoutMs = 600_000 } = {}): Promise<T> {
  mkdirSync(dirname(path), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(path);
      writeFileSync(join(path, "pid"), String(process.pid));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      if (!holderAlive(path)) {
        rmSync(path, { recursive: true, force: true });
        continue;
      }
      if (Date.now() >= deadline) {
        throw new EnvironmentError(`timed out waiting for the lock ${path}`, {
          remedy: `another quixlab process holds it; wait for it, or remove ${path} if no quixlab process is running`,
        });
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  // Released on exit too, so a Ctrl-C does not leave a lock for the next run to take over.
  const cancel = onProcessExit(killAndRemove(undefined, path));
  try {
    return await fn();
  } finally {
    cancel();
    rmSync(path, { recursive: true, force: true });
  }
}

function holderAlive(path: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(join(path, "pid"), "utf8"));
  } catch {
    // The holder made the directory but has not written its pid yet, unless it died in between long ago.
    try {
      return Date.now() - statSync(path).mtimeMs < 10_000;
    } catch {
      return false;
    }
  }
  return Number.isInteger(pid) && pid > 0 && pidAlive(pid);
}
