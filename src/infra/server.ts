/**
 * A local server process we own (Kafka's JVM, redis-server): started with its output in a log file, watched
 * until it answers, and stopped with its temp dir removed. Nothing is left behind when this process ends first.
 */
import { spawn } from "node:child_process";
import { closeSync, openSync, rmSync } from "node:fs";
import { ServiceError } from "../errors/index.js";
import { waitFor } from "../util/net.js";
import { killAndRemove, killPid, onProcessExit, pidAlive, stopPid } from "./process.js";

export interface LaunchOptions {
  command: string;
  args: readonly string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Its own process group, so it can outlive this process once ready. */
  detached: boolean;
  /** Its stdout and stderr are appended here. */
  logFile: string;
  /** Resolves true once the server answers (a ping on its port). */
  ready: () => Promise<boolean>;
  /** What is awaited, for the timeout message (e.g. `redis-server on redis://127.0.0.1:6380`). */
  what: string;
  timeoutMs: number;
  intervalMs: number;
  /** How long a server that never became ready gets to exit on SIGTERM before SIGKILL. */
  stopGraceMs: number;
}

/** A started server's pid, or one line saying why it did not start (it is then stopped). */
export type Launch = { kind: "ready"; pid: number } | { kind: "failed"; why: string };

/** Spawn a server and wait until `ready()` answers, it exits, or `timeoutMs` passes. */
export async function launchServer(o: LaunchOptions): Promise<Launch> {
  const out = openSync(o.logFile, "a");
  const child = spawn(o.command, o.args, { cwd: o.cwd, env: o.env, detached: o.detached, stdio: ["ignore", out, out] });
  closeSync(out);
  // Never keep our event loop alive for the server: its stop() or the exit hook ends it.
  child.unref();
  let exited: string | undefined;
  child.once("exit", (code, sig) => {
    exited = `exited during startup (${sig ?? `code ${code}`})`;
  });
  child.once("error", (e) => {
    exited = `could not be started: ${e.message}`;
  });
  // Ours until ready even when detached: Ctrl-C during startup must not leave it running.
  const cancelKill = onProcessExit(killAndRemove(child.pid, undefined));
  try {
    const outcome = await waitFor(async () => exited ?? ((await o.ready()) && "ready"), {
      timeoutMs: o.timeoutMs,
      intervalMs: o.intervalMs,
      what: o.what,
    }).catch((e: Error) => e.message);
    if (outcome === "ready") return { kind: "ready", pid: child.pid! };
    if (!exited && child.pid !== undefined) await stopPid(child.pid, o.stopGraceMs);
    return { kind: "failed", why: outcome };
  } finally {
    cancelKill();
  }
}

/**
 * Start a server again in place of `previous` (the same command in the same dir: the same ports and data), after
 * a SIGTERM (SIGKILL after `graceMs`) when it still runs. `previous` must be known to be ours (see `pidRuns`).
 * A port the old process held may take a moment to be free again: while `portTaken()` says the launch failed on
 * that, it is retried, up to `attempts` times.
 */
export async function relaunchServer(
  previous: number | undefined,
  o: LaunchOptions,
  { portTaken, graceMs, attempts = 20, delayMs = 500 }: { portTaken: () => boolean; graceMs: number; attempts?: number; delayMs?: number },
): Promise<Launch> {
  if (previous !== undefined && pidAlive(previous)) await stopPid(previous, graceMs);
  for (let attempt = 1; ; attempt++) {
    const result = await launchServer(o);
    if (result.kind === "ready" || attempt >= attempts || !portTaken()) return result;
    await new Promise((r) => setTimeout(r, delayMs));
  }
}

/**
 * A ready server we own, whose process may be ended and started again in place (`relaunchServer`); `pid` follows
 * the current process. Unless `detached`, whichever process runs is killed and `dir` removed when this process exits.
 */
export interface OwnedServer {
  readonly pid: number;
  /** End the process, SIGKILL by default (a crash), and resolve once it is gone; `dir` stays for `restart`. */
  kill(signal?: "SIGKILL" | "SIGTERM"): Promise<void>;
  /** `relaunchServer` in place of the current process; when ready, `pid` is the new one. */
  restart(o: LaunchOptions, portTaken: () => boolean): Promise<Launch>;
  /** SIGTERM (SIGKILL after the grace), then remove `dir`; calling it again returns the same promise. */
  stop(): Promise<void>;
}

/** Take charge of a server `launchServer` made ready (see `OwnedServer`). */
export function ownServer(pid: number, dir: string, detached: boolean, graceMs: number): OwnedServer {
  let current = pid;
  const cancel = detached ? () => false : onProcessExit(() => killAndRemove(current, dir)());
  let stopping: Promise<void> | undefined;
  const refuseStopped = () => {
    if (stopping) throw new ServiceError(`the server in ${dir} was stopped, and its dir removed`, { remedy: "start a new one" });
  };
  return {
    get pid() {
      return current;
    },
    async kill(signal = "SIGKILL") {
      refuseStopped();
      await (signal === "SIGKILL" ? killPid(current) : stopPid(current, graceMs));
    },
    async restart(o, portTaken) {
      refuseStopped();
      const result = await relaunchServer(current, o, { portTaken, graceMs });
      if (result.kind === "ready") current = result.pid;
      return result;
    },
    stop() {
      stopping ??= (async () => {
        if (pidAlive(current)) await stopPid(current, graceMs);
        rmSync(dir, { recursive: true, force: true });
        cancel();
      })();
      return stopping;
    },
  };
}

/**
 * The `stop()` of a ready server: SIGTERM (SIGKILL after `graceMs`), then remove `dir`; calling it again
 * returns the same promise. Unless `detached`, the server is also killed and `dir` removed when this process exits.
 */
export function serverStopper(pid: number, dir: string, detached: boolean, graceMs: number): () => Promise<void> {
  return ownServer(pid, dir, detached, graceMs).stop;
}
