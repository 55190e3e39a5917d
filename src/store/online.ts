import { Redis, type RedisOptions } from "ioredis";
import { ServiceError } from "../errors/index.js";
import type { WindowRecord } from "../feature/types.js";

/**
 * Online store: the final windows of a feature in Redis, laid out for people (redis-cli) and model serving.
 *
 *   quixlab:<feature>:latest:<key>   hash  — the fields of the newest window (plus `json`, the exact record)
 *   quixlab:<feature>:windows:<key>  zset  — recent windows, score = start (epoch ms), member = record JSON
 *   quixlab:<feature>:keys           set   — every key that has windows
 *
 * Writes are idempotent per window: one Lua script per window replaces the `latest` hash only when the new
 * start is >= the stored one, and replaces the zset member with the same start (ZREMRANGEBYSCORE + ZADD), so a
 * replay after a crash leaves Redis exactly as an uninterrupted run would.
 *
 * The `latest` hash has a field `final`: "true" for a final window; "false" for an open window's current value
 * (a feature with `emit: "update"`, its `json` then carries `"final":false`). An update replaces `latest` only
 * when it is newer than what is held (a later start, or the same start held as an update), so a final window is
 * never replaced by an update of itself; updates never enter the sorted set.
 */

/** Keep at most this many windows per key in the sorted set, unless told otherwise. */
export const DEFAULT_MAX_WINDOWS = 10_000;

export const latestKey = (feature: string, key: string) => `quixlab:${feature}:latest:${key}`;
export const windowsKey = (feature: string, key: string) => `quixlab:${feature}:windows:${key}`;
export const keysKey = (feature: string) => `quixlab:${feature}:keys`;

// KEYS: latest, windows, keys-set. ARGV: start, json, maxWindows, key, then field/value pairs for the hash.
const PUT_WINDOW = `
local start = tonumber(ARGV[1])
local cur = redis.call('HGET', KEYS[1], 'start')
if (not cur) or tonumber(cur) <= start then
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'json', ARGV[2], unpack(ARGV, 5))
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], start, start)
redis.call('ZADD', KEYS[2], start, ARGV[2])
local keep = tonumber(ARGV[3])
if keep > 0 then redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -(keep + 1)) end
redis.call('SADD', KEYS[3], ARGV[4])
return 1
`;

// KEYS: latest, keys-set. ARGV: start, json, key, then field/value pairs for the hash.
const PUT_UPDATE = `
local start = tonumber(ARGV[1])
local cur = redis.call('HMGET', KEYS[1], 'start', 'final')
if (not cur[1]) or tonumber(cur[1]) < start or (tonumber(cur[1]) == start and cur[2] == 'false') then
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'json', ARGV[2], unpack(ARGV, 4))
end
redis.call('SADD', KEYS[2], ARGV[3])
return 1
`;

type WithPut = Redis & {
  quixlabPutWindow(k1: string, k2: string, k3: string, ...argv: (string | number)[]): Promise<number>;
  quixlabPutUpdate(k1: string, k2: string, ...argv: (string | number)[]): Promise<number>;
};

/**
 * A Redis client for the online store: no offline queue and no per-command retries, so a command fails fast
 * while Redis is down and the caller decides how to retry (the step must not acknowledge unstored windows);
 * the connection itself keeps reconnecting with capped backoff.
 */
export function onlineRedis(url: string, opts: RedisOptions = {}): Redis {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 2_000,
    // A Redis that hangs is as unavailable as one that is down.
    commandTimeout: 5_000,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2_000),
    lazyConnect: false,
    ...opts,
  });
  // Without a listener ioredis prints every connection error; the step reports outages through its metrics.
  redis.on("error", () => undefined);
  return redis;
}

function withPut(redis: Redis): WithPut {
  if (!("quixlabPutWindow" in redis)) {
    redis.defineCommand("quixlabPutWindow", { numberOfKeys: 3, lua: PUT_WINDOW });
    redis.defineCommand("quixlabPutUpdate", { numberOfKeys: 2, lua: PUT_UPDATE });
  }
  return redis as WithPut;
}

function hashFields(r: WindowRecord): string[] {
  const out: string[] = [];
  for (const [f, v] of Object.entries(r)) {
    if (f === "json" || f === "final") continue;
    out.push(f, typeof v === "string" ? v : JSON.stringify(v));
  }
  return out;
}

export interface PutOptions {
  /** Windows kept per key in the sorted set (oldest trimmed); 0 keeps all. Default 10,000. */
  maxWindows?: number;
  /** Open windows' current values (emit "update"), stored in `latest` with `final: false`, in the same MULTI. */
  updates?: readonly WindowRecord[];
}

/**
 * Store final windows in one MULTI (atomic, one round trip). Idempotent: writing the same windows again, in any
 * order, leaves the same data. Rejects when Redis is unreachable; nothing is queued.
 * @example await putWindows(redis, "ohlc1m", records)
 */
export async function putWindows(redis: Redis, feature: string, records: readonly WindowRecord[], opts: PutOptions = {}): Promise<void> {
  const updates = opts.updates ?? [];
  if (records.length === 0 && updates.length === 0) return;
  const r = withPut(redis);
  const keep = opts.maxWindows ?? DEFAULT_MAX_WINDOWS;
  const multi = r.multi() as unknown as WithPut & { exec(): Promise<[Error | null, unknown][] | null> };
  for (const rec of records) {
    const fields = [...hashFields(rec), "final", "true"];
    multi.quixlabPutWindow(latestKey(feature, rec.key), windowsKey(feature, rec.key), keysKey(feature), rec.start, JSON.stringify(rec), keep, rec.key, ...fields);
  }
  for (const u of updates) {
    const early = { ...u, final: false };
    multi.quixlabPutUpdate(latestKey(feature, u.key), keysKey(feature), u.start, JSON.stringify(early), u.key, ...hashFields(u), "final", "false");
  }
  const res = await multi.exec();
  const failed = res?.find(([e]) => e);
  if (!res || failed) {
    throw new ServiceError(`Redis: storing ${records.length} windows (${updates.length} updates) of ${feature} failed: ${failed?.[0]?.message ?? "transaction discarded"}`, {
      retriable: true,
      remedy: "check that Redis is running and reachable (REDIS_URL)",
    });
  }
}

/**
 * The newest stored window of `feature` for `key`, or undefined.
 * @example const w = await getLatest(redis, "ohlc1m", "ETH-USD")
 */
export async function getLatest(redis: Redis, feature: string, key: string): Promise<WindowRecord | undefined> {
  const json = await redis.hget(latestKey(feature, key), "json");
  return json === null ? undefined : (JSON.parse(json) as WindowRecord);
}

/**
 * Stored windows of `feature` for `key` with `from <= start <= to` (epoch ms; defaults: everything), oldest first.
 * @example await getRange(redis, "ohlc1m", "ETH-USD", Date.now() - 3_600_000)
 */
export async function getRange(redis: Redis, feature: string, key: string, from = -Infinity, to = Infinity): Promise<WindowRecord[]> {
  const lo = Number.isFinite(from) ? String(from) : "-inf";
  const hi = Number.isFinite(to) ? String(to) : "+inf";
  const members = await redis.zrangebyscore(windowsKey(feature, key), lo, hi);
  return members.map((m) => JSON.parse(m) as WindowRecord);
}

/** Every key with stored windows for `feature`, sorted. */
export async function getKeys(redis: Redis, feature: string): Promise<string[]> {
  return (await redis.smembers(keysKey(feature))).sort();
}
