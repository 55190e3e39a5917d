import { execFileSync } from "node:child_process";
import { request } from "node:http";
import { ServiceError } from "../errors/index.js";
import { type Log, onProcessExit, which } from "./process.js";

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
export async function dockerAvailable(env: NodeJS.ProcessEnv = process.env, timeoutMs = 1_000): Promise<boolean> {
  try {
    return (await dockerApi("GET", "/_ping", { env, timeoutMs })).status === 200;
  } catch {
    return false;
  }
}

/**
 * One call to the Engine API; resolves with the status and the whole body (a pull's progress stream too).
 * `timeoutMs` bounds each wait for the socket, not the whole call: a pull that keeps reporting progress runs on.
 */
export function dockerApi(method: "GET" | "POST" | "DELETE", path: string, { env = process.env, timeoutMs = 5_000 } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ ...dockerEndpoint(env), path, method, timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`the Docker engine did not answer ${method} ${path} within ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end();
  });
}

/** The engine's own sentence for a failed call: `{"message": ...}`, or the last `{"error": ...}` of a stream. */
function engineMessage(body: string): string | undefined {
  let message: string | undefined;
  for (const line of body.split("\n")) {
    try {
      const v = JSON.parse(line) as { message?: string; error?: string };
      message = v.error ?? v.message ?? message;
    } catch {
      // progress lines only
    }
  }
  return message;
}

/** Whether the engine holds `image` (`docker image inspect`: GET /images/<name>/json). */
export async function dockerImageExists(image: string, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  return (await dockerApi("GET", `/images/${image}/json`, { env })).status === 200;
}

/**
 * Pull `image` (`docker pull`: POST /images/create); rejects with the engine's sentence when it cannot, e.g. no
 * registry is reachable (that fails within a second: the registry's name does not resolve).
 */
export async function pullDockerImage(image: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const at = image.lastIndexOf(":");
  const [name, tag] = at > image.lastIndexOf("/") ? [image.slice(0, at), image.slice(at + 1)] : [image, "latest"];
  const query = `fromImage=${encodeURIComponent(name)}&tag=${encodeURIComponent(tag)}`;
  const { status, body } = await dockerApi("POST", `/images/create?${query}`, { env, timeoutMs: 60_000 });
  // The engine answers 200 as soon as the pull starts; a failure on the way is the stream's last `error`.
  const failed = status !== 200 ? (engineMessage(body) ?? `HTTP ${status}`) : /"error"/.test(body) ? engineMessage(body) : undefined;
  if (failed !== undefined) throw new Error(failed);
}

/**
 * The image Testcontainers starts before any other (its Ryuk reaper) unless TESTCONTAINERS_RYUK_DISABLED=true;
 * RYUK_CONTAINER_IMAGE overrides it, as in Testcontainers. Keep in step with the testcontainers package.
 */
export function ryukImage(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.TESTCONTAINERS_RYUK_DISABLED === "true") return undefined;
  return env.RYUK_CONTAINER_IMAGE || "testcontainers/ryuk:0.14.0";
}

/** An image the engine can run now, or the reason there is none. */
export type ImageChoice = { image: string; why?: undefined } | { image?: undefined; why: string };

/**
 * The first of `candidates` the engine holds, else the first it can pull; `why` not, when none. Also checks
 * the Ryuk image Testcontainers needs first (see `ryukImage`). Nothing is pulled when a candidate is present.
 * @example const { image, why } = await findContainerImage([KAFKA_IMAGE, KAFKA_LOCAL_IMAGE], { log })
 */
export async function findContainerImage(candidates: string[], { env = process.env, log }: { env?: NodeJS.ProcessEnv; log?: Log } = {}): Promise<ImageChoice> {
  const obtain = async (images: string[]): Promise<ImageChoice> => {
    for (const image of images) if (await dockerImageExists(image, env)) return { image };
    const errors: string[] = [];
    for (const image of images) {
      try {
        log?.(`docker: ${image} is not in the engine; trying to pull it`);
        await pullDockerImage(image, env);
        return { image };
      } catch (e) {
        errors.push(`${image}: ${(e as Error).message}`);
      }
    }
    const missing = images.length === 1 ? `no ${images[0]} and cannot pull it` : `none of ${images.join(", ")} and cannot pull any`;
    return { why: `the Docker engine has ${missing} (${errors.join("; ")})` };
  };
  const ryuk = ryukImage(env);
  if (ryuk) {
    const reaper = await obtain([ryuk]);
    if (reaper.why) return { why: `${reaper.why}; Testcontainers starts it first unless TESTCONTAINERS_RYUK_DISABLED=true` };
  }
  return obtain(candidates);
}

/**
 * `findContainerImage`, or a ServiceError (as a failed start is) saying why the engine cannot run `what`.
 * @example const image = await requireContainerImage("Redis", ["redis:7", "quixlab/redis:7-local"], remedy)
 */
export async function requireContainerImage(what: string, candidates: string[], remedy: string, opts: { env?: NodeJS.ProcessEnv; log?: Log } = {}): Promise<string> {
  const { image, why } = await findContainerImage(candidates, opts);
  if (image) return image;
  throw new ServiceError(`the Docker engine cannot run ${what}: ${why}`, { remedy, context: { images: candidates.join(",") } });
}

/**
 * Testcontainers' file locks (proper-lockfile) install signal-exit's SIGINT/SIGTERM/SIGHUP listeners for good.
 * Those act only when they are a signal's sole listeners, and `onProcessExit`'s stands aside when there are
 * others (a command that finishes gracefully): together, nobody acts and Ctrl-C is ignored, leaving containers
 * and step processes running. Removing them hands the signal back to `onProcessExit` (or a command's own
 * handler); proper-lockfile then does not release its locks on a signal, which it treats as stale after 10 s.
 */
function dropPassiveSignalListeners(): void {
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    for (const fn of process.listeners(sig)) {
      if (fn.name === "listener" && String(fn).includes("emitter.count")) process.off(sig, fn);
    }
  }
}

/** A started container, how long it took, and a `stop()` that may be called more than once. */
export interface StartedContainer<C> {
  container: C;
  startupMs: number;
  stop(): Promise<void>;
}

/**
 * Start a Testcontainers container; a failure is a retriable ServiceError naming `what`, with `remedy`.
 * `stop()` stops and removes the container and its anonymous volumes; so does this process's exit, since
 * without Ryuk (TESTCONTAINERS_RYUK_DISABLED=true) nothing else would.
 * @example const { container, stop } = await startContainer("Redis", remedy, () => new GenericContainer("redis:7").start())
 */
export async function startContainer<C extends { stop(): Promise<unknown>; getId(): string }>(what: string, remedy: string, start: () => Promise<C>): Promise<StartedContainer<C>> {
  const started = Date.now();
  let container: C;
  dropPassiveSignalListeners();
  try {
    container = await start();
  } catch (e) {
    throw new ServiceError(`starting ${what} in Docker failed: ${(e as Error).message}`, { cause: e, retriable: true, remedy });
  } finally {
    dropPassiveSignalListeners();
  }
  const id = container.getId();
  const docker = which("docker");
  // Exit hooks run synchronously: the docker CLI, when there is one, is the only way to remove it in time.
  const cancelCleanup = docker
    ? onProcessExit(() => {
        execFileSync(docker, ["rm", "--force", "--volumes", id], { stdio: "ignore", timeout: 10_000 });
        return undefined;
      })
    : () => undefined;
  let stopping: Promise<void> | undefined;
  return {
    container,
    startupMs: Date.now() - started,
    stop() {
      stopping ??= container.stop().then(() => {
        cancelCleanup();
      });
      return stopping;
    },
  };
}

/**
 * Whether the optional package `name` (testcontainers, @testcontainers/kafka) resolves from quixlab: a deployed
 * step installs quixlab without its optional peers, and `auto` must then not choose a provider it cannot load.
 */
export function packageInstalled(name: string): boolean {
  try {
    import.meta.resolve(name);
    return true;
  } catch {
    return false;
  }
}
