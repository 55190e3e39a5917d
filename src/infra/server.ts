/**
 * A local server process we own (Kafka's JVM, redis-server): started with its output in a log file, watched
 * until it answers, and stopped with its temp dir removed. Nothing is left behind when this process ends first.
 */
import { spawn } from "node:child_process";
import { closeSync, openSync, rmSync } from "node:fs";
import { waitFor } from "../util/net.js";
import { killAndRemove, onProcessExit, pidAlive, stopPid } from "./process.js";

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
 * The `stop()` of a ready server: SIGTERM (SIGKILL after `graceMs`), then remove `dir`; calling it again
 * returns the same promise. Unless `detached`, the server is also killed and `dir` removed when this process exits.
 */
export function serverStopper(pid: number, dir: string, detached: boolean, graceMs: number): () => Promise<void> {
  const cancel = detached ? () => false : onProcessExit(killAndRemove(pid, dir));
  let stopping: Promise<void> | undefined;
  return () => {
    stopping ??= (async () => {
      if (pidAlive(pid)) await stopPid(pid, graceMs);
      rmSync(dir, { recursive: true, force: true });
      cancel();
    })();
    return stopping;
  };
}
