import type { Tick } from "../tick/types.js";
import type { KeySnapshot } from "./engine.js";
import { type KeyBase, KeyedEngine } from "./keyed.js";
import type { WindowRecord } from "./types.js";

interface CountKey extends KeyBase {
  /** Number of the open window (0, 1, 2… per key). */
  index: number;
  /** Ticks in it so far (0: none open). */
  n: number;
  min: number;
  max: number;
  state: unknown;
  updatedAt?: number;
}

/**
 * `countWindow(n)` (DESIGN.md "More window kinds"): a key's ticks in arrival order, n at a time. The n-th tick
 * closes the window; end of input emits the last, shorter one. Record start = earliest event time in it, end =
 * latest + 1, with `index`. Nothing is ever late.
 */
export class CountEngine<R extends Record<string, unknown>> extends KeyedEngine<R, CountKey> {
  protected newKey(): CountKey {
    return { watermark: Number.NEGATIVE_INFINITY, seenAt: 0, index: 0, n: 0, min: 0, max: 0, state: undefined };
  }

  protected isLate(): boolean {
    return false;
  }

  protected insert(key: string, ks: CountKey, tick: Tick, t: number, seq: number): void {
    if (ks.n === 0) {
      ks.state = this.agg.init();
      ks.min = ks.max = t;
      ks.updatedAt = undefined;
      this.open++;
    }
    ks.state = this.agg.add(ks.state, tick, seq);
    ks.n++;
    if (t < ks.min) ks.min = t;
    if (t > ks.max) ks.max = t;
    if (ks.n === this.spec.size) this.emitOpen(key, ks);
    else if (this.updates) this.update(ks, t, () => this.record(key, ks));
  }

  private record(key: string, ks: CountKey): WindowRecord<R> {
    return { key, start: ks.min, end: ks.max + 1, index: ks.index, ...this.agg.result(ks.state) } as WindowRecord<R>;
  }

  private emitOpen(key: string, ks: CountKey): void {
    const r = this.record(key, ks);
    ks.index++;
    ks.n = 0;
    ks.state = undefined;
    this.open--;
    this.emitRecord(r, ks.max);
  }

  protected close(): void {}

  protected flushKey(key: string, ks: CountKey): void {
    if (ks.n > 0) this.emitOpen(key, ks);
  }

  protected hasOpen(ks: CountKey): boolean {
    return ks.n > 0;
  }

  protected writeKey(key: string, ks: CountKey): KeySnapshot {
    const windows: [number, number, unknown][] = ks.n > 0 ? [[ks.min, ks.max, ks.state]] : [];
    const updated = ks.n > 0 && ks.updatedAt !== undefined ? { updated: [[ks.index, ks.updatedAt] as [number, number]] } : {};
    return { key, watermark: ks.watermark, origin: 0, windows, index: ks.index, count: ks.n, ...updated };
  }

  protected readKey(k: KeySnapshot): CountKey {
    const ks = this.newKey();
    ks.watermark = k.watermark;
    ks.index = k.index ?? 0;
    ks.n = k.count ?? 0;
    const w = k.windows[0];
    if (w && ks.n > 0) {
      [ks.min, ks.max, ks.state] = w;
      const u = k.updated?.find(([index]) => index === ks.index);
      if (u) ks.updatedAt = u[1];
      this.open++;
    }
    return ks;
  }
}
