import { Redis, type RedisOptions } from "ioredis";
import { InputError, ServiceError } from "../errors/index.js";
import type { WindowRecord } from "../feature/types.js";

/**
 * Online store: the final windows of a feature in Redis, laid out for people (redis-cli) and model serving.
 *
 *   quixlab:<feature>:latest:<key>     hash    — the fields of the newest window (plus `json`, the exact record)
 *   quixlab:<feature>:windows:<key>    zset    — recent windows, score = start (epoch ms), member = record JSON
 *   quixlab:<feature>:keys             set     — every key that has windows
 *   quixlab:<feature>:watermark:<key>  string  — the key's event-time watermark after the stored windows:
 *                                                "<ms>", or "eof@<ms>" after an end-of-input flush ("eof" when
 *                                                no number came before it); <ms> is the highest number stored
 *   quixlab:<feature>:trimmed:<key>    string  — the highest start trimming removed ("<ms>"; absent: none), so
 *                                                a read as of an older time can tell it lacks windows
 *
 * Writes are idempotent per window. A window is identified by its start, and for count windows (which can share a
 * start) by (start, index): the `latest` hash is replaced only when the new (start, index) is >= the stored one,
 * and the zset member with the same start (and index) is replaced, so a replay after a crash leaves Redis exactly
 * as an uninterrupted run would. One Lua script call per key (per chunk of CHUNK windows) writes the
 * key's windows, trims its zset and moves its watermark, and all the calls of one `putWindows` run in one MULTI:
 * a reader never sees windows without the watermark that finalised them, nor a half-trimmed set.
 *
 * Trimming, after writing: by time (`retentionMs`), members with start < newest start − retentionMs go (a start
 * exactly at the boundary stays); by count (`maxWindows`), only the newest N stay. Both apply when both are given.
 *
 * The watermark only moves forward: a number replaces a smaller one (a replayed older write leaves it); "eof"
 * wins over any number and keeps the highest number as its event time; a number after "eof" replaces it only
 * when larger than that event time (a new run over later input), so a replay of the run that ended in "eof"
 * does not undo it. A key with a watermark and no windows in the write gets its watermark alone.
 *
 * The `latest` hash has a field `final`: "true" for a final window; "false" for an open window's current value
 * (a feature with `emit: "update"`, its `json` then carries `"final":false`). An update replaces `latest` only
 * when it is newer than what is held (a later start, or the same start held as an update), so a final window is
 * never replaced by an update of itself; updates never enter the sorted set.
 */

/** Keep at most this many windows per key in the sorted set when neither `maxWindows` nor `retentionMs` is given. */
export const DEFAULT_MAX_WINDOWS = 10_000;

/** Windows per script call: a day of a 1 s feature in one call would hold Redis (single-threaded) for long. */
const CHUNK = 1_000;

export const latestKey = (feature: string, key: string) => `quixlab:${feature}:latest:${key}`;
export const windowsKey = (feature: string, key: string) => `quixlab:${feature}:windows:${key}`;
export const keysKey = (feature: string) => `quixlab:${feature}:keys`;
export const watermarkKey = (feature: string, key: string) => `quixlab:${feature}:watermark:${key}`;
export const trimmedKey = (feature: string, key: string) => `quixlab:${feature}:trimmed:${key}`;

/** A key's event-time watermark (epoch ms), or "eof" once its input has ended and every window was flushed. */
export type Watermark = number | "eof";

/**
 * What a writer stores: a watermark, or `eof@<ms>`, the end of input when the key's latest event time was <ms>
 * (what a vector's ranges are measured from at eof).
 */
export type WatermarkWrite = Watermark | `eof@${number}`;

