import { InputError } from "../errors/index.js";
import type { Tick } from "../tick/types.js";
import { firstWindowStart, lastWindowStart } from "./assign.js";
import type { Aggregator, EngineSpec, WindowRecord, WindowSpec } from "./types.js";

/** What an engine tells its owner. Both callbacks run synchronously inside `add`/`flush`. */
export interface EngineEvents<R> {
  /**
   * A window became final (or input ended). `maxTickTime` is the largest event time among the window's ticks;
   * `lastIngestMs` is the ingest time passed with the `add` that made it final (the latest one seen, on flush).
   */
  emit(record: WindowRecord<R>, info: { maxTickTime: number; lastIngestMs?: number }): void;
  /** A tick fell into a window already final for its key; it is counted and not merged. */
  late?(tick: Tick, info: { key: string; watermark: number }): void;
  /** `emit: "update"`: an open window's current value after a tick (not final; the final record follows later). */
  update?(record: WindowRecord<R>): void;
}

/** JSON-serialisable engine state: everything needed to continue exactly where it stopped. */
export interface EngineSnapshot {
  readonly format: 1;
  readonly feature: string;
  readonly version: string;
  /** Arrival counter (tie-breaking for whole-window functions). */
  readonly seq: number;
  readonly late: number;
  /**
   * Per key: watermark, grid origin, and open windows as [start, maxTickTime, aggregator state]; with `fill:
   * "carry"`, `last` = the start and result of the newest window emitted.
   */
  readonly keys: KeySnapshot[];
  /** `closing: "partition"`: the input partition's watermark (max event time of every key). */
  readonly partitionWatermark?: number;
  /** The window kind, for sliding, session, count and scan (absent: tumbling or hopping). */
  readonly kind?: string;
  /** Input from another feature (records.ts): each key's newest input start, and the upstream eof markers seen. */
  readonly inputs?: [string, number][];
  readonly eofs?: number[];
}

/**
 * One key's state. Tumbling and hopping: open windows as [start, maxTickTime, state]. Sliding: the ticks still
 * needed as [time, seq, tick], `emitted` = the newest window's end, the first `count` of them in the queue being
 * slid (its oldest `index` on the queue's front stack). Session: open sessions as [first, last, state],
 * `emitted` = the newest final session's last tick time. Count: the open window as [minTime, maxTime, state],
 * `index` and `count` its number and size.
 */
export interface KeySnapshot {
  key: string;
  watermark: number;
  origin: number;
  windows: [number, number, unknown][];
  last?: [number, Record<string, unknown>];
  emitted?: number;
  index?: number;
  count?: number;
  /**
   * emit "update" with `every`: when each open window last sent an update (event time), as [window, time]; the
   * window is its start (tumbling, hopping), τ (sliding), its first tick time (session) or its index (count).
   * Checkpointed so a restored step throttles its updates as an uninterrupted one. Absent: none sent yet.
   */
  updated?: [number, number][];
}

interface OpenWindow {
  start: number;
  maxTime: number;
  state: unknown;
  /** Event time of the newest update emitted for it (emit "update" with `every`). */
  updatedAt?: number;
}

interface KeyState {
  watermark: number;
  origin: number;
  /** Sorted by start; usually one or two entries for tumbling, about size/step + grace/step for hopping. */
  windows: OpenWindow[];
  /** fill "carry": the newest window emitted, whose close the next empty windows carry. */
  last?: [number, Record<string, unknown>];
  /**
   * idle: wall time of the key's newest tick, or NaN when that tick arrived more than `idle` behind the wall clock
   * (a recording, a backlog) or the key was restored: the wall clock then says nothing about the feed, and only a
   * live tick starts the key's idle clock again. Not checkpointed.
   */
  seenAt: number;
}

