import type { Log } from "../infra/process.js";

/** `local` runs redis-server from PATH; `embedded` runs the redis-server binary of embedded-redis (Maven Central). */
export type RedisProvider = "url" | "testcontainers" | "local" | "embedded" | "none";

/**
 * A Redis ready for the online store, whoever started it. `url` is null only for `none` (no online store).
 * `stop()` ends what we started (a no-op for a URL we were given) and removes its files.
 */
export interface RedisHandle {
  readonly url: string | null;
  readonly provider: RedisProvider;
  readonly startupMs: number;
  readonly pid?: number;
  readonly dir?: string;
  stop(): Promise<void>;
}

export interface StartRedisOptions {
  /** `auto` (default), a provider name, or a `redis://` URL (same as `url` with it). */
  provider?: "auto" | RedisProvider | (string & {});
  /** For `url`/`auto`; defaults to `REDIS_URL`. */
  url?: string;
  /** Looks for a Redis started by `quixlab services up` under this directory (auto only). */
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  log?: Log;
  /** Local and embedded only: leave it running after this process exits. */
  detached?: boolean;
}
