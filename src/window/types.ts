import type { Tick } from "../tick/types.js";

/**
 * DESIGN.md "Windows" and "More window kinds": grid windows (tumbling, hopping), the three others, and "scan": no
 * window, one result per input record (indicators over another feature's windows, "Features over features").
 */
export type WindowKind = "tumbling" | "hopping" | "sliding" | "session" | "count" | "scan";

/**
 * Window shape after parsing durations (all ms). Hopping with step == size is tumbling. `size` is the window's
 * length for tumbling, hopping and sliding windows, the gap for `session`, and the ticks per window for `count`;
 * `step` is the hop (equal to `size` for every kind but hopping).
 */
export interface WindowSpec {
  readonly kind: WindowKind;
  readonly size: number;
  readonly step: number;
  readonly origin: "epoch" | "start";
  readonly grace: number;
  /**
   * What moves the watermark that closes windows (DESIGN.md "How windows close"): "key" (absent: the default) = the
   * key's own max event time; "partition" = the max event time of the input partition (batch: of the keys Kafka's
   * default partitioner puts on one partition).
   */
  readonly closing?: "key" | "partition";
  /** Live input only (never batch or replay): a key with no tick for this many wall-clock ms closes its windows whose end + grace has passed on the wall clock. Absent: off. */
  readonly idle?: number;
  /** "update": also the open windows' current values after each tick (at most every `every` ms of event time per window). Absent: "final" only. */
  readonly emit?: "final" | "update";
  readonly every?: number;
  /** "carry": a missing window between a key's first and last is emitted with the previous close (volume 0, count 0). Absent: "none". */
  readonly fill?: "none" | "carry";
}

/**
 * Incremental aggregation, life cycle: `init()` once per (key, window), `add(state, tick, seq)` for each tick in
 * arrival order (`seq` is a per-run arrival counter used for tie-breaking), `result(state)` when the window is
 * final. State must be JSON-serialisable: the stream runtime checkpoints it. `merge` is optional (sliding windows run faster with it; session windows need it).
 */
export interface Aggregator<S = unknown, R extends Record<string, unknown> = Record<string, unknown>> {
  /** Bumped when parameters or state layout change, so checkpointed state is never misread. */
  readonly version?: string;
  init(): S;
  add(state: S, tick: Tick, seq: number): S;
  result(state: S): R;
  /** The state of `a`'s ticks followed by `b`'s (a holds earlier arrivals, or earlier event times). */
  merge?(a: S, b: S): S;
  /** The result of a window with no ticks after a window whose result was `previous` (`fill: "carry"` needs it). */
  fill?(previous: R): R;
}

/** One emitted window: `{key,start,end,...result}` (DESIGN.md "Output record"). */
export type WindowRecord<R = Record<string, unknown>> = { key: string; start: number; end: number } & R;

/**
 * What a WindowEngine runs: the window, the aggregator, and where a tick's key and event time come from.
 * `name` and `version` identify the state: a snapshot carries them and `WindowEngine.restore` refuses one taken
 * under another version. A Feature is one (it has all six), so `new WindowEngine(feature, events)` works.
 */
export interface EngineSpec<R extends Record<string, unknown> = Record<string, unknown>> {
  readonly window: WindowSpec;
  readonly aggregator: Aggregator<unknown, R>;
  key(t: Tick): string;
  /** Event time in epoch ms (floored; a non-finite value is an InputError). */
  time(t: Tick): number;
  readonly name: string;
  readonly version: string;
  /**
   * Set when the input is another feature's records (not ticks): each key's records are taken once, in start
   * order (a redelivered one is dropped), and the end of input is the upstream's eof marker from each of its input
   * partitions.
   */
  readonly input?: { readonly name: string; readonly version: string };
}
