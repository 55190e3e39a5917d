import { request } from "node:http";
import { ServiceError } from "../errors/index.js";

/** Where the Docker engine would answer: DOCKER_HOST (unix:// or tcp://), else the default socket. */
export function dockerEndpoint(env: NodeJS.ProcessEnv = process.env): { socketPath: string } | { host: string; port: number } {
  const host = env.DOCKER_HOST;
  if (host?.startsWith("tcp://")) {
    const url = new URL(host.replace(/^tcp:/, "http:"));
    return { host: url.hostname, port: Number(url.port || 2375) };
  }
  if (host?.startsWith("unix://")) return { socketPath: host.slice("unix://".length) };
  return { socketPath: "/var/run/docker.sock" };
}

/** Whether a Docker engine answers `GET /_ping` within `timeoutMs` (fast: no socket fails at once). */
export function dockerAvailable(env: NodeJS.ProcessEnv = process.env, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ ...dockerEndpoint(env), path: "/_ping", method: "GET", timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(false));
    req.end();
  });
}

/** A started container, how long it took, and a `stop()` that may be called more than once. */
export interface StartedContainer<C> {
  container: C;
  startupMs: number;
  stop(): Promise<void>;
}

/**
 * Start a Testcontainers container; a failure is a retriable ServiceError naming `what`, with `remedy`.
 * @example const { container, stop } = await startContainer("Redis", remedy, () => new GenericContainer("redis:7").start())
 */
export async function startContainer<C extends { stop(): Promise<unknown> }>(what: string, remedy: string, start: () => Promise<C>): Promise<StartedContainer<C>> {
  const started = Date.now();
  let container: C;
  try {
    container = await start();
  } catch (e) {
    throw new ServiceError(`starting ${what} in Docker failed: ${(e as Error).message}`, { cause: e, retriable: true, remedy });
  }
  let stopping: Promise<void> | undefined;
  return {
    container,
    startupMs: Date.now() - started,
    stop() {
      stopping ??= container.stop().then(() => undefined);
      return stopping;
    },
  };
}
