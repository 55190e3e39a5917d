import type { Tick } from "../tick/types.js";
import type { EngineSnapshot } from "./engine.js";
import type { Engine } from "./keyed.js";
import type { WindowRecord } from "./types.js";

/**
 * An engine whose input is another feature's records (DESIGN.md "Features over features"). The upstream step
 * writes each key's windows in start order (count windows: in `index` order), but at least once: after a crash it
 * writes some again (the same values). So each key's records are taken once, in that order; a record at or before
 * the key's newest is a redelivery and is dropped (counted in `redelivered`). The end of input is the upstream's eof marker from every
 * one of its input partitions. Both the newest starts and the markers seen are checkpointed with the engine.
 */
export class RecordInput implements Engine {
  private readonly newest = new Map<string, number>();
  private readonly ended = new Set<number>();
  redelivered = 0;

  constructor(private readonly inner: Engine) {}

  add(item: Tick, ingestMs?: number): "ok" | "late" {
    const r = item as unknown as WindowRecord;
    // Count windows are numbered (`index`) and may share or go back in start: their number orders them.
    const index = (r as unknown as { index?: unknown }).index;
    const order = typeof index === "number" ? index : r.start;
    const last = this.newest.get(r.key);
    if (last !== undefined && order <= last) {
      this.redelivered++;
      return "ok";
    }
    this.newest.set(r.key, order);
    return this.inner.add(item, ingestMs);
  }

  /**
   * The upstream's eof marker for its input partition `from` of `of`: true once every one of them arrived (the
   * caller then flushes). A marker without a source (a replay's own) ends the input at once.
   */
  endOfInput(from: number | undefined, of: number | undefined): boolean {
    if (from === undefined || of === undefined) return true;
    this.ended.add(from);
    if (this.ended.size < of) return false;
    this.ended.clear();
    return true;
  }

  closeIdle(now: number): number {
    return this.inner.closeIdle(now);
  }

  flush(): void {
    this.inner.flush();
  }

  openWindows(): number {
    return this.inner.openWindows();
  }

  lateCount(): number {
    return this.inner.lateCount();
  }

  watermarkOf(key: string): number | undefined {
    return this.inner.watermarkOf(key);
  }

  latestEventTime(key: string): number | undefined {
    return this.inner.latestEventTime(key);
  }

  keyList(): Iterable<string> {
    return this.inner.keyList();
  }

  snapshot(): EngineSnapshot {
    return { ...this.inner.snapshot(), inputs: [...this.newest], ...(this.ended.size ? { eofs: [...this.ended] } : {}) };
  }

  /** Continue from the newest starts and markers of `snap` (the inner engine restored from the same snapshot). */
  load(snap: EngineSnapshot): this {
    for (const [k, start] of snap.inputs ?? []) this.newest.set(k, start);
    for (const p of snap.eofs ?? []) this.ended.add(p);
    return this;
  }
}
