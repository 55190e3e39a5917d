import type { DataFrame } from "danfojs-node";
import type { ReadOptions } from "../tick/read.js";
import type { Rejection, Tick } from "../tick/types.js";
import type { EngineEvents, WindowEngine } from "../window/engine.js";

/** Window shape after parsing durations (all ms). Hopping with step == size is tumbling. */
export interface WindowSpec {
  readonly kind: "tumbling" | "hopping";
  readonly size: number;
  readonly step: number;
  readonly origin: "epoch" | "start";
  readonly grace: number;
}

/**
 * Incremental aggregation, life cycle: `init()` once per (key, window), `add(state, tick, seq)` for each tick in
 * arrival order (`seq` is a per-run arrival counter used for tie-breaking), `result(state)` when the window is
 * final. State must be JSON-serialisable: the stream runtime checkpoints it. `merge` is optional.
 */
export interface Aggregator<S = unknown, R extends Record<string, unknown> = Record<string, unknown>> {
  /** Bumped when parameters or state layout change, so checkpointed state is never misread. */
  readonly version?: string;
  init(): S;
  add(state: S, tick: Tick, seq: number): S;
  result(state: S): R;
  merge?(a: S, b: S): S;
}

/** One emitted window: `{key,start,end,...result}` (DESIGN.md "Output record"). */
export type WindowRecord<R = Record<string, unknown>> = { key: string; start: number; end: number } & R;


/** What a batch runs over: a ticks file path, ticks or raw ticker messages (sync or async), or a danfojs DataFrame. */
export type BatchInput = string | Iterable<unknown> | AsyncIterable<unknown> | DataFrame | readonly Tick[];

export interface BatchOptions {
  /** A tick that fell into an already-final window (counted, never merged). */
  onLate?(tick: Tick, info: { key: string; watermark: number }): void;
  onReject?(r: Rejection): void;
  /** File inputs only: bytes read so far / file size. */
  onProgress?(p: { bytes: number; total: number }): void;
  /** File inputs only: format and CSV mapping (default: from the extension / the header). */
  read?: Pick<ReadOptions, "format" | "csvMap">;
}

/** A batch run's windows, sorted by (key, start) — key in JavaScript string order — and what was dropped. */
export interface BatchResult<R> {
  records: WindowRecord<R>[];
  /** Valid ticks seen (late ones included). */
  ticks: number;
  rejected: number;
  /** The first 100 rejections. */
  rejections: Rejection[];
  late: number;
}

/** A feature: one definition that runs in batch (`batch`, `batchRecords`) and as a stream step (`engine`). */
export interface Feature<R extends Record<string, unknown> = Record<string, unknown>> {
  readonly name: string;
  readonly window: WindowSpec;
  readonly aggregator: Aggregator<unknown, R>;
  /** Stable hash of name + window + aggregator version + params; versions checkpointed state. */
  readonly version: string;
  readonly params: Readonly<Record<string, string | number | boolean>>;
  key(t: Tick): string;
  time(t: Tick): number;
  /** One row per (key, window) in the output record shape, as a danfojs DataFrame (danfojs loads lazily). */
  batch(input: BatchInput, opts?: BatchOptions): Promise<DataFrame>;
  batchRecords(input: BatchInput, opts?: BatchOptions): Promise<BatchResult<R>>;
  /** A fresh windowing state machine (one per stream partition). */
  engine(events: EngineEvents<R>): WindowEngine<R>;
}
