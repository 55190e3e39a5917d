import type { Tick } from "../tick/types.js";
import type { Aggregator } from "./types.js";

/** One OHLCV bar's values (DESIGN.md "Windows and the OHLCV feature"). */
export interface Ohlcv {
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  count: number;
  [k: string]: unknown;
}

/**
 * Checkpointed state: [open, openTime, high, low, close, closeTime, volume, count]. A flat number array keeps
 * snapshots small; count 0 means "no tick yet" so no Infinity ever needs to be serialised.
 */
export type OhlcvState = [number, number, number, number, number, number, number, number];

/** Marks the built-in aggregator so batch can take its columnar fast path (duck-typed across module copies). */
export const OHLCV_BRAND = Symbol.for("quixlab.aggregator.ohlcv");

/**
 * Fold one tick into the bar stored at `v[b..b+7]` (OhlcvState layout). Shared by the engine's aggregator (a plain
 * array, b = 0) and the batch fast path (one Float64Array for all bars), so both compute bit for bit alike.
 */
export function ohlcvFold(v: OhlcvState | Float64Array, b: number, price: number, size: number, time: number): void {
  if (v[b + 7] === 0) {
    v[b] = v[b + 2] = v[b + 3] = v[b + 4] = price;
    v[b + 1] = v[b + 5] = time;
    v[b + 6] = size;
    v[b + 7] = 1;
    return;
  }
  // Strict < keeps the first arrival on a time tie (open); >= lets the last arrival win it (close).
  if (time < v[b + 1]!) {
    v[b] = price;
    v[b + 1] = time;
  }
  if (time >= v[b + 5]!) {
    v[b + 4] = price;
    v[b + 5] = time;
  }
  if (price > v[b + 2]!) v[b + 2] = price;
  if (price < v[b + 3]!) v[b + 3] = price;
  v[b + 6]! += size;
  v[b + 7]!++;
}

const aggregator: Aggregator<OhlcvState, Ohlcv> & { readonly [OHLCV_BRAND]: true } = Object.freeze({
  [OHLCV_BRAND]: true as const,
  version: "ohlcv-1",
  init: (): OhlcvState => [0, 0, 0, 0, 0, 0, 0, 0],
  add(s: OhlcvState, t: Tick): OhlcvState {
    ohlcvFold(s, 0, t.price, t.last_size, t.time);
    return s;
  },
  result: (s: OhlcvState): Ohlcv => ({ open: s[0], high: s[2], low: s[3], close: s[4], volume: s[6], count: s[7] }),
  /** An empty window (fill "carry"): open = high = low = close = the previous close, volume 0, count 0. */
  fill: (prev: Ohlcv): Ohlcv => ({ open: prev.close, high: prev.close, low: prev.close, close: prev.close, volume: 0, count: 0 }),
  /** `a` holds earlier arrivals than `b`. */
  merge(a: OhlcvState, b: OhlcvState): OhlcvState {
    if (a[7] === 0) return [...b];
    if (b[7] === 0) return [...a];
    const openB = b[1] < a[1];
    const closeB = b[5] >= a[5];
    return [
      openB ? b[0] : a[0],
      openB ? b[1] : a[1],
      Math.max(a[2], b[2]),
      Math.min(a[3], b[3]),
      closeB ? b[4] : a[4],
      closeB ? b[5] : a[5],
      a[6] + b[6],
      a[7] + b[7],
    ];
  },
});

/**
 * The built-in OHLCV aggregator: open = earliest tick by event time (first arrival wins ties), close = latest (last
 * arrival wins ties), high/low, volume = sum of last_size in arrival order, count.
 */
export function ohlcv(): Aggregator<OhlcvState, Ohlcv> {
  return aggregator;
}

/** True for the built-in OHLCV aggregator (from any copy of this module). */
export function isOhlcvAggregator(a: unknown): boolean {
  return typeof a === "object" && a !== null && (a as Record<symbol, unknown>)[OHLCV_BRAND] === true;
}
