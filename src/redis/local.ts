import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { ServiceError } from "../errors/index.js";
import { killAndRemove, type Log, onProcessExit, requireProgram, tailFile } from "../infra/process.js";
import { type LaunchOptions, launchServer, relaunchServer, serverStopper } from "../infra/server.js";
import { freePort } from "../util/net.js";
import type { RedisHandle } from "./types.js";
import { pingRedis } from "./ping.js";

export const REDIS_REMEDY = "install Redis (apt-get install -y redis-server)";

export interface LocalRedisOptions {
  log?: Log;
  env?: NodeJS.ProcessEnv;
  /** Leave it running after this process exits (`quixlab services up`). */
  detached?: boolean;
  /** The redis-server binary to run (the embedded one); default `redis-server` from PATH. */
  server?: string;
  /** The provider the handle reports: `local` (default) or `embedded`. */
  provider?: "local" | "embedded";
}

const STOP_GRACE_MS = 10_000;
const redisUrl = (port: number) => `redis://127.0.0.1:${port}`;
const logFileOf = (dir: string) => join(dir, "redis.log");

/** How a redis-server of ours runs: loopback on `port`, persistence off, in `dir`; ready once PING answers. */
function redisLaunch(server: string, dir: string, port: number, env: NodeJS.ProcessEnv, detached: boolean): LaunchOptions {
  const url = redisUrl(port);
  return {
    command: server,
    args: ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--daemonize", "no"],
    cwd: dir,
    env,
    detached,
    logFile: logFileOf(dir),
    ready: () => pingRedis(url, 500),
    what: `redis-server on ${url}`,
    timeoutMs: 30_000,
    intervalMs: 50,
    stopGraceMs: 2_000,
  };
}

const portTaken = (dir: string) => () => /Address already in use/.test(tailFile(logFileOf(dir), 6));

function launchFailed(provider: string, dir: string, why: string): ServiceError {
  const tail = tailFile(logFileOf(dir), 6);
  return new ServiceError(`${provider} redis-server ${why}${tail ? `; last log lines: ${tail.replace(/\n/g, " | ")}` : ""}`, {
    remedy: `see ${logFileOf(dir)}, or pass --redis redis://HOST:PORT for a Redis you run yourself`,
    context: { dir },
  });
}

/**
 * Start a redis-server (from PATH, or `server`) on a free loopback port, persistence off, ready once PING answers.
 * Example: `const redis = await startLocalRedis(); new Redis(redis.url!); ...; await redis.stop()`.
 */
export async function startLocalRedis(opts: LocalRedisOptions = {}): Promise<RedisHandle> {
  const env = opts.env ?? process.env;
  const provider = opts.provider ?? "local";
  const started = Date.now();
  const server = opts.server ?? requireProgram("redis-server", REDIS_REMEDY, env);
  const dir = mkdtempSync(join(tmpdir(), "quixlab-redis-"));
  // Ours until ready even when detached, so Ctrl-C during startup leaves nothing behind.
  const cancelCleanup = onProcessExit(killAndRemove(undefined, dir));
  try {
    // Ports are picked free but bound later by redis-server; on the rare clash, retry with a new one.
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const url = redisUrl(port);
      const result = await launchServer(redisLaunch(server, dir, port, env, Boolean(opts.detached)));
      if (result.kind === "ready") {
        const startupMs = Date.now() - started;
        opts.log?.(`redis: ${basename(server)} (${provider}, pid ${result.pid}) ready at ${url} in ${startupMs} ms`);
        return { url, provider, startupMs, pid: result.pid, dir, stop: serverStopper(result.pid, dir, Boolean(opts.detached), STOP_GRACE_MS) };
      }
      if (attempt < 3 && portTaken(dir)()) continue;
      throw launchFailed(provider, dir, result.why);
    }
  } finally {
    // A failed start keeps its dir: the error points at the log in it.
    cancelCleanup();
  }
}

export interface RestartLocalRedisOptions {
  /** The redis-server binary (from PATH, or the embedded one). */
  server: string;
  /** Its dir and URL, as `startLocalRedis` made them (or `services up` recorded them). */
  dir: string;
  url: string;
  /** Its process, when known to be ours and maybe still running: ended with SIGTERM first. */
  previous?: number;
  provider?: "local" | "embedded";
  env?: NodeJS.ProcessEnv;
  log?: Log;
  detached?: boolean;
}

/**
 * Start a redis-server of ours again on the same port and dir. It runs without persistence: its data does not
 * survive, only its address does. Resolves with the new pid once PING answers.
 */
export async function restartLocalRedis(o: RestartLocalRedisOptions): Promise<{ pid: number; startupMs: number }> {
  const started = Date.now();
  const provider = o.provider ?? "local";
  const port = Number(new URL(o.url).port);
  const launch = redisLaunch(o.server, o.dir, port, o.env ?? process.env, Boolean(o.detached));
  const result = await relaunchServer(o.previous, launch, { portTaken: portTaken(o.dir), graceMs: STOP_GRACE_MS });
  if (result.kind !== "ready") throw launchFailed(provider, o.dir, result.why);
  const startupMs = Date.now() - started;
  o.log?.(`redis: ${basename(o.server)} (${provider}, pid ${result.pid}) restarted at ${o.url} in ${startupMs} ms`);
  return { pid: result.pid, startupMs };
}
