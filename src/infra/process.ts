import { type ExecFileOptions, execFile } from "node:child_process";
import { accessSync, constants, existsSync, readFileSync, rmSync } from "node:fs";
import { delimiter, join } from "node:path";
import { EnvironmentError } from "../errors/index.js";

/** A line of progress for the operator; providers report what they chose and how long it took. */
export type Log = (line: string) => void;

/** Absolute path of `program` on `env.PATH`, or undefined. */
export function which(program: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, program);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

/** `which`, or an EnvironmentError whose remedy says what to install. */
export function requireProgram(program: string, remedy: string, env: NodeJS.ProcessEnv = process.env): string {
  const found = which(program, env);
  if (!found) throw new EnvironmentError(`'${program}' is not on PATH`, { remedy, context: { program } });
  return found;
}

/**
 * True while `pid` runs. A zombie (exited, not yet reaped by its new parent) counts as gone: detached services
 * are re-parented to init when the CLI that started them exits, and init may reap them seconds later.
 */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Field 3, after the parenthesised command name (which may itself contain spaces or parentheses).
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return !existsSync("/proc/self/stat");
  }
}

/**
 * Whether `pid` still runs the program we started (its command line contains `needle`), so a recorded pid
 * that the OS has since given to another process is never signalled. Without /proc we trust the pid.
 */
export function pidRuns(pid: number, needle: string): boolean {
  if (!pidAlive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(needle);
  } catch {
    return !existsSync("/proc/self/cmdline");
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

async function gone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (pidAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

/** SIGTERM `pid`, wait up to `graceMs` for it to exit, then SIGKILL. Resolves once it is gone. */
export async function stopPid(pid: number, graceMs = 15_000): Promise<void> {
  if (!pidAlive(pid)) return;
  signal(pid, "SIGTERM");
  if (await gone(pid, graceMs)) return;
  await killPid(pid);
}

/** SIGKILL `pid` (a crash: no chance to clean up) and resolve once it is gone. */
export async function killPid(pid: number): Promise<void> {
  if (!pidAlive(pid)) return;
  signal(pid, "SIGKILL");
  if (!(await gone(pid, 5_000))) {
    throw new EnvironmentError(`process ${pid} did not exit after SIGKILL`, { remedy: `check it with 'ps -p ${pid}'` });
  }
}

/** Last `lines` lines of a log file, for error messages about a service that failed to start. */
export function tailFile(file: string, lines = 20): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

/** A cleanup returns the pid it killed, if any, so a signal handler can wait for it to be reaped. */
type Cleanup = () => number | undefined;

const cleanups = new Set<Cleanup>();
let hooked = false;
let ending = false;

function runCleanups(): number[] {
  const killed: number[] = [];
  // Last registered first, like deferred calls: a child is killed before the dir it writes to is removed.
  for (const fn of [...cleanups].reverse()) {
    try {
      const pid = fn();
      if (typeof pid === "number") killed.push(pid);
    } catch {
      // best effort while exiting
    }
  }
  cleanups.clear();
  return killed;
}

/** Resolves once none of `pids` exists any more (our children are reaped by libuv), or after `timeoutMs`. */
async function reaped(pids: number[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const exists = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === "EPERM";
    }
  };
  while (pids.some(exists) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

function onSignal(sig: NodeJS.Signals): void {
  // Another listener (a command finishing gracefully) owns the signal: it will exit, and `exit` cleans up then.
  if (process.listenerCount(sig) > 1 || ending) return;
  ending = true;
  // Wait for the killed children to be reaped before dying, so no zombie is left for init to collect.
  void reaped(runCleanups(), 2_000).then(() => {
    process.off(sig, onSignal);
    process.kill(process.pid, sig);
  });
}

/**
 * Run `fn` (synchronous: it runs inside `exit`) when this process exits or is ended by SIGINT/SIGTERM/SIGHUP,
 * so a broker or Redis we started never outlives us. Returns a function that cancels it.
 */
export function onProcessExit(fn: Cleanup): () => void {
  if (!hooked) {
    hooked = true;
    process.on("exit", runCleanups);
    for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(sig, onSignal);
  }
  cleanups.add(fn);
  return () => cleanups.delete(fn);
}

/** The exit-time cleanup for a child we own: SIGKILL it (there is no time to wait) and remove its dir. */
export function killAndRemove(pid: number | undefined, dir: string | undefined): Cleanup {
  return () => {
    if (pid !== undefined) signal(pid, "SIGKILL");
    if (dir) rmSync(dir, { recursive: true, force: true });
    return pid;
  };
}

/**
 * execFile that is killed if this process exits or is signalled first (a Ctrl-C during `mvn` or the storage
 * format must not leave them running). Rejects like execFile, with `stdout`/`stderr` on the error.
 */
export function execOwned(file: string, args: string[], opts: ExecFileOptions): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { ...opts, encoding: "utf8" }, (error, stdout, stderr) => {
      cancel();
      if (error) reject(Object.assign(error, { stdout, stderr }));
      else resolve({ stdout, stderr });
    });
    const cancel = onProcessExit(killAndRemove(child.pid, undefined));
  });
}

/** One line saying why an `execOwned` child failed: its last output lines, else its exit code or signal. */
export function execFailure(e: unknown, lines = 5): string {
  const r = e as { stdout?: string; stderr?: string; code?: number | string; signal?: string | null; message?: string };
  const output = `${r.stdout ?? ""}\n${r.stderr ?? ""}`
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-lines)
    .join(" | ");
  if (output) return output;
  if (r.signal) return `it was killed by ${r.signal}`;
  if (typeof r.code === "number") return `it exited with code ${r.code}`;
  return (r.message ?? String(e)).split("\n")[0]!;
}
