import { InputError } from "../errors/index.js";
import type { Tick } from "../tick/types.js";
import type { Ohlcv } from "./ohlcv.js";
import type { Aggregator, WindowRecord } from "./types.js";

/**
 * Aggregators over another feature's records (DESIGN.md "Features over features"): `rollup()` folds OHLCV windows
 * into longer ones (use it with a window: 1-minute candles into 1-hour ones), and the indicators `ema`, `rsi` and
 * `bollinger` run over a feature's closes with no window of their own, one value per input window. Their states
 * are small arrays of numbers, checkpointed like any window state.
 */

type Rec = WindowRecord<Record<string, unknown>>;
const rec = (x: Tick): Rec => x as unknown as Rec;

/** [open, openStart, high, low, close, closeStart, volume, count, windows]; windows 0 = empty. */
export type RollupState = [number, number, number, number, number, number, number, number, number];

const ROLLUP: Aggregator<RollupState, Ohlcv> = Object.freeze({
  version: "rollup-1",
  init: (): RollupState => [0, 0, 0, 0, 0, 0, 0, 0, 0],
  add(s: RollupState, x: Tick): RollupState {
    const r = rec(x) as unknown as Ohlcv & { start: number };
    if (s[8] === 0) {
      s.splice(0, 9, r.open, r.start, r.high, r.low, r.close, r.start, r.volume, r.count, 1);
      return s;
    }
    if (r.start < s[1]) [s[0], s[1]] = [r.open, r.start];
    if (r.start >= s[5]) [s[4], s[5]] = [r.close, r.start];
    if (r.high > s[2]) s[2] = r.high;
    if (r.low < s[3]) s[3] = r.low;
    s[6] += r.volume;
    s[7] += r.count;
    s[8]++;
    return s;
  },
  result: (s: RollupState): Ohlcv => ({ open: s[0], high: s[2], low: s[3], close: s[4], volume: s[6], count: s[7] }),
  fill: (prev: Ohlcv): Ohlcv => ({ open: prev.close, high: prev.close, low: prev.close, close: prev.close, volume: 0, count: 0 }),
  merge(a: RollupState, b: RollupState): RollupState {
    if (a[8] === 0) return [...b];
    if (b[8] === 0) return [...a];
    const openB = b[1] < a[1];
    const closeB = b[5] >= a[5];
    return [openB ? b[0] : a[0], openB ? b[1] : a[1], Math.max(a[2], b[2]), Math.min(a[3], b[3]), closeB ? b[4] : a[4], closeB ? b[5] : a[5], a[6] + b[6], a[7] + b[7], a[8] + b[8]];
  },
});

/**
 * OHLCV records rolled up into a longer window: open of the earliest, close of the latest, max high, min low,
 * summed volume and count. `ohlc1h` rolled up from `ohlc1m` equals `ohlc1h` from ticks.
 * @example defineFeature({ name: "ohlc1h_rollup", input: ohlc1m, window: tumbling("1h"), agg: rollup() })
 */
export function rollup(): Aggregator<RollupState, Ohlcv> {
  return ROLLUP;
}

function whole(n: number, what: string): number {
  if (!Number.isSafeInteger(n) || n < 1) throw new InputError(`${what}: n must be a whole number >= 1, not ${n}`, { context: { field: "agg" } });
  return n;
}

function closeOf(x: Tick, field: string): number {
  const v = (rec(x) as Record<string, unknown>)[field];
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new InputError(`the input record has no numeric '${field}'`, { remedy: "run the indicator over a feature whose records carry it (e.g. OHLCV candles)", context: { field } });
  }
  return v;
}

/** pandas' ewm(adjust=False) step, written as pandas computes it so the two agree bit for bit. */
function ewmStep(prev: number, x: number, alpha: number): number {
  const old = 1 - alpha;
  return (old * prev + alpha * x) / (old + alpha);
}

