import { createHash } from "node:crypto";
import { InputError } from "../errors/index.js";
import type { Tick } from "../tick/types.js";
import type { EngineEvents } from "../window/engine.js";
import { createEngine } from "../window/engines.js";
import { parseDuration } from "../window/duration.js";
import { type CloseOptions, type Duration, SCAN, type WindowBuilder, toWindowSpec, withOptions } from "../window/spec.js";
import { runBatch } from "./batch.js";
import { isOhlcvAggregator } from "./ohlcv.js";
import type { Aggregator, BatchInput, BatchOptions, Feature, WindowSpec } from "./types.js";

export type Params = Record<string, string | number | boolean>;

/** What a data scientist writes once; see defineFeature. */
export interface FeatureDefinition<S, R extends Record<string, unknown>> {
  /** Letters, digits, '.', '_' or '-' (it names topics, deployments and state keys). */
  name: string;
  /** The windows; leave it out over another feature's records for one result per input window (indicators). */
  window?: WindowSpec | WindowBuilder;
  /**
   * Another feature whose records are this one's input (DESIGN.md "Features over features"): in batch its
   * records; as a step, its output topic. Key and time then default to the record's `key` and `start`.
   */
  input?: Feature<Record<string, unknown>>;
  /** An incremental aggregator, or a whole-window function given the window's ticks sorted by (time, arrival). */
  agg: Aggregator<S, R> | ((rows: readonly Tick[]) => R);
  /** Default: `t.product_id`. */
  key?: (t: Tick) => string;
  /** Event time in epoch ms. Default: `t.time`. */
  time?: (t: Tick) => number;
  /** Shown in promote's app.yaml; part of the state version. */
  params?: Params;
  /** How windows close, early results and empty windows; the same as the window's options (these win). */
  closing?: CloseOptions["closing"];
  idle?: CloseOptions["idle"];
  emit?: CloseOptions["emit"];
  every?: CloseOptions["every"];
  fill?: CloseOptions["fill"];
  /**
   * How long the online store keeps the key's windows, by start time (e.g. "30d"). Default: sized from the window
   * (the store's `defaultRetentionMs`: 1 h candles 30 d, 1 min candles 2 d, the 60 s / 1 s window 1 h).
   */
  retention?: Duration;
}

const FEATURE = Symbol.for("quixlab.feature");
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Define a feature once; run it in batch (`batch`, `batchRecords`) or as a stream step (`engine`).
 * @example defineFeature({ name: "ohlc_1m", window: tumbling("1m", { grace: "2s" }), agg: ohlcv() })
 */
export function defineFeature<S, R extends Record<string, unknown>>(def: FeatureDefinition<S, R>): Feature<R> {
  if (typeof def?.name !== "string" || !NAME.test(def.name)) {
    throw new InputError(`bad feature name '${String(def?.name)}'`, {
      remedy: "use letters, digits, '.', '_' or '-', starting with a letter or digit",
      context: { field: "name" },
    });
  }
  const input = def.input;
  if (input !== undefined && !isFeature(input)) {
    throw new InputError(`feature '${def.name}': input must be another feature (defineFeature(...)), not ${typeof input}`, {
      remedy: "pass the upstream feature itself, e.g. input: ohlc1m",
      context: { field: "input" },
    });
  }
  if (def.window === undefined && !input) {
    throw new InputError(`feature '${def.name}' has no window`, { remedy: "give a window (tumbling, hopping, sliding, session, countWindow), or an input feature for an indicator", context: { field: "window" } });
  }
  const options = { closing: def.closing, idle: def.idle, emit: def.emit, every: def.every, fill: def.fill };
  const window = withOptions(def.window === undefined ? SCAN : toWindowSpec(def.window), options);
  if (input && window.closing === "partition") {
    // Batch feeds the upstream's records key after key; only a per-key watermark gives the stream's windows then.
    throw new InputError(`feature '${def.name}': closing "partition" over another feature's records`, {
      remedy: 'leave closing at "key" (the default) for a feature with input',
      context: { field: "closing" },
    });
  }
  const aggregator = toAggregator(def.agg, def.name);
  const params = Object.freeze({ ...(def.params ?? {}) });
  const key = def.key ?? (input ? recordKey : defaultKey);
  const time = def.time ?? (input ? recordStart : defaultTime);
  // The columnar fast path applies only when the built-in OHLCV reads the default key and time.
  // It knows neither the partition's watermark nor empty windows: those take the engine.
  const fastOhlcv =
    isOhlcvAggregator(aggregator) && key === defaultKey && time === defaultTime && window.kind === "tumbling" && !window.closing && !window.fill && !input;
  const feature: Feature<R> = Object.freeze({
    [FEATURE]: 1,
    name: def.name,
    window,
    aggregator: aggregator as Aggregator<unknown, R>,
    version: versionOf(def.name, window, aggregator, params, input?.version),
    ...(input ? { input } : {}),
    ...(def.retention !== undefined ? { retention: parseDuration(def.retention, "retention") } : {}),
    params,
    key,
    time,
    async batch(input: BatchInput, opts?: BatchOptions) {
      const { records } = await runBatch(feature, input, opts, fastOhlcv);
      const { recordsToFrame } = await import("./frame.js");
      return recordsToFrame(records);
    },
    batchRecords: (input: BatchInput, opts?: BatchOptions) => runBatch(feature, input, opts, fastOhlcv),
    engine: (events: EngineEvents<R>) => createEngine<R>(feature, events),
  });
  return feature;
}

