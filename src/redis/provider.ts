import { EnvironmentError, InputError } from "../errors/index.js";
import { dockerAvailable, findContainerImage, packageInstalled, requireContainerImage, startContainer } from "../infra/docker.js";
import { type Log, which } from "../infra/process.js";
import { readServices } from "../services/state.js";
import { EMBEDDED_REDIS_SOURCE, ensureEmbeddedRedis, requireEmbeddedRedis } from "./embedded.js";
import { REDIS_REMEDY, startLocalRedis } from "./local.js";
import { pingRedis } from "./ping.js";
import type { RedisHandle, RedisProvider, StartRedisOptions } from "./types.js";

export { pingRedis } from "./ping.js";
export { REDIS_REMEDY } from "./local.js";
export type { RedisHandle, RedisProvider, StartRedisOptions } from "./types.js";
export {
  EMBEDDED_REDIS_SOURCE,
  EMBEDDED_REDIS_VERSION,
  embeddedRedisBinary,
  embeddedRedisCached,
  embeddedRedisPath,
  embeddedRedisSupported,
  ensureEmbeddedRedis,
} from "./embedded.js";

export interface RedisChoice {
  provider: RedisProvider;
  reason: string;
  url?: string;
}

export interface RedisSelectionInput {
  flag?: string;
  url?: string;
  env?: { REDIS_URL?: string | undefined };
  dockerAvailable: boolean;
  /** Whether `redis-server` is on PATH (`local` needs it; `auto` falls back to `embedded` without it). */
  redisServerOnPath: boolean;
  /** URL of a Redis recorded by `quixlab services up` that answered just now. */
  running?: string;
}

/** The Redis to run ourselves when Docker is not used: `local` (redis-server from PATH), else `embedded`. */
export function ownRedisProvider(redisServerOnPath: boolean): RedisChoice & { provider: "local" | "embedded" } {
  return redisServerOnPath
    ? { provider: "local", reason: "redis-server is on PATH" }
    : { provider: "embedded", reason: `no redis-server on PATH; ${EMBEDDED_REDIS_SOURCE}` };
}

/** Check a Redis URL's shape (redis:// or rediss://, with a host); `source` names the flag or variable. */
export function parseRedisUrl(text: string, source = "--redis"): string {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (!url || !/^rediss?:$/.test(url.protocol) || !url.hostname) {
    throw new InputError(`bad Redis URL '${text}' in ${source}`, {
      remedy: "write redis://HOST:PORT[/DB], e.g. redis://127.0.0.1:6379",
      context: { field: source },
    });
  }
  return text;
}

/**
 * Decide which Redis to use, purely from the inputs. `auto` prefers a URL given or `REDIS_URL`, then a Redis
 * left running by `quixlab services up`, then Testcontainers when Docker answers, then `redis-server` from PATH,
 * then the embedded redis-server from Maven Central.
 */
export function chooseRedisProvider(input: RedisSelectionInput): RedisChoice {
  const flag = input.flag ?? "auto";
  const url = input.url || undefined;
  const envUrl = input.env?.REDIS_URL || undefined;
  if (flag.includes("://")) return { provider: "url", reason: "a URL was given", url: parseRedisUrl(flag) };
  switch (flag) {
    case "none":
      return { provider: "none", reason: "asked for no online store" };
    case "local":
      if (!input.redisServerOnPath) {
        throw new EnvironmentError("'redis-server' is not on PATH", {
          remedy: `${REDIS_REMEDY}, or use --redis embedded (a redis-server from Maven Central)`,
          context: { program: "redis-server" },
        });
      }
      return { provider: "local", reason: "asked for the local provider" };
    case "embedded":
      return { provider: "embedded", reason: `asked for the embedded provider; ${EMBEDDED_REDIS_SOURCE}` };
    case "testcontainers":
      if (!input.dockerAvailable) {
        throw new EnvironmentError("the testcontainers provider needs a Docker engine, and none answered", {
          remedy: "start Docker (or set DOCKER_HOST), or use --redis local or embedded",
        });
      }
      return { provider: "testcontainers", reason: "asked for the testcontainers provider" };
    case "url":
      if (url) return { provider: "url", reason: "asked for the url provider", url: parseRedisUrl(url, "url") };
      if (envUrl) return { provider: "url", reason: "REDIS_URL is set", url: parseRedisUrl(envUrl, "REDIS_URL") };
      throw new InputError("the url provider needs a Redis URL, and none was given", {
        remedy: "pass --redis redis://HOST:PORT or set REDIS_URL",
      });
    case "auto":
      if (url) return { provider: "url", reason: "a URL was given", url: parseRedisUrl(url, "url") };
      if (envUrl) return { provider: "url", reason: "REDIS_URL is set", url: parseRedisUrl(envUrl, "REDIS_URL") };
      if (input.running) return { provider: "url", reason: "reusing the Redis started by 'quixlab services up'", url: input.running };
      if (input.dockerAvailable) return { provider: "testcontainers", reason: "a Docker engine answered" };
      if (input.redisServerOnPath) return { provider: "local", reason: "no URL, no REDIS_URL and no Docker engine" };
      return ownRedisProvider(false);
    default:
      throw new InputError(`unknown Redis provider '${flag}'`, {
        remedy: "use --redis auto, local, embedded, testcontainers, none, or redis://HOST:PORT",
        context: { field: "--redis" },
      });
  }
}