export interface IndicatorOptions {
  /** The input record's field the indicator reads. Default "close". */
  field?: string;
}

/**
 * Exponential moving average of the closes: pandas `ewm(span=n, adjust=False).mean()` (α = 2 / (n + 1)), from
 * the first window on. Result `{ ema }`.
 * @example defineFeature({ name: "ema12", input: ohlc1m, agg: ema(12) })
 */
export function ema(n: number, o: IndicatorOptions = {}): Aggregator<[number, number], { ema: number }> {
  const alpha = 2 / (whole(n, "ema") + 1);
  const field = o.field ?? "close";
  return Object.freeze({
    version: `ema-1:${n}:${field}`,
    init: (): [number, number] => [0, 0],
    add(s: [number, number], x: Tick): [number, number] {
      const v = closeOf(x, field);
      return s[0] === 0 ? [1, v] : [s[0] + 1, ewmStep(s[1], v, alpha)];
    },
    result: (s: [number, number]) => ({ ema: s[1] }),
  });
}

/** [windows, previous close, average gain, average loss]. */
type RsiState = [number, number, number, number];

/**
 * Relative strength index with Wilder smoothing: gains and losses of close-to-close changes, each averaged by
 * pandas `ewm(alpha=1/n, adjust=False)`, rsi = 100 − 100 / (1 + gain / loss); from the second window on (the first
 * has no change). Result `{ rsi }`, null when both averages are 0.
 * @example defineFeature({ name: "rsi14", input: ohlc1m, agg: rsi(14) })
 */
export function rsi(n: number, o: IndicatorOptions = {}): Aggregator<RsiState, { rsi: number | null }> {
  const alpha = 1 / whole(n, "rsi");
  const field = o.field ?? "close";
  return Object.freeze({
    version: `rsi-1:${n}:${field}`,
    init: (): RsiState => [0, 0, 0, 0],
    add(s: RsiState, x: Tick): RsiState {
      const v = closeOf(x, field);
      if (s[0] === 0) return [1, v, 0, 0];
      const d = v - s[1];
      const gain = Math.max(d, 0);
      const loss = Math.max(-d, 0);
      return s[0] === 1 ? [2, v, gain, loss] : [s[0] + 1, v, ewmStep(s[2], gain, alpha), ewmStep(s[3], loss, alpha)];
    },
    result(s: RsiState) {
      if (s[0] < 2) return undefined as unknown as { rsi: number | null };
      if (s[3] === 0) return { rsi: s[2] === 0 ? null : 100 };
      return { rsi: 100 - 100 / (1 + s[2] / s[3]) };
    },
  });
}

/**
 * Bollinger bands over the last n closes: mid = their mean, upper/lower = mid ± k × their standard deviation
 * (population, ddof 0), from the n-th window on. Result `{ mid, upper, lower }`.
 * @example defineFeature({ name: "bb20", input: ohlc1m, agg: bollinger(20, 2) })
 */
export function bollinger(n: number, k = 2, o: IndicatorOptions = {}): Aggregator<number[], { mid: number; upper: number; lower: number }> {
  whole(n, "bollinger");
  if (!Number.isFinite(k)) throw new InputError(`bollinger: k must be a number, not ${k}`, { context: { field: "agg" } });
  const field = o.field ?? "close";
  return Object.freeze({
    version: `bollinger-1:${n}:${k}:${field}`,
    init: (): number[] => [],
    add(s: number[], x: Tick): number[] {
      s.push(closeOf(x, field));
      if (s.length > n) s.shift();
      return s;
    },
    result(s: number[]) {
      if (s.length < n) return undefined as unknown as { mid: number; upper: number; lower: number };
      const mid = s.reduce((a, b) => a + b, 0) / n;
      const sd = Math.sqrt(s.reduce((a, b) => a + (b - mid) * (b - mid), 0) / n);
      return { mid, upper: mid + k * sd, lower: mid - k * sd };
    },
  });
}
