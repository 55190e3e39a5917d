import type { ServiceHandle, StartServiceOptions } from "../infra/provider.js";

/** `local` runs redis-server from PATH; `embedded` runs the redis-server binary of embedded-redis (Maven Central). */
export type RedisProvider = "url" | "testcontainers" | "local" | "embedded" | "none";

/**
 * A Redis ready for the online store, whoever started it. `url` is null only for `none` (no online store).
 * `stop()` ends what we started (a no-op for a URL we were given) and removes its files.
 */
export interface RedisHandle extends ServiceHandle<RedisProvider> {
  readonly url: string | null;
}

export interface StartRedisOptions extends StartServiceOptions<RedisProvider> {
  /** For `url`/`auto`; defaults to `REDIS_URL`. */
  url?: string;
}
