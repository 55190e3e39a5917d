import type { TickColumns } from "../tick/columns.js";
import { columnTick } from "../tick/columns.js";
import type { Tick } from "../tick/types.js";
import { compareKeys } from "../window/engine.js";
import { type Ohlcv, ohlcvFold } from "./ohlcv.js";
import type { WindowRecord, WindowSpec } from "./types.js";

/**
 * Tumbling OHLCV over columns in one pass with no per-tick allocation: the batch fast path for the built-in
 * aggregator. It applies the engine's rules exactly (per-key watermark, grace, late = window already final,
 * origin per key, ties by arrival, volume summed in arrival order); the unit tests hold it equal to WindowEngine.
 * Records come out sorted by (key, start).
 */
export function ohlcvTumblingColumns(
  c: TickColumns,
  spec: WindowSpec,
  onLate?: (tick: Tick, info: { key: string; watermark: number }) => void,
): { records: WindowRecord<Ohlcv>[]; late: number } {
  if (spec.step !== spec.size) throw new Error("ohlcvTumblingColumns: tumbling windows only");
  const { size, grace } = spec;
  const nk = c.keys.length;
  const seen = new Uint8Array(nk);
  const wm = new Float64Array(nk);
  const origin = new Float64Array(nk);
  const curStart = new Float64Array(nk).fill(Number.NaN);
  const curSlot = new Int32Array(nk);
  const slotsOf: Map<number, number>[] = Array.from({ length: nk }, () => new Map());
  const bars = new Bars();
  const byStart = spec.origin === "start";
  const { key, time, price, size: qty } = c;
  let late = 0;
  for (let i = 0; i < c.n; i++) {
    const k = key[i]!;
    const t = time[i]!;
    if (seen[k] === 0) {
      seen[k] = 1;
      wm[k] = t;
      origin[k] = byStart ? t : 0;
    }
    const o = origin[k]!;
    const start = o + Math.floor((t - o) / size) * size;
    if (start + size + grace <= wm[k]!) {
      late++;
      onLate?.(columnTick(c, i), { key: c.keys[k]!, watermark: wm[k]! });
      continue;
    }
    if (t > wm[k]!) wm[k] = t;
    let slot: number;
    if (curStart[k] === start) slot = curSlot[k]!;
    else {
      const found = slotsOf[k]!.get(start);
      slot = found ?? bars.open(k, start);
      if (found === undefined) slotsOf[k]!.set(start, slot);
      curStart[k] = start;
      curSlot[k] = slot;
    }
    bars.add(slot, price[i]!, qty[i]!, t);
  }
  return { records: bars.records(c.keys, size), late };
}

/** OHLCV bars in struct-of-arrays form, folded by the same ohlcvFold the engine's aggregator uses. */
class Bars {
  n = 0;
  private cap = 256;
  key = new Uint32Array(this.cap);
  start = new Float64Array(this.cap);
  // open, openTime, high, low, close, closeTime, volume, count — 8 per bar, like OhlcvState.
  v = new Float64Array(this.cap * 8);

  open(k: number, start: number): number {
    if (this.n === this.cap) {
      this.cap *= 2;
      const key = new Uint32Array(this.cap);
      key.set(this.key);
      const st = new Float64Array(this.cap);
      st.set(this.start);
      const v = new Float64Array(this.cap * 8);
      v.set(this.v);
      this.key = key;
      this.start = st;
      this.v = v;
    }
    const s = this.n++;
    this.key[s] = k;
    this.start[s] = start;
    return s;
  }

  add(slot: number, p: number, q: number, t: number): void {
    ohlcvFold(this.v, slot * 8, p, q, t);
  }

  records(keys: readonly string[], size: number): WindowRecord<Ohlcv>[] {
    const order = Array.from({ length: this.n }, (_, i) => i);
    order.sort((a, b) => compareKeys(keys[this.key[a]!]!, keys[this.key[b]!]!) || this.start[a]! - this.start[b]!);
    return order.map((s) => {
      const b = s * 8;
      const v = this.v;
      const start = this.start[s]!;
      return { key: keys[this.key[s]!]!, start, end: start + size, open: v[b]!, high: v[b + 2]!, low: v[b + 3]!, close: v[b + 4]!, volume: v[b + 6]!, count: v[b + 7]! };
    });
  }
}