function defaultKey(t: Tick): string {
  return t.product_id;
}

function defaultTime(t: Tick): number {
  return t.time;
}

/** Over another feature's records: the record's key and its window's start. */
function recordKey(t: Tick): string {
  return (t as unknown as { key: string }).key;
}

function recordStart(t: Tick): number {
  return (t as unknown as { start: number }).start;
}

/** Duck-typed check (a notebook's copy of the library and the CLI's are different module instances). */
export function isFeature(x: unknown): x is Feature<Record<string, unknown>> {
  if (typeof x !== "object" || x === null) return false;
  const f = x as Record<string | symbol, unknown>;
  return f[FEATURE] === 1 && typeof f.name === "string" && typeof f.engine === "function" && typeof f.batchRecords === "function";
}

type RowsState = [number, number, Tick][];

/**
 * The whole-window form as an aggregator: the state keeps the window's rows (time, arrival, tick); `result` sorts
 * them by (time, arrival) and calls the function. A non-object result becomes `{ value }`.
 */
export function rowsAggregator<R extends Record<string, unknown>>(fn: (rows: readonly Tick[]) => R): Aggregator<RowsState, R> {
  return Object.freeze({
    version: `rows-1:${digest(fn.toString())}`,
    init: (): RowsState => [],
    add(s: RowsState, t: Tick, seq: number): RowsState {
      s.push([t.time, seq, t]);
      return s;
    },
    merge: (a: RowsState, b: RowsState): RowsState => a.concat(b),
    result(s: RowsState): R {
      const rows = [...s].sort((a, b) => a[0] - b[0] || a[1] - b[1]).map((r) => r[2]);
      const out = fn(rows) as unknown;
      return (typeof out === "object" && out !== null && !Array.isArray(out) ? out : { value: out }) as R;
    },
  });
}

function toAggregator<S, R extends Record<string, unknown>>(agg: FeatureDefinition<S, R>["agg"], name: string): Aggregator<unknown, R> {
  if (typeof agg === "function") return rowsAggregator(agg) as Aggregator<unknown, R>;
  if (typeof agg === "object" && agg !== null && typeof agg.init === "function" && typeof agg.add === "function" && typeof agg.result === "function") {
    return agg as Aggregator<unknown, R>;
  }
  throw new InputError(`feature '${name}': agg must be an aggregator {init, add, result} or a function (rows) => value`, {
    remedy: "use ohlcv(), your own {init, add, result}, or a whole-window function",
    context: { field: "agg" },
  });
}

function digest(s: string): string {
  return createHash("sha256").update(s).digest("hex").slice(0, 12);
}

/** Changes whenever anything that shapes checkpointed state or its meaning changes. */
function versionOf(name: string, w: WindowSpec, agg: Aggregator<unknown, Record<string, unknown>>, params: Params, input?: string): string {
  const aggVersion = agg.version ?? `src:${digest([agg.init, agg.add, agg.result, agg.merge].map(String).join("\n"))}`;
  const p = Object.keys(params)
    .sort()
    .map((k) => [k, params[k]]);
  // What changes the final records (closing, fill) is part of it, only when set: older versions stay as they were.
  // Early results and the idle timeout change no state and no final record.
  const closing = [...(w.closing ? [`closing:${w.closing}`] : []), ...(w.fill ? [`fill:${w.fill}`] : [])];
  // Over another feature: its version too (a changed upstream changes what this state was computed from).
  return digest(JSON.stringify([name, w.kind, w.size, w.step, w.origin, w.grace, aggVersion, p, ...closing, ...(input ? [`input:${input}`] : [])]));
}
