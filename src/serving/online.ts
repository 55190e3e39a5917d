import type { Redis } from "ioredis";
import { InputError } from "../errors/index.js";
import type { Feature } from "../feature/types.js";
import { compareStored, parseWatermark, trimmedKey, watermarkKey, windowsKey } from "../store/online.js";
import type { WindowRecord } from "../window/types.js";
import { type AsOf, type FeatureVector, selectWindows, type VectorValue } from "./rule.js";
import type { VectorSpec } from "./spec.js";

/**
 * One read of the online store, atomic with the steps' writes (a Lua script runs alone): every feature's stored
 * watermark for the key and, from the oldest watermark (the vector's `asOf`), the windows each range can need.
 * Returns [asOf ("eof", "<ms>", or false when a feature has no watermark of the key yet), eof reference ms, then
 * per feature its members, then per feature the highest start trimming removed ("" for none)]. The exact rule
 * (final at asOf, in range) is applied by `selectWindows`, as for batch records.
 * KEYS: per feature, its watermark key, its windows key and its trimmed key. ARGV: feature count, then per feature: range kind
 * (since | today | latest), range ms, and how many of the newest windows before asOf can hold the latest final one
 * (-1: no bound); last, `at` ("" for none): read the vector as of that time instead, which needs every feature's
 * watermark at or past it (else the reply is {'wait'}: windows final at `at` may still be on their way).
 */
const READ_VECTOR = `
local n = tonumber(ARGV[1])
local asof = nil
local eofref = nil
local alleof = true
for i = 1, n do
  local w = redis.call('GET', KEYS[3 * i - 2])
  -- A feature whose step has not stored the key yet: nothing is known as of any time.
  if not w then return {false} end
  do
    if string.sub(w, 1, 3) == 'eof' then
      local t = tonumber(string.sub(w, 5))
      if t and ((not eofref) or t > eofref) then eofref = t end
    else
      alleof = false
      local t = tonumber(w)
      if (not asof) or t < asof then asof = t end
    end
  end
end
local out = {}
if alleof then
  out[1] = 'eof'
  out[2] = string.format('%.0f', eofref or 0)
else
  out[1] = string.format('%.0f', asof)
  out[2] = ''
end
local at = ARGV[3 * n + 2]
if at and at ~= '' then
  at = tonumber(at)
  if (not alleof) and asof < at then return {'wait'} end
  out[1] = string.format('%.0f', at)
  out[2] = ''
  alleof = false
  asof = at
end
local ref = alleof and (eofref or 0) or asof
for i = 1, n do
  local kind = ARGV[3 * i - 1]
  local ms = tonumber(ARGV[3 * i])
  local limit = tonumber(ARGV[3 * i + 1])
  local key = KEYS[3 * i - 1]
  local hi = alleof and '+inf' or ('(' .. string.format('%.0f', asof))
  local got
  if kind == 'latest' then
    if limit < 0 then got = redis.call('ZREVRANGEBYSCORE', key, hi, '-inf')
    else got = redis.call('ZREVRANGEBYSCORE', key, hi, '-inf', 'LIMIT', 0, limit) end
  else
    local from
    if kind == 'today' then from = math.floor(ref / 86400000) * 86400000 else from = ref - ms end
    got = redis.call('ZRANGEBYSCORE', key, string.format('%.0f', from), hi)
  end
  out[i + 2] = got
  out[n + i + 2] = redis.call('GET', KEYS[3 * i]) or ''
end
return out
`;

type WithRead = Redis & { quixlabReadVector(...args: (string | number)[]): Promise<unknown[]> };

function withRead(redis: Redis): WithRead {
  const r = redis as WithRead;
  if (typeof r.quixlabReadVector !== "function") redis.defineCommand("quixlabReadVector", { lua: READ_VECTOR });
  return r;
}

/**
 * The seed's model inputs for one key from the online store (DESIGN.md "quixlab vector"), in one round trip that
 * is atomic with the steps' writes, so it never mixes two watermarks: `asOf` is the oldest of the features' stored
 * watermarks for the key (`"eof"` when every one ended), and each feature holds what was final then, in range.
 * `features` gives each spec feature's window (its grace and size bound the read). Undefined until every one of
 * them has a watermark of the key (the steps store it from their first checkpoint of the key on).
 * @example await featureVector(redis, "BTC-USD", parseVectorSpec("ohlc1h:30d,ohlc1m:today,ohlc60s:latest"), resolveFeatures(spec))
 */
export async function featureVector(redis: Redis, key: string, spec: VectorSpec, features: Readonly<Record<string, Feature>>): Promise<FeatureVector | undefined> {
  return (await readVector(redis, key, spec, features))?.vector;
}

/**
 * featureVector, with the reference the store's ranges were measured from at eof (`eofTime`: the key's latest event
 * time the steps stored with eof), which `vectorAt` needs to reproduce such a vector from batch records.
 */
