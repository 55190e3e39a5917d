import type { Tick } from "../tick/types.js";
import type { KeySnapshot } from "./engine.js";
import { type KeyBase, KeyedEngine } from "./keyed.js";
import type { Aggregator, WindowRecord } from "./types.js";

/** One tick in a sliding window's buffer: event time, arrival number, the tick, and its own one-tick state. */
interface Elem {
  t: number;
  seq: number;
  tick: Tick;
  state: unknown;
}

/**
 * The ticks of the window being slid, oldest first. With the aggregator's merge it is a two-stack queue (each
 * window's value costs amortised O(1) merges); without it, the window's ticks are folded afresh in arrival order.
 */
class WindowQueue {
  private front: { e: Elem; acc: unknown }[] = [];
  private back: Elem[] = [];
  private backAcc: unknown;
  constructor(
    private readonly agg: Aggregator<unknown, Record<string, unknown>>,
    private readonly merge: ((a: unknown, b: unknown) => unknown) | undefined,
  ) {}

  get size(): number {
    return this.front.length + this.back.length;
  }

  push(e: Elem): void {
    this.back.push(e);
    if (this.merge) this.backAcc = this.back.length === 1 ? e.state : this.merge(this.backAcc, e.state);
  }

  oldest(): Elem | undefined {
    return this.front.length ? this.front[this.front.length - 1]!.e : this.back[0];
  }

  shift(): void {
    if (this.front.length === 0) {
      let acc: unknown;
      for (let i = this.back.length - 1; i >= 0; i--) {
        const e = this.back[i]!;
        acc = i === this.back.length - 1 || !this.merge ? e.state : this.merge(e.state, acc);
        this.front.push({ e, acc });
      }
      this.back = [];
      this.backAcc = undefined;
    }
    this.front.pop();
  }

  /** How many of the oldest ticks sit on the front stack: with `elems()` it rebuilds the same queue (`load`). */
  get frontSize(): number {
    return this.front.length;
  }

  /**
   * The queue of `elems` whose oldest `front` sit on the front stack: merges then happen in the same order as in
   * the queue that was saved, so a restored step sums (say) volumes exactly as an uninterrupted one.
   */
  load(elems: readonly Elem[], front: number): void {
    let acc: unknown;
    for (let i = front - 1; i >= 0; i--) {
      const e = elems[i]!;
      acc = i === front - 1 || !this.merge ? e.state : this.merge(e.state, acc);
      this.front.push({ e, acc });
    }
    for (const e of elems.slice(front)) this.push(e);
  }

  /** Every tick in the queue, oldest first. */
  elems(): Elem[] {
    const out: Elem[] = [];
    for (let i = this.front.length - 1; i >= 0; i--) out.push(this.front[i]!.e);
    return out.concat(this.back);
  }

  value(): Record<string, unknown> {
    if (!this.merge) return foldInArrivalOrder(this.agg, this.elems());
    const f = this.front.length ? this.front[this.front.length - 1]!.acc : undefined;
    const state = f !== undefined && this.back.length ? this.merge(f, this.backAcc) : f !== undefined ? f : this.backAcc;
    return this.agg.result(state);
  }
}

function foldInArrivalOrder(agg: Aggregator<unknown, Record<string, unknown>>, elems: Elem[]): Record<string, unknown> {
  let state = agg.init();
  for (const e of [...elems].sort((a, b) => a.seq - b.seq)) state = agg.add(state, e.tick, e.seq);
  return agg.result(state);
}

interface SlidingKey extends KeyBase {
  /** End (τ) of the newest emitted window. */
  emitted: number;
  /** Ticks in the windows emitted so far that later windows still need. */
  queue: WindowQueue;
  /** Ticks after `emitted`, sorted by (time, arrival): each distinct time is an open window. */
  pending: Elem[];
  /** emit "update": event time of each open window's newest update. */
  updated: Map<number, number>;
}

/**
 * `sliding(size)` (DESIGN.md "More window kinds"): one window per distinct event time τ of a key, holding its
 * ticks in (τ − size, τ]; final once the watermark reaches τ + grace. A tick is late when its own window is
 * already final (then it joins no window, like a late tick of a tumbling window).
 */
export class SlidingEngine<R extends Record<string, unknown>> extends KeyedEngine<R, SlidingKey> {
  private readonly merge = typeof this.agg.merge === "function" ? (a: unknown, b: unknown) => this.agg.merge!.call(this.agg, a, b) : undefined;