/**
 * The one windowing state machine used by batch and stream (DESIGN.md "Windows"). Per key it keeps an event-time
 * watermark (the max event time seen) and the open windows; a window is final when watermark >= end + grace and is
 * emitted then; a tick whose earliest window is already final is late. Life cycle: `add` per tick in arrival order,
 * `flush` at end of input; `snapshot`/`restore` to checkpoint. It knows only an EngineSpec (window, aggregator,
 * key, time, and the state's name and version), not the Feature around it.
 * @example new WindowEngine({ name: "bars", version: "1", window, aggregator: ohlcv(), key: (t) => t.product_id, time: (t) => t.time }, { emit })
 */
export class WindowEngine<R extends Record<string, unknown> = Record<string, unknown>> {
  private readonly keys = new Map<string, KeyState>();
  private readonly spec: WindowSpec;
  private readonly agg: Aggregator<unknown, R>;
  private seq = 0;
  private late = 0;
  private open = 0;
  private lastIngest: number | undefined;
  private readonly byPartition: boolean;
  /** closing "partition": max event time over every key, and when it was last moved (wall clock, for idle). */
  private pw = Number.NEGATIVE_INFINITY;
  private pwSeenAt = 0;
  /** closing "partition": the smallest open window start of any key (a sweep is due once the horizon reaches it). */
  private nextDue = Number.POSITIVE_INFINITY;
  private readonly updates: boolean;
  private readonly every: number;
  private readonly filler: ((previous: R) => R) | undefined;

  constructor(
    private readonly def: EngineSpec<R>,
    private readonly events: EngineEvents<R>,
  ) {
    this.spec = def.window;
    this.agg = def.aggregator;
    this.byPartition = this.spec.closing === "partition";
    this.updates = this.spec.emit === "update";
    this.every = this.spec.every ?? 0;
    if (this.spec.fill === "carry") {
      const fill = this.agg.fill;
      if (typeof fill !== "function") {
        throw new InputError(`feature '${def.name}': fill "carry" needs an aggregator that says what an empty window holds (a fill(previous) method)`, {
          remedy: 'use ohlcv(), add fill(previous) to your aggregator, or drop fill: "carry"',
          context: { field: "fill" },
        });
      }
      this.filler = (previous) => fill.call(this.agg, previous);
    }
  }

  /** Feed one tick (arrival order). Returns "late" when it was dropped; may emit windows before returning. */
  add(tick: Tick, ingestMs?: number): "ok" | "late" {
    const key = this.def.key(tick);
    const t = eventTime(this.def.time(tick), tick);
    if (ingestMs !== undefined) this.lastIngest = ingestMs;
    const seq = this.seq++;
    const { size, step, grace } = this.spec;
    let ks = this.keys.get(key);
    if (!ks) {
      ks = { watermark: t, origin: this.spec.origin === "start" ? t : 0, windows: [], seenAt: 0 };
      this.keys.set(key, ks);
    }
    if (this.spec.idle) ks.seenAt = this.pwSeenAt = liveSince(t, this.spec.idle);
    const first = firstWindowStart(t, this.spec, ks.origin);
    const closedBy = this.byPartition ? Math.max(this.pw, ks.watermark) : ks.watermark;
    if (first + size + grace <= closedBy) {
      // Still the key's latest event time (closing "partition": another key's ticks can make this one late).
      if (t > ks.watermark) ks.watermark = t;
      this.late++;
      this.events.late?.(tick, { key, watermark: closedBy });
      return "late";
    }
    const last = lastWindowStart(t, this.spec, ks.origin);
    const ws = ks.windows;
    let i = ws.length - 1;
    while (i >= 0 && ws[i]!.start > first) i--;
    if (i < 0 || ws[i]!.start !== first) i++;
    for (let s = first; s <= last; s += step, i++) {
      let w = ws[i];
      if (w === undefined || w.start !== s) {
        w = { start: s, maxTime: t, state: this.agg.init() };
        ws.splice(i, 0, w);
        this.open++;
      }
      w.state = this.agg.add(w.state, tick, seq);
      if (t > w.maxTime) w.maxTime = t;
      if (this.updates) this.update(key, w, t);
    }
    if (ws[0]!.start < this.nextDue) this.nextDue = ws[0]!.start;
    if (this.byPartition) {
      if (t > ks.watermark) ks.watermark = t;
      if (t > this.pw) this.advancePartition(t);
    } else if (t > ks.watermark) {
      ks.watermark = t;
      this.emitFinal(key, ks, ks.watermark);
    }
    return "ok";
  }