// KEYS: latest, windows, keys-set, watermark, trimmed. ARGV: key, maxWindows (0: off), retentionMs (0: off), watermark
// ("": none), n, then n windows as: start, index ("": none), json, f (field count), f field/value strings for the hash.
// Scores go back to Redis as the caller's strings, or via %.17g (exact for a double), never Lua's tostring.
// Count windows (with an index) can share a start: they are told apart by (start, index), never by start alone.
const ORDER = `
local function cmp(s1, i1, s2, i2)
  if s1 ~= s2 then return s1 < s2 and -1 or 1 end
  if i1 and i2 and i1 ~= i2 then return i1 < i2 and -1 or 1 end
  return 0
end
`;

const PUT_KEY = `${ORDER}
local n = tonumber(ARGV[5])
if n > 0 then
  local held = redis.call('HMGET', KEYS[1], 'start', 'index')
  local cur, curi = tonumber(held[1]), tonumber(held[2])
  local i = 6
  for _ = 1, n do
    local start = tonumber(ARGV[i])
    local index = tonumber(ARGV[i + 1])
    local f = tonumber(ARGV[i + 3])
    if (not cur) or cmp(cur, curi, start, index) <= 0 then
      redis.call('DEL', KEYS[1])
      redis.call('HSET', KEYS[1], 'json', ARGV[i + 2], unpack(ARGV, i + 4, i + 3 + f))
      cur, curi = start, index
    end
    if index then
      for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], ARGV[i], ARGV[i])) do
        local other = tonumber(cjson.decode(m).index)
        if (not other) or other == index then redis.call('ZREM', KEYS[2], m) end
      end
    else
      redis.call('ZREMRANGEBYSCORE', KEYS[2], ARGV[i], ARGV[i])
    end
    redis.call('ZADD', KEYS[2], ARGV[i], ARGV[i + 2])
    i = i + 4 + f
  end
  -- What trimming removes is remembered by its highest start (the string Redis gives the score as).
  local function trimmed(gone)
    if not gone[2] then return end
    local held = redis.call('GET', KEYS[5])
    if (not held) or tonumber(gone[2]) > tonumber(held) then redis.call('SET', KEYS[5], gone[2]) end
  end
  local retention = tonumber(ARGV[3])
  if retention > 0 then
    local newest = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')[2]
    local cut = '(' .. string.format('%.17g', tonumber(newest) - retention)
    trimmed(redis.call('ZREVRANGEBYSCORE', KEYS[2], cut, '-inf', 'WITHSCORES', 'LIMIT', 0, 1))
    redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', cut)
  end
  local keep = tonumber(ARGV[2])
  if keep > 0 then
    trimmed(redis.call('ZRANGE', KEYS[2], -(keep + 1), -(keep + 1), 'WITHSCORES'))
    redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -(keep + 1))
  end
  redis.call('SADD', KEYS[3], ARGV[1])
end
local wm = ARGV[4]
if wm ~= '' then
  local stored = redis.call('GET', KEYS[4])
  local eof, ms = false, nil
  if stored then
    if string.sub(stored, 1, 3) == 'eof' then
      eof = true
      if string.len(stored) > 4 then ms = string.sub(stored, 5) end
    else
      ms = stored
    end
  end
  if string.sub(wm, 1, 3) == 'eof' then
    -- 'eof@<ms>': the end of input, when the key's latest event time was <ms> (kept if higher than the stored one).
    local given = string.sub(wm, 5)
    if given ~= '' and ((not ms) or tonumber(given) > tonumber(ms)) then ms = given end
    if (not eof) or given ~= '' then redis.call('SET', KEYS[4], ms and ('eof@' .. ms) or 'eof') end
  elseif (not ms) or tonumber(wm) > tonumber(ms) then
    redis.call('SET', KEYS[4], wm)
  end
end
return 1
`;

// KEYS: latest, keys-set. ARGV: start, index ("": none), json, key, then field/value pairs for the hash.
const PUT_UPDATE = `${ORDER}
local start, index = tonumber(ARGV[1]), tonumber(ARGV[2])
local cur = redis.call('HMGET', KEYS[1], 'start', 'final', 'index')
local c = cur[1] and cmp(tonumber(cur[1]), tonumber(cur[3]), start, index)
if (not c) or c < 0 or (c == 0 and cur[2] == 'false') then
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'json', ARGV[3], unpack(ARGV, 5))
end
redis.call('SADD', KEYS[2], ARGV[4])
return 1
`;