/** The Redis recorded by `quixlab services up` under `cwd` if it answers PING right now. */
export async function runningRedis(cwd: string): Promise<string | undefined> {
  const url = readServices(cwd)?.redis?.url;
  return url && (await pingRedis(url, 1_000)) ? url : undefined;
}

/**
 * Get a Redis ready for use, reporting the choice through `log`.
 * Example: `const redis = await startRedis({ provider: "auto" }); new Redis(redis.url!); ...; await redis.stop()`.
 */
export async function startRedis(opts: StartRedisOptions = {}): Promise<RedisHandle> {
  const env = opts.env ?? process.env;
  const flag = opts.provider ?? "auto";
  const undecided = flag === "auto" && !opts.url && !env.REDIS_URL;
  const running = undecided && opts.cwd ? await runningRedis(opts.cwd) : undefined;
  const docker = (undecided && !running) || flag === "testcontainers" ? await dockerAvailable(env) : false;
  const redisServerOnPath = which("redis-server", env) !== undefined;
  let choice = chooseRedisProvider({ flag, url: opts.url, env, dockerAvailable: docker, redisServerOnPath, running });
  // An engine that answers but cannot supply the image (none built, no registry) is no reason to fail auto;
  // an explicit testcontainers fails on it in startContainerRedis.
  let image: string | undefined;
  const missing = "the optional package testcontainers is not installed (npm install testcontainers)";
  if (choice.provider === "testcontainers" && flag === "auto" && !packageInstalled("testcontainers")) choice = { ...ownRedisProvider(redisServerOnPath), reason: `a Docker engine answered, but ${missing}` };
  if (choice.provider === "testcontainers" && flag === "auto") {
    const found = await findContainerImage(redisImages(env), { env, log: opts.log });
    if (found.why) choice = { ...ownRedisProvider(redisServerOnPath), reason: `a Docker engine answered, but ${found.why}` };
    image = found.image;
  }
  // Fail on a platform without a build, or no cache and no Maven, before announcing a choice that cannot work.
  if (choice.provider === "embedded") requireEmbeddedRedis(env);
  opts.log?.(`redis: ${choice.provider} provider (${choice.reason})`);
  switch (choice.provider) {
    case "none":
      return { url: null, provider: "none", startupMs: 0, stop: async () => undefined };
    case "url":
      return connectRedisUrl(choice.url!, opts.log);
    case "testcontainers":
      return startContainerRedis(opts.log, image);
    case "local":
    case "embedded":
      return startOwnRedis(choice.provider, opts, env);
  }
}

/** Start a redis-server we own: `local` from PATH, `embedded` from the cache (fetched with Maven once). */
async function startOwnRedis(provider: "local" | "embedded", opts: StartRedisOptions, env: NodeJS.ProcessEnv): Promise<RedisHandle> {
  const server = provider === "embedded" ? await ensureEmbeddedRedis({ log: opts.log, env }) : undefined;
  return startLocalRedis({ log: opts.log, env, detached: opts.detached, server, provider });
}

async function connectRedisUrl(url: string, log?: Log): Promise<RedisHandle> {
  const started = Date.now();
  if (!(await pingRedis(url, 5_000))) {
    throw new EnvironmentError(`Redis at ${url} did not answer PING`, {
      retriable: true,
      remedy: "start that Redis (or 'quixlab services up'), fix the URL, or use --redis local or embedded",
      context: { field: "url" },
    });
  }
  log?.(`redis: using ${url}`);
  return { url, provider: "url", startupMs: Date.now() - started, stop: async () => undefined };
}

/** Docker Hub's Redis 7, else the same contract built from Debian's redis-server by .ci/images/build.sh. */
export const REDIS_IMAGE = "redis:7";
export const REDIS_LOCAL_IMAGE = "quixlab/redis:7-local";

/** Images tried in order: QUIXLAB_REDIS_IMAGE alone when set, else `REDIS_IMAGE`, then `REDIS_LOCAL_IMAGE`. */
export function redisImages(env: NodeJS.ProcessEnv = process.env): string[] {
  return env.QUIXLAB_REDIS_IMAGE ? [env.QUIXLAB_REDIS_IMAGE] : [REDIS_IMAGE, REDIS_LOCAL_IMAGE];
}

async function startContainerRedis(log?: Log, known?: string): Promise<RedisHandle> {
  const { GenericContainer, Wait } = await import("testcontainers");
  const remedy = "check 'docker info' and that the image can be pulled, or use --redis local or embedded";
  const imageRemedy = `build ${REDIS_LOCAL_IMAGE} with .ci/images/build.sh redis, docker pull ${REDIS_IMAGE}, or use --redis local`;
  const image = known ?? (await requireContainerImage("Redis", redisImages(), imageRemedy, { log }));
  const { container, startupMs, stop } = await startContainer("Redis", remedy, () =>
    new GenericContainer(image)
      .withExposedPorts(6379)
      .withCommand(["redis-server", "--save", "", "--appendonly", "no"])
      .withWaitStrategy(Wait.forLogMessage("Ready to accept connections"))
      .start(),
  );
  const url = `redis://${container.getHost()}:${container.getMappedPort(6379)}`;
  log?.(`redis: ${image} (testcontainers, container ${container.getId().slice(0, 12)}) ready at ${url} in ${startupMs} ms`);
  return { url, provider: "testcontainers", startupMs, stop };
}
