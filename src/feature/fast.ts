import type { TickColumns } from "../tick/columns.js";
import { columnTick } from "../tick/columns.js";
import type { Tick } from "../tick/types.js";
import { compareKeys } from "../window/engine.js";
import { type Ohlcv, ohlcvFold } from "./ohlcv.js";
import type { WindowRecord, WindowSpec } from "./types.js";

/**
 * Tumbling OHLCV over columns in one pass with no per-tick allocation: the batch fast path for the built-in
 * aggregator (`OhlcvTumblingFold` over every row). Records come out sorted by (key, start).
 */
export function ohlcvTumblingColumns(
  c: TickColumns,
  spec: WindowSpec,
  onLate?: (tick: Tick, info: { key: string; watermark: number }) => void,
): { records: WindowRecord<Ohlcv>[]; late: number } {
  const fold = new OhlcvTumblingFold(spec);
  const ids = c.keys.map((k) => fold.keyId(k));
  const { key, time, price, size } = c;
  for (let i = 0; i < c.n; i++) {
    const k = ids[key[i]!]!;
    if (!fold.add(k, time[i]!, price[i]!, size[i]!)) onLate?.(columnTick(c, i), { key: c.keys[key[i]!]!, watermark: fold.watermark(k) });
  }
  return fold.result();
}

/**
 * Tumbling OHLCV folded tick by tick, holding only the bars (a file is never held as ticks or columns). It applies
 * the engine's rules exactly (per-key watermark, grace, late = window already final, origin per key, ties by
 * arrival, volume summed in arrival order); the unit tests hold it equal to WindowEngine.
 * @example const f = new OhlcvTumblingFold(spec); f.add(f.keyId("BTC-USD"), t, price, size); f.result()
 */
export class OhlcvTumblingFold {
  late = 0;
  private readonly keys: string[] = [];
  private readonly ids = new Map<string, number>();
  private seen = new Uint8Array(16);
  private wm = new Float64Array(16);
  private origin = new Float64Array(16);
  private curStart = new Float64Array(16).fill(Number.NaN);
  private curSlot = new Int32Array(16);
  private readonly slotsOf: Map<number, number>[] = [];
  private readonly bars = new Bars();
  private readonly size: number;
  private readonly grace: number;
  private readonly byStart: boolean;

  constructor(spec: WindowSpec) {
    if (spec.step !== spec.size) throw new Error("OhlcvTumblingFold: tumbling windows only");
    this.size = spec.size;
    this.grace = spec.grace;
    this.byStart = spec.origin === "start";
  }

  /** The dense id of a key (its first call makes one). */
  keyId(key: string): number {
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.keys.length;
      if (id === this.seen.length) this.grow();
      this.keys.push(key);
      this.ids.set(key, id);
      this.slotsOf.push(new Map());
    }
    return id;
  }

  /** The key's watermark (its latest event time so far). */
  watermark(k: number): number {
    return this.wm[k]!;
  }

  /** Fold one tick of key `k`; false when it is late (its window is final already), counted in `late`. */
  add(k: number, t: number, p: number, q: number): boolean {
    const size = this.size;
    if (this.seen[k] === 0) {
      this.seen[k] = 1;
      this.wm[k] = t;
      this.origin[k] = this.byStart ? t : 0;
    }
    const o = this.origin[k]!;
    const start = o + Math.floor((t - o) / size) * size;
    if (start + size + this.grace <= this.wm[k]!) {
      this.late++;
      return false;
    }
    if (t > this.wm[k]!) this.wm[k] = t;
    let slot: number;
    if (this.curStart[k] === start) slot = this.curSlot[k]!;
    else {
      const found = this.slotsOf[k]!.get(start);
      slot = found ?? this.bars.open(k, start);
      if (found === undefined) this.slotsOf[k]!.set(start, slot);
      this.curStart[k] = start;
      this.curSlot[k] = slot;
    }
    this.bars.add(slot, p, q, t);
    return true;
  }

  result(): { records: WindowRecord<Ohlcv>[]; late: number } {
    return { records: this.bars.records(this.keys, this.size), late: this.late };
  }

  private grow(): void {
    const n = this.seen.length * 2;
    const seen = new Uint8Array(n);
    seen.set(this.seen);
    const wm = new Float64Array(n);
    wm.set(this.wm);
    const origin = new Float64Array(n);
    origin.set(this.origin);
    const curStart = new Float64Array(n).fill(Number.NaN);
    curStart.set(this.curStart);
    const curSlot = new Int32Array(n);
    curSlot.set(this.curSlot);
    this.seen = seen;
    this.wm = wm;
    this.origin = origin;
    this.curStart = curStart;
    this.curSlot = curSlot;
  }
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