export async function readVector(redis: Redis, key: string, spec: VectorSpec, features: Readonly<Record<string, Feature>>): Promise<{ vector: FeatureVector; eofTime?: number } | undefined> {
  const r = await readVectorRaw(redis, key, spec, features, undefined);
  return r === "wait" ? undefined : r;
}

/** A read as of a time whose windows the store has trimmed since: a feature's range reaches below what it kept. */
export interface TrimmedRead {
  readonly trimmed: { readonly feature: string; readonly through: number };
}

/**
 * The vector as of time `at` (epoch ms): what the store served at `at`, the same as `vectorAt(records, key, at)`
 * over batch records. "wait" while some feature's watermark of the key is still before `at` (or missing): windows
 * final at `at` may not be stored yet. `{ trimmed }` when the store no longer holds all of it: a feature's range at
 * `at` reaches windows its retention removed since (the reader is that far behind the steps), so the vector would
 * hold less than it did at `at`. The model step reads its inputs this way, at each trigger window's close.
 */
export async function readVectorAt(redis: Redis, key: string, spec: VectorSpec, features: Readonly<Record<string, Feature>>, at: number): Promise<FeatureVector | "wait" | TrimmedRead> {
  if (!Number.isFinite(at)) throw new InputError(`bad time ${String(at)}`, { remedy: "give an epoch-ms time" });
  const r = await readVectorRaw(redis, key, spec, features, at);
  if (r === undefined || r === "wait") return "wait";
  return r.trimmed ? { trimmed: r.trimmed } : r.vector;
}

type RawRead = { vector: FeatureVector; eofTime?: number; trimmed?: TrimmedRead["trimmed"] };

async function readVectorRaw(redis: Redis, key: string, spec: VectorSpec, features: Readonly<Record<string, Feature>>, at: number | undefined): Promise<RawRead | "wait" | undefined> {
  const keys: string[] = [];
  const argv: (string | number)[] = [spec.length];
  for (const { feature, range } of spec) {
    const f = features[feature];
    if (!f) throw new InputError(`no definition of feature '${feature}'`, { remedy: "pass each spec feature (its window gives the grace)", context: { field: feature } });
    keys.push(watermarkKey(feature, key), windowsKey(feature, key), trimmedKey(feature, key));
    argv.push(range.kind, range.kind === "since" ? range.ms : 0, latestBound(f));
  }
  argv.push(at === undefined ? "" : Math.floor(at));
  const reply = await withRead(redis).quixlabReadVector(keys.length, ...keys, ...argv);
  if (!reply[0]) return undefined;
  if (reply[0] === "wait") return "wait";
  const asOf: AsOf = reply[0] === "eof" ? "eof" : Number(reply[0]);
  const eofTime = reply[0] === "eof" ? Number(reply[1]) : undefined;
  const out: Record<string, VectorValue> = {};
  let trimmed: RawRead["trimmed"];
  spec.forEach(({ feature, range }, i) => {
    // Oldest first, in batch's order (a latest range comes newest first; count windows can share a score).
    const windows = ((reply[i + 2] as string[]) ?? []).map((m) => JSON.parse(m) as WindowRecord).sort(compareStored);
    const value = selectWindows(windows, asOf, range, features[feature]!.window.grace, eofTime);
    out[feature] = value;
    const gone = reply[spec.length + i + 2];
    if (!trimmed && typeof gone === "string" && gone !== "" && reachesTrimmed(value, range, asOf, eofTime, Number(gone))) trimmed = { feature, through: Number(gone) };
  });
  return { vector: { key, asOf, features: out }, ...(eofTime !== undefined ? { eofTime } : {}), ...(trimmed ? { trimmed } : {}) };
}

/**
 * Whether a range's selection may lack windows trimming removed (starts up to `through`): a since/today range
 * whose lower bound is at or below it, or a latest whose newest final window starts at or below it (a trimmed
 * window could have been the latest), or found none. Trimming takes the oldest starts, so above it all is there.
 */
function reachesTrimmed(value: VectorValue, range: VectorSpec[number]["range"], asOf: AsOf, eofTime: number | undefined, through: number): boolean {
  if (range.kind === "latest") {
    const w = value as WindowRecord | null;
    return w === null || w.start <= through;
  }
  const ref = asOf === "eof" ? (eofTime ?? 0) : asOf;
  const from = range.kind === "today" ? Math.floor(ref / 86_400_000) * 86_400_000 : ref - range.ms;
  return from <= through;
}

/**
 * How many of the newest windows starting before asOf can hold the newest one final at asOf: on a grid, those that
 * end within grace of asOf, (size + grace) / step of them, and one more. Other kinds: no bound.
 */
function latestBound(f: Feature): number {
  const w = f.window;
  if (w.kind !== "tumbling" && w.kind !== "hopping") return -1;
  return Math.ceil((w.size + w.grace) / w.step) + 1;
}

/** The stored watermark of a key for one feature, read back (for tests and the CLI's text output). */
export async function storedWatermark(redis: Redis, feature: string, key: string): Promise<AsOf | undefined> {
  const v = await redis.get(watermarkKey(feature, key));
  return v === null ? undefined : parseWatermark(v);
}
