import type { DataFrame } from "danfojs-node";
import { InputError } from "../errors/index.js";
import { isFeature } from "../feature/define.js";
import { ohlc1h, ohlc1m, ohlc60s } from "../feature/shipped/ohlc.js";
import type { BatchInput, BatchOptions, Feature, WindowRecord } from "../feature/types.js";
import { frameToTicks, isDataFrame } from "../tick/frame.js";
import { readTickBatches } from "../tick/read.js";
import { parseIsoTime } from "../tick/time.js";
import type { Tick } from "../tick/types.js";
import { toTick } from "../tick/validate.js";
import { compareKeys } from "../window/engine.js";
import { flattenVectors } from "./flatten.js";
import { type AsOf, type FeatureVector, selectWindows } from "./rule.js";
import { parseVectorSpec, type VectorSpec } from "./spec.js";

type AnyFeature = Feature<Record<string, unknown>>;

/** The features a spec can name without passing them: the seed's three. */
const SHIPPED: Readonly<Record<string, AnyFeature>> = { ohlc1h, ohlc1m, ohlc60s } as unknown as Record<string, AnyFeature>;

export interface TrainingSetOptions {
  /** Features the spec names, as objects (matched by `feature.name`); the shipped ohlc1h/ohlc1m/ohlc60s need none. */
  features?: readonly Feature<never>[] | readonly AnyFeature[];
  /** Keys to make rows for (default: every key in the ticks, in string order). */
  keys?: readonly string[];
  /** Plain `{key, asOf, features}` objects instead of a DataFrame. */
  nested?: boolean;
  /** DataFrame only: the record fields flattened per window (default: all but `key`). */
  fields?: readonly string[];
  /** How a file is read (format, CSV mapping) and what rejected lines report. */
  batch?: Pick<BatchOptions, "read" | "onReject">;
}

/** A time for a training row: epoch ms, an ISO-8601 string with a zone, or "eof". */
export type TrainingTime = number | string;

/**
 * The offline half of serving: for each (key, time), the vector the online store would have served at that
 * time (`vectorAt`'s rule), from one batch run per feature. Rows go key by key, times in the order given.
 * Returns a danfojs DataFrame (columns `key`, `asOf`, then the flattening in src/serving/README.md), or with
 * `nested: true` the vectors themselves.
 * @example await trainingSet("ticks.jsonl", "ohlc1h:30d,ohlc1m:today,ohlc60s:latest", ["2023-06-09T13:00:00Z", "eof"])
 */
export async function trainingSet(ticks: BatchInput, spec: string | VectorSpec, times: readonly TrainingTime[], opts: TrainingSetOptions & { nested: true }): Promise<FeatureVector[]>;
export async function trainingSet(ticks: BatchInput, spec: string | VectorSpec, times: readonly TrainingTime[], opts?: TrainingSetOptions & { nested?: false }): Promise<DataFrame>;
export async function trainingSet(ticks: BatchInput, spec: string | VectorSpec, times: readonly TrainingTime[], opts: TrainingSetOptions = {}): Promise<DataFrame | FeatureVector[]> {
  const parsed = typeof spec === "string" ? parseVectorSpec(spec) : spec;
  const { vectors } = await offlineVectors(ticks, parsed, times, opts);
  return opts.nested ? vectors : flattenVectors(vectors, parsed, opts.fields);
}

