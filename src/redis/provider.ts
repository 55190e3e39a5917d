import { EnvironmentError, InputError } from "../errors/index.js";
import { type Log, requireProgram, which } from "../infra/process.js";
import { chooseProvider, type ProviderRules, type ProviderSetup, resolveProvider } from "../infra/provider.js";
import { readServices } from "../services/state.js";
import { EMBEDDED_REDIS_SOURCE, ensureEmbeddedRedis, requireEmbeddedRedis } from "./embedded.js";
import { REDIS_REMEDY, type RestartLocalRedisOptions, restartLocalRedis, startLocalRedis } from "./local.js";
import { pingRedis } from "./ping.js";
import { redisImages, startContainerRedis } from "./testcontainers.js";
import type { RedisHandle, RedisProvider, StartRedisOptions } from "./types.js";

export { pingRedis } from "./ping.js";
export { REDIS_REMEDY } from "./local.js";
export { REDIS_IMAGE, REDIS_LOCAL_IMAGE, redisImages } from "./testcontainers.js";
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

/** Redis's part of the one provider chooser (`src/infra/provider.ts`). */
export const REDIS_RULES: ProviderRules<RedisProvider, string, RedisChoice, RedisSelectionInput> = {
  service: "Redis",
  option: "--redis",
  envName: "REDIS_URL",
  addressField: "url",
  address: (input) => input.url,
  anAddress: "a URL",
  connect: "url",
  noAddress: {
    message: "the url provider needs a Redis URL, and none was given",
    remedy: "pass --redis redis://HOST:PORT or set REDIS_URL",
  },
  noDockerRemedy: "start Docker (or set DOCKER_HOST), or use --redis local or embedded",
  unknownRemedy: "use --redis auto, local, embedded, testcontainers, none, or redis://HOST:PORT",
  isAddress: (flag) => flag.includes("://"),
  parse: parseRedisUrl,
  choice: (provider, reason, url) => (url ? { provider, reason, url } : { provider, reason }),
  named: {
    none: () => ({ provider: "none", reason: "asked for no online store" }),
    local: (input) => {
      if (!input.redisServerOnPath) {
        throw new EnvironmentError("'redis-server' is not on PATH", {
          remedy: `${REDIS_REMEDY}, or use --redis embedded (a redis-server from Maven Central)`,
          context: { program: "redis-server" },
        });
      }
      return { provider: "local", reason: "asked for the local provider" };
    },
    embedded: () => ({ provider: "embedded", reason: `asked for the embedded provider; ${EMBEDDED_REDIS_SOURCE}` }),
  },
  own: (input) => (input.redisServerOnPath ? { provider: "local", reason: "no URL, no REDIS_URL and no Docker engine" } : ownRedisProvider(false)),
};

/**
 * Decide which Redis to use, purely from the inputs. `auto` prefers a URL given or `REDIS_URL`, then a Redis
 * left running by `quixlab services up`, then Testcontainers when Docker answers, then `redis-server` from PATH,
 * then the embedded redis-server from Maven Central.
 */
export function chooseRedisProvider(input: RedisSelectionInput): RedisChoice {
  return chooseProvider(REDIS_RULES, input);
}

/** The Redis recorded by `quixlab services up` under `cwd` if it answers PING right now. */
export async function runningRedis(cwd: string): Promise<string | undefined> {
  const url = readServices(cwd)?.redis?.url;
  return url && (await pingRedis(url, 1_000)) ? url : undefined;
}

/** Redis's setup for the one provider chooser: its rules, the running copy, its images, the embedded build. */
const REDIS_SETUP: ProviderSetup<RedisProvider, string, RedisChoice, RedisSelectionInput> = {
  rules: REDIS_RULES,
  prefix: "redis",
  running: runningRedis,
  facts: (env) => ({ redisServerOnPath: which("redis-server", env) !== undefined }),
  containerPackage: { name: "testcontainers", install: "npm install testcontainers" },
  images: redisImages,
  // Fail on a platform without a build, or no cache and no Maven, before announcing a choice that cannot work.
  check: (choice, env) => {
    if (choice.provider === "embedded") requireEmbeddedRedis(env);
  },
};

/**
 * Get a Redis ready for use, reporting the choice through `log`.
 * Example: `const redis = await startRedis({ provider: "auto" }); new Redis(redis.url!); ...; await redis.stop()`.
 */
export async function startRedis(opts: StartRedisOptions = {}): Promise<RedisHandle> {
  const env = opts.env ?? process.env;
  const { choice, image } = await resolveProvider(REDIS_SETUP, { flag: opts.provider, address: opts.url, cwd: opts.cwd, env, log: opts.log });
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

/**
 * Start a redis-server of ours again on its port and in its dir: `local` from PATH, `embedded` from the cache.
 * It runs without persistence, so its data does not survive; its address does.
 */
export async function restartOwnRedis(o: Omit<RestartLocalRedisOptions, "server"> & { provider: "local" | "embedded" }): Promise<{ pid: number; startupMs: number }> {
  const env = o.env ?? process.env;
  const server = o.provider === "embedded" ? await ensureEmbeddedRedis({ log: o.log, env }) : requireProgram("redis-server", REDIS_REMEDY, env);
  return restartLocalRedis({ ...o, server });
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
