import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { ServiceError } from "../errors/index.js";
import { killAndRemove, type Log, onProcessExit, requireProgram, tailFile } from "../infra/process.js";
import { launchServer, serverStopper } from "../infra/server.js";
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
  const logFile = join(dir, "redis.log");
  // Ours until ready even when detached, so Ctrl-C during startup leaves nothing behind.
  const cancelCleanup = onProcessExit(killAndRemove(undefined, dir));
  try {
    // Ports are picked free but bound later by redis-server; on the rare clash, retry with a new one.
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const url = `redis://127.0.0.1:${port}`;
      const result = await launchServer({
        command: server,
        args: ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--daemonize", "no"],
        cwd: dir,
        env,
        detached: Boolean(opts.detached),
        logFile,
        ready: () => pingRedis(url, 500),
        what: `redis-server on ${url}`,
        timeoutMs: 30_000,
        intervalMs: 50,
        stopGraceMs: 2_000,
      });
      if (result.kind === "ready") {
        const startupMs = Date.now() - started;
        opts.log?.(`redis: ${basename(server)} (${provider}, pid ${result.pid}) ready at ${url} in ${startupMs} ms`);
        return { url, provider, startupMs, pid: result.pid, dir, stop: serverStopper(result.pid, dir, Boolean(opts.detached), 10_000) };
      }
      const logTail = tailFile(logFile, 6);
      if (attempt < 3 && /Address already in use/.test(logTail)) continue;
      throw new ServiceError(`${provider} redis-server ${result.why}${logTail ? `; last log lines: ${logTail.replace(/\n/g, " | ")}` : ""}`, {
        remedy: `see ${logFile}, or pass --redis redis://HOST:PORT for a Redis you run yourself`,
        context: { dir },
      });
    }
  } finally {
    // A failed start keeps its dir: the error points at the log in it.
    cancelCleanup();
  }
}
