import { InputError } from "../errors/index.js";
import type { Tick } from "../tick/types.js";
import { compareKeys, type EngineEvents, type EngineSnapshot, type KeySnapshot, liveSince } from "./engine.js";
import type { Aggregator, EngineSpec, WindowRecord, WindowSpec } from "./types.js";

/**
 * What batch and the stream step drive, whatever the window kind: `add` per tick in arrival order, `closeIdle` on
 * the live timer, `flush` at end of input, `snapshot` to checkpoint. WindowEngine (tumbling, hopping) and the
 * engines of this folder's other kinds (sliding, session, count) all implement it.
 */
export interface Engine {
  add(tick: Tick, ingestMs?: number): "ok" | "late";
  closeIdle(now: number): number;
  flush(): void;
  openWindows(): number;
  lateCount(): number;
  snapshot(): EngineSnapshot;
  /**
   * The event-time watermark that decides which of the key's windows are final (the partition's with closing
   * "partition", raised by idle closing); undefined for a key never seen.
   */
  watermarkOf(key: string): number | undefined;
  /**
   * The key's own latest event time (under closing "partition" the watermark is the partition's, often later):
   * what an end-of-input's ranges are measured from (`eof@<ms>`). Undefined for a key never seen.
   */
  latestEventTime(key: string): number | undefined;
  /** Every key seen, with `watermarkOf` it. */
  keyList(): Iterable<string>;
  /** Input from another feature only (records.ts): an upstream eof marker; true when the input has ended. */
  endOfInput?(from: number | undefined, of: number | undefined): boolean;
}

/** Per key: the event-time watermark and, for idle, when its newest live tick arrived (engine.ts `liveSince`). */
export interface KeyBase {
  watermark: number;
  seenAt: number;
}

/**
 * The parts every non-grid kind shares: per-key watermark (or the partition's, closing "partition"), the idle
 * timeout, late counting, early results, and the snapshot frame. A kind says how a tick joins its windows
 * (`insert`), which are late (`isLate`), what a watermark closes (`close`), what end of input emits (`flushKey`),
 * and how its per-key state is written and read back.
 */
export abstract class KeyedEngine<R extends Record<string, unknown>, K extends KeyBase> implements Engine {
  protected readonly keys = new Map<string, K>();
  protected readonly spec: WindowSpec;
  protected readonly agg: Aggregator<unknown, R>;
  protected seq = 0;
  protected late = 0;
  protected open = 0;
  protected lastIngest: number | undefined;
  private readonly byPartition: boolean;
  private pw = Number.NEGATIVE_INFINITY;
  private pwSeenAt = 0;
  private readonly every: number;

  constructor(
    protected readonly def: EngineSpec<R>,
    protected readonly events: EngineEvents<R>,
  ) {
    this.spec = def.window;
    this.agg = def.aggregator;
    this.byPartition = this.spec.closing === "partition";
    this.every = this.spec.every ?? 0;
  }

  protected abstract newKey(t: number): K;
  /** Whether a tick at `t` falls where the watermark `closedBy` already made a window final. */
  protected abstract isLate(ks: K, t: number, closedBy: number): boolean;
  protected abstract insert(key: string, ks: K, tick: Tick, t: number, seq: number): void;
  /** Emit the key's windows that watermark `wm` makes final, oldest first. */
  protected abstract close(key: string, ks: K, wm: number): void;
  /** End of input: emit every open window of the key. */
  protected abstract flushKey(key: string, ks: K): void;
  protected abstract hasOpen(ks: K): boolean;
  protected abstract writeKey(key: string, ks: K): KeySnapshot;
  protected abstract readKey(k: KeySnapshot): K;

  add(tick: Tick, ingestMs?: number): "ok" | "late" {
    const key = this.def.key(tick);
    const t = eventTime(this.def.time(tick), tick);
    if (ingestMs !== undefined) this.lastIngest = ingestMs;
    const seq = this.seq++;
    let ks = this.keys.get(key);
    if (!ks) {
      ks = this.newKey(t);
      this.keys.set(key, ks);
    }
    if (this.spec.idle) ks.seenAt = this.pwSeenAt = liveSince(t, this.spec.idle);
    const closedBy = this.byPartition ? Math.max(this.pw, ks.watermark) : ks.watermark;
    if (this.isLate(ks, t, closedBy)) {
      // Still the key's latest event time (closing "partition": another key's ticks can make this one late).
      if (t > ks.watermark) ks.watermark = t;
      this.late++;
      this.events.late?.(tick, { key, watermark: closedBy });
      return "late";
    }
    this.insert(key, ks, tick, t, seq);
    if (t > ks.watermark) ks.watermark = t;
    if (this.byPartition) {
      if (t > this.pw) {
        this.pw = t;
        for (const [k, s] of this.keys) this.close(k, s, t);
      }
    } else {
      this.close(key, ks, ks.watermark);
    }
    return "ok";
  }