  /**
   * Live input only (the step calls it on a timer; batch and replay never do): every key without a tick for the
   * window's `idle` (wall clock) closes the windows whose end + grace is past `now`, as if its watermark had
   * reached `now`; a tick for one of them later is late. With closing "partition" the whole partition must be
   * quiet. Returns the number of windows emitted.
   */
  closeIdle(now: number): number {
    const idle = this.spec.idle;
    if (!idle) return 0;
    const before = this.open;
    if (this.byPartition) {
      if (!Number.isNaN(this.pwSeenAt) && now - this.pwSeenAt >= idle && now > this.pw) this.advancePartition(now);
      return before - this.open;
    }
    for (const [key, ks] of this.keys) {
      if (ks.windows.length === 0 || Number.isNaN(ks.seenAt) || now - ks.seenAt < idle || now <= ks.watermark) continue;
      ks.watermark = now;
      this.emitFinal(key, ks, now);
    }
    return before - this.open;
  }

  /** End of input: emit every open window, sorted by (key, start). */
  flush(): void {
    const keys = [...this.keys.keys()].sort(compareKeys);
    for (const key of keys) {
      const ks = this.keys.get(key)!;
      for (const w of ks.windows) this.emitWindow(key, ks, w);
      this.open -= ks.windows.length;
      ks.windows = [];
    }
    this.nextDue = Number.POSITIVE_INFINITY;
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

  /** The watermark that decides which of the key's windows are final (the partition's with closing "partition"). */
  watermarkOf(key: string): number | undefined {
    const ks = this.keys.get(key);
    if (!ks) return undefined;
    return this.byPartition ? Math.max(this.pw, ks.watermark) : ks.watermark;
  }

  /**
   * The key's own latest event time, what an end-of-input's ranges are measured from (the partition's watermark,
   * with closing "partition", is often later). Idle closing raises it only under closing "key", on live input.
   */
  latestEventTime(key: string): number | undefined {
    return this.keys.get(key)?.watermark;
  }

  /** A deep, JSON-serialisable copy of the state (the aggregator's states are copied, not shared). */
  snapshot(): EngineSnapshot {
    const keys: EngineSnapshot["keys"] = [];
    for (const [key, ks] of this.keys) {
      const windows = ks.windows.map((w): [number, number, unknown] => [w.start, w.maxTime, w.state]);
      const updated = ks.windows.filter((w) => w.updatedAt !== undefined).map((w): [number, number] => [w.start, w.updatedAt!]);
      keys.push({ key, watermark: ks.watermark, origin: ks.origin, windows, ...(ks.last ? { last: ks.last } : {}), ...(updated.length ? { updated } : {}) });
    }
    const pw = this.byPartition && Number.isFinite(this.pw) ? { partitionWatermark: this.pw } : {};
    return structuredClone({ format: 1, feature: this.def.name, version: this.def.version, seq: this.seq, late: this.late, keys, ...pw });
  }

  /** An engine continuing from a snapshot; refuses one taken with a different version (of the feature, usually). */
  static restore<R extends Record<string, unknown>>(def: EngineSpec<R>, snap: EngineSnapshot, events: EngineEvents<R>): WindowEngine<R> {
    if (snap?.format !== 1 || snap.version !== def.version) {
      throw new InputError(
        `checkpoint of '${snap?.feature}' (version ${snap?.version}) does not match feature '${def.name}' (version ${def.version})`,
        { remedy: "the feature's definition changed since the checkpoint: reset the step's state and replay from the start" },
      );
    }
    const e = new WindowEngine(def, events);
    e.seq = snap.seq;
    e.late = snap.late;
    for (const k of structuredClone(snap.keys)) {
      const updated = new Map(k.updated ?? []);
      e.keys.set(k.key, {
        watermark: k.watermark,
        origin: k.origin,
        windows: k.windows.map(([start, maxTime, state]) => ({ start, maxTime, state, ...(updated.has(start) ? { updatedAt: updated.get(start) } : {}) })),
        ...(k.last ? { last: k.last } : {}),
        seenAt: Number.NaN,
      });
      e.open += k.windows.length;
      if (k.windows.length && k.windows[0]![0] < e.nextDue) e.nextDue = k.windows[0]![0];
    }
    if (snap.partitionWatermark !== undefined) e.pw = snap.partitionWatermark;
    e.pwSeenAt = Number.NaN;
    return e;
  }

  /** closing "partition": the partition's watermark moved to `wm`; close what it closes, in every key. */
  private advancePartition(wm: number): void {
    this.pw = wm;
    const horizon = wm - this.spec.size - this.spec.grace;
    if (horizon < this.nextDue) return;
    let next = Number.POSITIVE_INFINITY;
    for (const [key, ks] of this.keys) {
      this.emitFinal(key, ks, wm);
      if (ks.windows.length && ks.windows[0]!.start < next) next = ks.windows[0]!.start;
    }
    this.nextDue = next;
  }

  /** Emit the key's windows that watermark `wm` makes final, oldest first. */
  private emitFinal(key: string, ks: KeyState, wm: number): void {
    const ws = ks.windows;
    const horizon = wm - this.spec.size - this.spec.grace;
    let n = 0;
    while (n < ws.length && ws[n]!.start <= horizon) n++;
    if (n === 0) return;
    const done = ws.splice(0, n);
    this.open -= n;
    for (const w of done) this.emitWindow(key, ks, w);
  }

  private emitWindow(key: string, ks: KeyState, w: OpenWindow): void {
    const result = this.agg.result(w.state);
    const info = { maxTickTime: w.maxTime, lastIngestMs: this.lastIngest };
    if (this.filler) {
      // Every window the grid has between the newest emitted one and this one had no tick: carry its close.
      const { size, step } = this.spec;
      if (ks.last) {
        let prev = ks.last[1] as R;
        for (let s = ks.last[0] + step; s < w.start; s += step) {
          prev = this.filler(prev);
          this.events.emit({ key, start: s, end: s + size, ...prev } as WindowRecord<R>, info);
        }
      }
      ks.last = [w.start, result];
    }
    this.events.emit({ key, start: w.start, end: w.start + this.spec.size, ...result } as WindowRecord<R>, info);
  }

  /** emit "update": the window's current value, unless one was emitted less than `every` ago (event time). */
  private update(key: string, w: OpenWindow, t: number): void {
    if (this.every > 0 && w.updatedAt !== undefined && t - w.updatedAt < this.every) return;
    w.updatedAt = t;
    this.events.update?.({ key, start: w.start, end: w.start + this.spec.size, ...this.agg.result(w.state) } as WindowRecord<R>);
  }
}

/** Key order of every sorted output: JavaScript string order (UTF-16 code units), like Python's for ASCII ids. */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The wall time to start a key's idle clock from for a tick at event time `t` arriving now: now, or NaN when the
 * tick is more than `idle` behind the wall clock (replayed or caught up from a backlog), which never counts as live.
 */
export function liveSince(t: number, idle: number): number {
  const now = Date.now();
  return now - t > idle ? Number.NaN : now;
}

function eventTime(t: number, tick: Tick): number {
  if (!Number.isFinite(t)) {
    throw new InputError(`the feature's time function returned ${t} for a ${tick.product_id} tick`, {
      remedy: "return epoch milliseconds (a finite number) from `time`",
      context: { field: "time" },
    });
  }
  return Math.floor(t);
}