  protected newKey(): SlidingKey {
    return { watermark: Number.NEGATIVE_INFINITY, seenAt: 0, emitted: Number.NEGATIVE_INFINITY, queue: this.newQueue(), pending: [], updated: new Map() };
  }

  private newQueue(): WindowQueue {
    return new WindowQueue(this.agg as Aggregator<unknown, Record<string, unknown>>, this.merge);
  }

  protected isLate(_ks: SlidingKey, t: number, closedBy: number): boolean {
    return t + this.spec.grace <= closedBy;
  }

  protected insert(key: string, ks: SlidingKey, tick: Tick, t: number, seq: number): void {
    const p = ks.pending;
    let i = p.length;
    while (i > 0 && p[i - 1]!.t > t) i--;
    if (i === 0 || p[i - 1]!.t !== t) this.open++;
    p.splice(i, 0, { t, seq, tick, state: this.merge ? this.agg.add(this.agg.init(), tick, seq) : undefined });
    if (this.updates) {
      const w = { updatedAt: ks.updated.get(t) };
      this.update(w, t, () => this.current(key, ks, t));
      if (w.updatedAt !== undefined) ks.updated.set(t, w.updatedAt);
    }
  }

  /** The open window τ's value now: the queue's and the pending ticks in (τ − size, τ]. */
  private current(key: string, ks: SlidingKey, tau: number): WindowRecord<R> {
    const from = tau - this.spec.size;
    const elems = [...ks.queue.elems(), ...ks.pending].filter((e) => e.t > from && e.t <= tau);
    return this.record(key, tau, foldInArrivalOrder(this.agg as Aggregator<unknown, Record<string, unknown>>, elems));
  }

  private record(key: string, tau: number, result: Record<string, unknown>): WindowRecord<R> {
    return { key, start: tau - this.spec.size, end: tau, ...result } as WindowRecord<R>;
  }

  protected close(key: string, ks: SlidingKey, wm: number): void {
    while (ks.pending.length && ks.pending[0]!.t + this.spec.grace <= wm) this.emitNext(key, ks);
  }

  /** Slide to the oldest pending time τ: its ticks join the queue, ticks at or before τ − size leave it. */
  private emitNext(key: string, ks: SlidingKey): void {
    const tau = ks.pending[0]!.t;
    let n = 0;
    while (n < ks.pending.length && ks.pending[n]!.t === tau) ks.queue.push(ks.pending[n++]!);
    ks.pending.splice(0, n);
    for (let o = ks.queue.oldest(); o && o.t <= tau - this.spec.size; o = ks.queue.oldest()) ks.queue.shift();
    ks.emitted = tau;
    ks.updated.delete(tau);
    this.open--;
    this.emitRecord(this.record(key, tau, ks.queue.value()), tau);
  }

  protected flushKey(key: string, ks: SlidingKey): void {
    while (ks.pending.length) this.emitNext(key, ks);
  }

  protected hasOpen(ks: SlidingKey): boolean {
    return ks.pending.length > 0;
  }

  protected writeKey(key: string, ks: SlidingKey): KeySnapshot {
    const windows = [...ks.queue.elems(), ...ks.pending].map((e): [number, number, unknown] => [e.t, e.seq, e.tick]);
    const emitted = Number.isFinite(ks.emitted) ? { emitted: ks.emitted } : {};
    const updated = ks.updated.size ? { updated: [...ks.updated] } : {};
    return { key, watermark: ks.watermark, origin: 0, windows, ...emitted, index: ks.queue.frontSize, count: ks.queue.size, ...updated };
  }

  protected readKey(k: KeySnapshot): SlidingKey {
    const ks = this.newKey();
    ks.watermark = k.watermark;
    ks.emitted = k.emitted ?? Number.NEGATIVE_INFINITY;
    ks.updated = new Map(k.updated ?? []);
    const elems = k.windows.map(([t, seq, raw]): Elem => ({ t, seq, tick: raw as Tick, state: this.merge ? this.agg.add(this.agg.init(), raw as Tick, seq) : undefined }));
    const queued = k.count ?? 0;
    ks.queue.load(elems.slice(0, queued), k.index ?? 0);
    ks.pending = elems.slice(queued);
    for (let i = 0; i < ks.pending.length; i++) if (i === 0 || ks.pending[i]!.t !== ks.pending[i - 1]!.t) this.open++;
    return ks;
  }
}
