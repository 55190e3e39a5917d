import type { DataFrame } from "danfojs-node";
import type { ReadOptions } from "../tick/read.js";
import type { Rejection, Tick } from "../tick/types.js";
import type { EngineEvents } from "../window/engine.js";
import type { Engine } from "../window/keyed.js";
import type { Aggregator, EngineSpec, WindowRecord, WindowSpec } from "../window/types.js";

// Window-level types live in window/ (the engine needs them, and window/ never imports feature/); re-exported so
// code that imports them from here keeps working.
export type { Aggregator, WindowRecord, WindowSpec } from "../window/types.js";

/** What a batch runs over: a ticks file path, ticks or raw ticker messages (sync or async), or a danfojs DataFrame. */
export type BatchInput = string | Iterable<unknown> | AsyncIterable<unknown> | DataFrame | readonly Tick[];

export interface BatchOptions {
  /**
   * A tick that fell into an already-final window (counted, never merged). From a file with the built-in OHLCV's
   * fast path the tick carries the four fields windows use (product_id, price, last_size, time), not side,
   * trade_id or sequence.
   */
  onLate?(tick: Tick, info: { key: string; watermark: number }): void;
  onReject?(r: Rejection): void;
  /** File inputs only: bytes read so far / file size. */
  onProgress?(p: { bytes: number; total: number }): void;
  /**
   * Partitions of the input topic, for `closing: "partition"`: each tick goes to the partition Kafka's default
   * partitioner gives its `product_id` (the key a replay produces it with), and each partition has its own
   * watermark, as on the stream. Default 1.
   */
  partitions?: number;
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
export interface Feature<R extends Record<string, unknown> = Record<string, unknown>> extends EngineSpec<R> {
  readonly name: string;
  readonly window: WindowSpec;
  readonly aggregator: Aggregator<unknown, R>;
  /** Stable hash of name + window + aggregator version + params; versions checkpointed state. */
  readonly version: string;
  readonly params: Readonly<Record<string, string | number | boolean>>;
  /** Online store retention by window start, in ms (absent: the store's default for the window). */
  readonly retention?: number;
  /** The feature whose records are this one's input (absent: ticks). */
  readonly input?: Feature<Record<string, unknown>>;
  key(t: Tick): string;
  time(t: Tick): number;
  /** One row per (key, window) in the output record shape, as a danfojs DataFrame (danfojs loads lazily). */
  batch(input: BatchInput, opts?: BatchOptions): Promise<DataFrame>;
  batchRecords(input: BatchInput, opts?: BatchOptions): Promise<BatchResult<R>>;
  /** A fresh windowing state machine (one per stream partition). */
  engine(events: EngineEvents<R>): Engine;
}
