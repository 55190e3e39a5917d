import { spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ServiceError } from "../errors/index.js";
import { killAndRemove, type Log, onProcessExit, pidAlive, requireProgram, stopPid, tailFile } from "../services/process.js";
import { freePort, waitFor } from "../util/net.js";
import type { RedisHandle } from "./provider.js";
import { pingRedis } from "./redis-ping.js";

export const REDIS_REMEDY = "install Redis (apt-get install -y redis-server)";

export interface LocalRedisOptions {
  log?: Log;
  env?: NodeJS.ProcessEnv;
  /** Leave it running after this process exits (`quixlab services up`). */
  detached?: boolean;
}

/** Start `redis-server` from PATH on a free loopback port, persistence off, ready once PING answers. */
export async function startLocalRedis(opts: LocalRedisOptions = {}): Promise<RedisHandle> {
  const env = opts.env ?? process.env;
  const started = Date.now();
  const server = requireProgram("redis-server", REDIS_REMEDY, env);
  const dir = mkdtempSync(join(tmpdir(), "quixlab-redis-"));
  const logFile = join(dir, "redis.log");
  // Ports are picked free but bound later by redis-server; on the rare clash, retry with a new one.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const out = openSync(logFile, "a");
    const child = spawn(
      server,
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--daemonize", "no"],
      { cwd: dir, env, detached: Boolean(opts.detached), stdio: ["ignore", out, out] },
    );
    closeSync(out);
    child.unref();
    // Ours until ready even when detached, so Ctrl-C during startup leaves nothing behind.
    const cancel = onProcessExit(killAndRemove(child.pid, dir));
    let exited: string | undefined;
    child.once("exit", (code, sig) => {
      exited = `exited during startup (${sig ?? `code ${code}`})`;
    });
    child.once("error", (e) => {
      exited = `could not be started: ${e.message}`;
    });
    const url = `redis://127.0.0.1:${port}`;
    const outcome = await waitFor(async () => exited ?? ((await pingRedis(url, 500)) && "ready"), {
      timeoutMs: 30_000,
      intervalMs: 50,
      what: `redis-server on ${url}`,
    }).catch((e: Error) => e.message);
    if (outcome === "ready") {
      if (opts.detached) cancel();
      const pid = child.pid!;
      const startupMs = Date.now() - started;
      opts.log?.(`redis: redis-server (local, pid ${pid}) ready at ${url} in ${startupMs} ms`);
      let stopping: Promise<void> | undefined;
      return {
        url,
        provider: "local",
        startupMs,
        pid,
        dir,
        stop() {
          stopping ??= (async () => {
            if (pidAlive(pid)) await stopPid(pid, 10_000);
            rmSync(dir, { recursive: true, force: true });
            cancel();
          })();
          return stopping;
        },
      };
    }
    if (child.pid !== undefined) await stopPid(child.pid, 2_000);
    cancel();
    const logTail = tailFile(logFile, 6);
    if (attempt < 3 && /Address already in use/.test(logTail)) continue;
    throw new ServiceError(`local redis-server ${outcome}${logTail ? `; last log lines: ${logTail.replace(/\n/g, " | ")}` : ""}`, {
      remedy: `see ${logFile}, or pass --redis redis://HOST:PORT for a Redis you run yourself`,
      context: { dir },
    });
  }
}