/** trainingSet's vectors, and every key the ticks hold (so a caller can tell an unknown key from an empty one). */
export async function offlineVectors(
  ticks: BatchInput,
  spec: VectorSpec,
  times: readonly TrainingTime[] | ((key: string, records: ReadonlyMap<string, readonly WindowRecord[]>) => readonly TrainingTime[]),
  opts: Pick<TrainingSetOptions, "features" | "keys" | "batch"> = {},
): Promise<{ vectors: FeatureVector[]; keys: string[] }> {
  const features = resolveFeatures(spec, opts.features ?? []);
  const fixed = typeof times === "function" ? undefined : times.map(parseTime);
  const input = await loadTicks(ticks, opts.batch);
  const latest = latestEventTimes(input, features[0]!);
  const byFeature = new Map<string, Map<string, WindowRecord[]>>();
  for (const f of features) {
    if (byFeature.has(f.name)) continue;
    const { records } = await f.batchRecords(input);
    byFeature.set(f.name, groupByKey(records as WindowRecord[]));
  }
  const all = [...latest.keys()].sort(compareKeys);
  const vectors: FeatureVector[] = [];
  for (const key of opts.keys ?? all) {
    // Times per key (a model's triggers): from the key's batch records of every feature, by feature name.
    const asOfs = fixed ?? (times as Exclude<typeof times, readonly TrainingTime[]>)(key, new Map([...byFeature].map(([n, m]) => [n, m.get(key) ?? []]))).map(parseTime);
    for (const asOf of asOfs) {
      const out: FeatureVector = { key, asOf, features: {} };
      spec.forEach(({ feature, range }, i) => {
        const f = features[i]!;
        out.features[feature] = selectWindows(byFeature.get(f.name)!.get(key) ?? [], asOf, range, f.window.grace, latest.get(key));
      });
      vectors.push(out);
    }
  }
  return { vectors, keys: all };
}

/** The spec's features in spec order: passed ones by name first, then the shipped ones. */
export function resolveFeatures(spec: VectorSpec, given: readonly unknown[]): AnyFeature[] {
  const byName = new Map<string, AnyFeature>();
  for (const f of given) {
    if (!isFeature(f)) throw new InputError("features: not a Feature object", { remedy: "pass features made by defineFeature or ohlc()", context: { field: "features" } });
    byName.set((f as AnyFeature).name, f as AnyFeature);
  }
  return spec.map(({ feature }) => {
    const f = byName.get(feature) ?? SHIPPED[feature];
    if (!f) {
      const known = [...new Set([...byName.keys(), ...Object.keys(SHIPPED)])].join(", ");
      throw new InputError(`unknown feature '${feature}' in the vector spec`, { remedy: `use one of ${known}, or pass it in the features option`, context: { field: "features" } });
    }
    return f;
  });
}

/** A training time as AsOf: epoch ms, an ISO string with a zone (floored to the ms), or "eof". */
export function parseTime(t: TrainingTime): AsOf {
  if (typeof t === "number") {
    if (Number.isFinite(t)) return t;
  } else if (t.trim().toLowerCase() === "eof") {
    return "eof";
  } else if (/^-?\d+$/.test(t.trim())) {
    return Number(t.trim());
  } else {
    const ms = parseIsoTime(t.trim());
    if (ms !== undefined) return ms;
  }
  throw new InputError(`bad time '${String(t)}'`, { remedy: 'give epoch milliseconds, an ISO time with a zone (2023-06-09T13:00:00Z) or "eof"', context: { field: "times" } });
}

/** The input read once into ticks, so every feature's batch runs over the same array and eof's times come from it. */
async function loadTicks(input: BatchInput, opts: TrainingSetOptions["batch"] = {}): Promise<Tick[]> {
  const out: Tick[] = [];
  if (typeof input === "string") {
    for await (const batch of readTickBatches(input, opts.read)) {
      for (const r of batch) {
        if (r.ok) out.push(r.tick);
        else opts.onReject?.(r.rejection);
      }
    }
    return out;
  }
  if (isDataFrame(input)) return frameToTicks(input);
  let line = 0;
  for await (const x of input as AsyncIterable<unknown>) {
    const r = toTick(x, ++line);
    if (r.ok) out.push(r.tick);
    else opts.onReject?.(r.rejection);
  }
  return out;
}

/** Each key's latest event time (its watermark at end of input), by the tick-level feature's key and time. */
function latestEventTimes(ticks: readonly Tick[], feature: AnyFeature): Map<string, number> {
  let root = feature;
  while (root.input) root = root.input;
  const out = new Map<string, number>();
  for (const t of ticks) {
    const k = root.key(t);
    const at = root.time(t);
    const was = out.get(k);
    if (was === undefined || at > was) out.set(k, at);
  }
  return out;
}

function groupByKey(records: readonly WindowRecord[]): Map<string, WindowRecord[]> {
  const out = new Map<string, WindowRecord[]>();
  for (const r of records) {
    const list = out.get(r.key);
    if (list) list.push(r);
    else out.set(r.key, [r]);
  }
  for (const list of out.values()) list.sort((a, b) => a.start - b.start || a.end - b.end);
  return out;
}
