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
}

/** JSON-serialisable engine state: everything needed to continue exactly where it stopped. */
export interface EngineSnapshot {
  readonly format: 1;
  readonly feature: string;
  readonly version: string;
  /** Arrival counter (tie-breaking for whole-window functions). */
  readonly seq: number;
  readonly late: number;
  /** Per key: watermark, grid origin, and open windows as [start, maxTickTime, aggregator state]. */
  readonly keys: { key: string; watermark: number; origin: number; windows: [number, number, unknown][] }[];
}

interface OpenWindow {
  start: number;
  maxTime: number;
  state: unknown;
}

interface KeyState {
  watermark: number;
  origin: number;
  /** Sorted by start; usually one or two entries for tumbling, about size/step + grace/step for hopping. */
  windows: OpenWindow[];
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

  constructor(
    private readonly def: EngineSpec<R>,
    private readonly events: EngineEvents<R>,
  ) {
    this.spec = def.window;
    this.agg = def.aggregator;
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
      ks = { watermark: t, origin: this.spec.origin === "start" ? t : 0, windows: [] };
      this.keys.set(key, ks);
    }
    const first = firstWindowStart(t, this.spec, ks.origin);
    if (first + size + grace <= ks.watermark) {
      this.late++;
      this.events.late?.(tick, { key, watermark: ks.watermark });
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
    }
    if (t > ks.watermark) {
      ks.watermark = t;
      this.emitFinal(key, ks);
    }
    return "ok";
  }

  /** End of input: emit every open window, sorted by (key, start). */
  flush(): void {
    const keys = [...this.keys.keys()].sort(compareKeys);
    for (const key of keys) {
      const ks = this.keys.get(key)!;
      for (const w of ks.windows) this.emitWindow(key, w);
      this.open -= ks.windows.length;
      ks.windows = [];
    }
  }

  openWindows(): number {
    return this.open;
  }

  lateCount(): number {
    return this.late;
  }

  /** A deep, JSON-serialisable copy of the state (the aggregator's states are copied, not shared). */
  snapshot(): EngineSnapshot {
    const keys: EngineSnapshot["keys"] = [];
    for (const [key, ks] of this.keys) {
      keys.push({ key, watermark: ks.watermark, origin: ks.origin, windows: ks.windows.map((w) => [w.start, w.maxTime, w.state]) });
    }
    return structuredClone({ format: 1, feature: this.def.name, version: this.def.version, seq: this.seq, late: this.late, keys });
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
      e.keys.set(k.key, {
        watermark: k.watermark,
        origin: k.origin,
        windows: k.windows.map(([start, maxTime, state]) => ({ start, maxTime, state })),
      });
      e.open += k.windows.length;
    }
    return e;
  }

  private emitFinal(key: string, ks: KeyState): void {
    const ws = ks.windows;
    const horizon = ks.watermark - this.spec.size - this.spec.grace;
    let n = 0;
    while (n < ws.length && ws[n]!.start <= horizon) n++;
    if (n === 0) return;
    const done = ws.splice(0, n);
    this.open -= n;
    for (const w of done) this.emitWindow(key, w);
  }

  private emitWindow(key: string, w: OpenWindow): void {
    const result = this.agg.result(w.state);
    const record = { key, start: w.start, end: w.start + this.spec.size, ...result } as WindowRecord<R>;
    this.events.emit(record, { maxTickTime: w.maxTime, lastIngestMs: this.lastIngest });
  }
}

/** Key order of every sorted output: JavaScript string order (UTF-16 code units), like Python's for ASCII ids. */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
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