  closeIdle(now: number): number {
    const idle = this.spec.idle;
    if (!idle) return 0;
    const before = this.open;
    if (this.byPartition) {
      if (!Number.isNaN(this.pwSeenAt) && now - this.pwSeenAt >= idle && now > this.pw) {
        this.pw = now;
        for (const [k, s] of this.keys) this.close(k, s, now);
      }
      return before - this.open;
    }
    for (const [key, ks] of this.keys) {
      if (!this.hasOpen(ks) || Number.isNaN(ks.seenAt) || now - ks.seenAt < idle || now <= ks.watermark) continue;
      ks.watermark = now;
      this.close(key, ks, now);
    }
    return before - this.open;
  }

  flush(): void {
    for (const key of [...this.keys.keys()].sort(compareKeys)) this.flushKey(key, this.keys.get(key)!);
  }

  openWindows(): number {
    return this.open;
  }

  lateCount(): number {
    return this.late;
  }

  keyList(): Iterable<string> {
    return this.keys.keys();
  }

  watermarkOf(key: string): number | undefined {
    const ks = this.keys.get(key);
    if (!ks) return undefined;
    return this.byPartition ? Math.max(this.pw, ks.watermark) : ks.watermark;
  }

  latestEventTime(key: string): number | undefined {
    // The key's max event time: idle closing raises it only under closing "key", on live input, which never ends.
    return this.keys.get(key)?.watermark;
  }

  snapshot(): EngineSnapshot {
    const keys = [...this.keys].map(([key, ks]) => this.writeKey(key, ks));
    const pw = this.byPartition && Number.isFinite(this.pw) ? { partitionWatermark: this.pw } : {};
    return structuredClone({ format: 1, kind: this.spec.kind, feature: this.def.name, version: this.def.version, seq: this.seq, late: this.late, keys, ...pw });
  }

  /** Continue from `snap` (checked by the caller: same version, same kind). */
  load(snap: EngineSnapshot): this {
    this.seq = snap.seq;
    this.late = snap.late;
    for (const k of structuredClone(snap.keys)) {
      const ks = this.readKey(k);
      ks.seenAt = Number.NaN;
      this.keys.set(k.key, ks);
    }
    if (snap.partitionWatermark !== undefined) this.pw = snap.partitionWatermark;
    this.pwSeenAt = Number.NaN;
    return this;
  }

  protected emitRecord(record: WindowRecord<R>, maxTickTime: number): void {
    this.events.emit(record, { maxTickTime, lastIngestMs: this.lastIngest });
  }

  /** emit "update": the window's current value, unless one was emitted less than `every` ago (event time). */
  protected update(w: { updatedAt?: number }, t: number, record: () => WindowRecord<R>): void {
    if (!this.events.update || (this.every > 0 && w.updatedAt !== undefined && t - w.updatedAt < this.every)) return;
    w.updatedAt = t;
    this.events.update(record());
  }

  protected get updates(): boolean {
    return this.spec.emit === "update";
  }
}

export function eventTime(t: number, tick: Tick): number {
  if (!Number.isFinite(t)) {
    throw new InputError(`the feature's time function returned ${t} for a ${tick.product_id} tick`, {
      remedy: "return epoch milliseconds (a finite number) from `time`",
      context: { field: "time" },
    });
  }
  return Math.floor(t);
}

/** The aggregator's merge, or an error naming the window kind that needs it. */
export function needMerge<S>(agg: Aggregator<S, Record<string, unknown>>, feature: string, kind: string): (a: S, b: S) => S {
  const merge = agg.merge;
  if (typeof merge !== "function") {
    throw new InputError(`feature '${feature}': ${kind} windows combine partial results, and its aggregator has no merge(a, b)`, {
      remedy: "use ohlcv() or a whole-window function (rows) => value, or add merge(a, b) to your aggregator",
      context: { field: "agg" },
    });
  }
  return (a, b) => merge.call(agg, a, b);
}
