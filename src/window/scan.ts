import type { Tick } from "../tick/types.js";
import type { KeySnapshot } from "./engine.js";
import { type KeyBase, KeyedEngine } from "./keyed.js";
import type { WindowRecord } from "./types.js";

interface ScanKey extends KeyBase {
  state: unknown;
}

/**
 * No window ("scan"): each input record (another feature's window) is folded into its key's running state, and
 * the aggregator's result, when it has one yet, is emitted at once with the input window's start and end
 * (DESIGN.md "Features over features": one value per input window; bollinger(n) only from the n-th). Nothing is
 * late or open; the running state is checkpointed per key.
 */
export class ScanEngine<R extends Record<string, unknown>> extends KeyedEngine<R, ScanKey> {
  protected newKey(): ScanKey {
    return { watermark: Number.NEGATIVE_INFINITY, seenAt: 0, state: this.agg.init() };
  }

  protected isLate(): boolean {
    return false;
  }

  protected insert(key: string, ks: ScanKey, item: Tick, _t: number, seq: number): void {
    ks.state = this.agg.add(ks.state, item, seq);
    const result = this.agg.result(ks.state) as R | undefined;
    if (result === undefined) return;
    const w = item as unknown as WindowRecord;
    this.emitRecord({ key, start: w.start, end: w.end, ...result } as WindowRecord<R>, w.start);
  }

  protected close(): void {}
  protected flushKey(): void {}

  protected hasOpen(): boolean {
    return false;
  }

  protected writeKey(key: string, ks: ScanKey): KeySnapshot {
    return { key, watermark: ks.watermark, origin: 0, windows: [[0, 0, ks.state]] };
  }

  protected readKey(k: KeySnapshot): ScanKey {
    return { watermark: k.watermark, seenAt: 0, state: k.windows[0]?.[2] ?? this.agg.init() };
  }
}
