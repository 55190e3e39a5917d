/**
 * What the dashboard reads from the online store, bounded per refresh whatever the history: the newest `count`
 * final windows of one product (ZREVRANGE with a count), its latest hash (the in-progress window), the product
 * list, and for steps whose metrics lack `lastWindowEnd` the newest final window of up to `MAX_KEYS` products.
 * One pipelined round trip when the product is known (the caller remembers the last one), two otherwise.
 */
import type { ChainableCommander, Redis } from "ioredis";
import type { Candle } from "../chart/candles.js";
import { keysKey, latestKey, windowsKey } from "../store/online.js";
import type { CandleView } from "./dashboard-types.js";

/** Products whose newest window a freshness fallback reads, per feature. */
export const MAX_KEYS = 32;
/** Most final candles one refresh reads. */
export const MAX_CANDLES = 1_000;

export interface StoreQuery {
  candles?: { step: string; feature: string; product?: string; count: number };
  /** Features whose newest final window end is wanted (their steps do not report `lastWindowEnd`). */
  freshness?: readonly string[];
}

export interface StoreRead {
  candles: CandleView | null;
  /** Per feature: the largest end among the newest final windows of its products, null when it has none. */
  windowEnds: Record<string, number | null>;
}

/** Results of a pipeline in order; the first failed command's error is thrown. */
async function exec(p: ChainableCommander): Promise<unknown[]> {
  const res = (await p.exec()) ?? [];
  const failed = res.find(([e]) => e);
  if (failed) throw failed[0];
  return res.map(([, v]) => v);
}

function parseCandle(json: unknown): Candle | undefined {
  if (typeof json !== "string") return undefined;
  try {
    const r = JSON.parse(json) as Candle & { final?: boolean };
    if (typeof r !== "object" || r === null || !Number.isFinite(r.start) || !Number.isFinite(r.open) || !Number.isFinite(r.close)) return undefined;
    const { final: _final, ...candle } = r;
    return candle;
  } catch {
    return undefined;
  }
}

/**
 * The open window from a latest hash's `json` and `final` fields: only an update (`final` "false", or its json
 * says `"final":false`) that starts after the newest final record. Data written before the field counts as final.
 * @example inProgressOf(['{"start":120,...,"final":false}', "false"], [{ start: 60, ... }]) // the update
 */
export function inProgressOf(latest: readonly (string | null)[], records: readonly Candle[]): Candle | null {
  const [json, final] = latest;
  if (!json) return null;
  const early = final === "false" || (final === null && /"final":false/.test(json));
  if (!early) return null;
  const c = parseCandle(json);
  const newest = records[records.length - 1];
  return c && (!newest || c.start > newest.start) ? c : null;
}

const queueCandles = (p: ChainableCommander, feature: string, product: string, count: number) =>
  p.zrevrange(windowsKey(feature, product), 0, count - 1).hmget(latestKey(feature, product), "json", "final");

function candlesFrom(step: string, feature: string, product: string | null, products: string[], members: unknown, latest: unknown): CandleView {
  const records = (Array.isArray(members) ? members : [])
    .map(parseCandle)
    .filter((c): c is Candle => c !== undefined)
    .reverse();
  return { step, feature, product, products, records, inProgress: Array.isArray(latest) ? inProgressOf(latest, records) : null };
}

/** One refresh's reads of the online store (see the module comment). */
export async function readStore(redis: Redis, q: StoreQuery): Promise<StoreRead> {
  const fresh = [...new Set(q.freshness ?? [])];
  const c = q.candles;
  const count = Math.max(1, Math.min(MAX_CANDLES, Math.floor(c?.count ?? 120)));
  const first = redis.pipeline();
  if (c) {
    first.smembers(keysKey(c.feature));
    if (c.product) queueCandles(first, c.feature, c.product, count);
  }
  for (const f of fresh) first.smembers(keysKey(f));
  const r1 = await exec(first);

  let i = 0;
  let candles: CandleView | null = null;
  let again: { product: string; products: string[] } | undefined;
  if (c) {
    const products = ((r1[i++] as string[]) ?? []).sort();
    if (c.product) {
      const [members, latest] = [r1[i++], r1[i++]];
      if (products.includes(c.product)) candles = candlesFrom(c.step, c.feature, c.product, products, members, latest);
    }
    if (!candles) {
      if (products[0] !== undefined) again = { product: products[0], products };
      else candles = { step: c.step, feature: c.feature, product: null, products, records: [], inProgress: null };
    }
  }
  const keysOf = fresh.map((f) => ({ feature: f, keys: ((r1[i++] as string[]) ?? []).sort().slice(0, MAX_KEYS) }));

  const windowEnds: Record<string, number | null> = {};
  if (!again && keysOf.every((k) => k.keys.length === 0)) {
    for (const k of keysOf) windowEnds[k.feature] = null;
    return { candles, windowEnds };
  }
  const second = redis.pipeline();
  if (c && again) queueCandles(second, c.feature, again.product, count);
  for (const k of keysOf) for (const key of k.keys) second.zrevrange(windowsKey(k.feature, key), 0, 0);
  const r2 = await exec(second);
  let j = 0;
  if (c && again) {
    const [members, latest] = [r2[j++], r2[j++]];
    candles = candlesFrom(c.step, c.feature, again.product, again.products, members, latest);
  }
  for (const k of keysOf) {
    let end: number | null = null;
    for (const _ of k.keys) {
      const newest = parseCandle((r2[j++] as string[] | undefined)?.[0]);
      if (newest && Number.isFinite(newest.end) && (end === null || newest.end > end)) end = newest.end;
    }
    windowEnds[k.feature] = end;
  }
  return { candles, windowEnds };
}