type WithPut = Redis & {
  quixlabPutKey(k1: string, k2: string, k3: string, k4: string, k5: string, ...argv: (string | number)[]): Promise<number>;
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
  if (!("quixlabPutKey" in redis)) {
    redis.defineCommand("quixlabPutKey", { numberOfKeys: 5, lua: PUT_KEY });
    redis.defineCommand("quixlabPutUpdate", { numberOfKeys: 2, lua: PUT_UPDATE });
  }
  return redis as WithPut;
}

/** A count window's index (what tells windows with one start apart), or "" for the kinds without one. */
function indexArg(r: WindowRecord): string {
  const i = (r as { index?: unknown }).index;
  return typeof i === "number" && Number.isFinite(i) ? String(i) : "";
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
  /**
   * Windows kept per key in the sorted set (oldest trimmed); 0 keeps all. Default: 10,000 when `retentionMs` is
   * not given either, else no count bound (time alone trims).
   */
  maxWindows?: number;
  /** Keep windows with start >= newest start − retentionMs (ms; 0 or absent: no time bound). See `defaultRetentionMs`. */
  retentionMs?: number;
  /** Each key's watermark after these windows (a Map, or [key, watermark] pairs), stored in the same script call. */
  watermarks?: Iterable<readonly [string, WatermarkWrite]>;
  /** Open windows' current values (emit "update"), stored in `latest` with `final: false`, in the same MULTI. */
  updates?: readonly WindowRecord[];
}

function checkOptions(feature: string, o: PutOptions): { keep: number; retention: number } {
  const bad = (what: string, remedy: string) => new InputError(`putWindows ${feature}: ${what}`, { remedy });
  const retention = o.retentionMs ?? 0;
  if (!Number.isFinite(retention) || retention < 0) throw bad(`retentionMs ${retention}`, "pass a duration in ms >= 0 (0: no time bound)");
  const keep = o.maxWindows ?? (o.retentionMs === undefined ? DEFAULT_MAX_WINDOWS : 0);
  if (!Number.isSafeInteger(keep) || keep < 0) throw bad(`maxWindows ${keep}`, "pass a whole number of windows >= 0 (0: no count bound)");
  return { keep, retention };
}

function watermarkArg(feature: string, key: string, w: WatermarkWrite | undefined): string {
  if (w === undefined) return "";
  if (w === "eof") return w;
  if (typeof w === "string" && /^eof@\d+$/.test(w)) return w;
  if (typeof w !== "number" || !Number.isFinite(w)) {
    throw new InputError(`putWindows ${feature}: watermark ${String(w)} for key ${key}`, { remedy: 'pass epoch ms (a finite number) or "eof"' });
  }
  return String(w);
}

/**
 * Store final windows, each key's watermark and the open windows' updates in one MULTI (atomic, one round trip);
 * per key, one script call writes its windows, trims its set and moves its watermark. Idempotent: writing the same
 * windows again, in any order, leaves the same data. Rejects when Redis is unreachable; nothing is queued.
 * @example await putWindows(redis, "ohlc1m", records, { retentionMs: defaultRetentionMs(ohlc1m.window), watermarks: [["ETH-USD", t]] })
 */
export async function putWindows(redis: Redis, feature: string, records: readonly WindowRecord[], opts: PutOptions = {}): Promise<void> {
  const updates = opts.updates ?? [];
  const { keep, retention } = checkOptions(feature, opts);
  const byKey = new Map<string, WindowRecord[]>();
  for (const rec of records) {
    const list = byKey.get(rec.key);
    if (list) list.push(rec);
    else byKey.set(rec.key, [rec]);
  }
  const marks = new Map<string, string>();
  for (const [key, w] of opts.watermarks ?? []) {
    marks.set(key, watermarkArg(feature, key, w));
    if (!byKey.has(key)) byKey.set(key, []);
  }
  if (byKey.size === 0 && updates.length === 0) return;
  const r = withPut(redis);
  const multi = r.multi() as unknown as WithPut & { exec(): Promise<[Error | null, unknown][] | null> };
  for (const [key, recs] of byKey) {
    // The watermark goes with the key's last chunk; all chunks are in the one MULTI anyway.
    for (let at = 0; at === 0 || at < recs.length; at += CHUNK) {
      const chunk = recs.slice(at, at + CHUNK);
      const last = at + CHUNK >= recs.length;
      const argv: (string | number)[] = [key, keep, retention, last ? (marks.get(key) ?? "") : "", chunk.length];
      for (const rec of chunk) {
        const fields = [...hashFields(rec), "final", "true"];
        argv.push(rec.start, indexArg(rec), JSON.stringify(rec), fields.length, ...fields);
      }
      multi.quixlabPutKey(latestKey(feature, key), windowsKey(feature, key), keysKey(feature), watermarkKey(feature, key), trimmedKey(feature, key), ...argv);
    }
  }
  for (const u of updates) {
    const early = { ...u, final: false };
    multi.quixlabPutUpdate(latestKey(feature, u.key), keysKey(feature), u.start, indexArg(u), JSON.stringify(early), u.key, ...hashFields(u), "final", "false");
  }
  const res = await multi.exec();
  const failed = res?.find(([e]) => e);
  if (!res || failed) {
    throw new ServiceError(`Redis: storing ${records.length} windows (${updates.length} updates, ${marks.size} watermarks) of ${feature} failed: ${failed?.[0]?.message ?? "transaction discarded"}`, {
      retriable: true,
      remedy: "check that Redis is running and reachable (REDIS_URL)",
    });
  }
}

/**
 * The key's stored watermark: epoch ms, "eof" after an end-of-input flush, or undefined when none was stored.
 * @example const asOf = await getWatermark(redis, "ohlc1m", "ETH-USD")
 */
export async function getWatermark(redis: Redis, feature: string, key: string): Promise<Watermark | undefined> {
  return parseWatermark(await redis.get(watermarkKey(feature, key)));
}

/** The stored string (see the layout above) as a Watermark. */
export function parseWatermark(stored: string | null): Watermark | undefined {
  if (stored === null) return undefined;
  return stored.startsWith("eof") ? "eof" : Number(stored);
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
 * Batch's order of one key's windows: start, end, then index (count windows can share a start and an end, and
 * Redis orders members of one score by their bytes, which puts `"index":10` before `"index":2`).
 */
export function compareStored(a: WindowRecord, b: WindowRecord): number {
  const ia = typeof a.index === "number" ? a.index : 0;
  const ib = typeof b.index === "number" ? b.index : 0;
  return a.start - b.start || a.end - b.end || ia - ib;
}

/**
 * Stored windows of `feature` for `key` with `from <= start <= to` (epoch ms; defaults: everything), oldest first.
 * @example await getRange(redis, "ohlc1m", "ETH-USD", Date.now() - 3_600_000)
 */
export async function getRange(redis: Redis, feature: string, key: string, from = -Infinity, to = Infinity): Promise<WindowRecord[]> {
  const lo = Number.isFinite(from) ? String(from) : "-inf";
  const hi = Number.isFinite(to) ? String(to) : "+inf";
  const members = await redis.zrangebyscore(windowsKey(feature, key), lo, hi);
  return members.map((m) => JSON.parse(m) as WindowRecord).sort(compareStored);
}

/** Every key with stored windows for `feature`, sorted. */
export async function getKeys(redis: Redis, feature: string): Promise<string[]> {
  return (await redis.smembers(keysKey(feature))).sort();
}
