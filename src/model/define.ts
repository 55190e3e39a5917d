import { createHash } from "node:crypto";
import { InputError } from "../errors/index.js";
import type { Feature } from "../feature/types.js";
import type { FeatureVector } from "../serving/rule.js";
import { formatVectorSpec, parseVectorSpec, type VectorSpec } from "../serving/spec.js";
import { resolveFeatures } from "../serving/training.js";
import type { WindowRecord } from "../window/types.js";

type AnyFeature = Feature<Record<string, unknown>>;

/** What a notebook's `//| export` model cell gives `defineModel`. */
export interface ModelDefinition {
  /** Names the predictions topic's records and the Redis keys (`quixlab:<name>:prediction:<key>`). */
  name: string;
  /** The vector the model reads (DESIGN.md "quixlab vector"), e.g. `ohlc1h:30d,ohlc1m:today,ohlc60s:latest`. */
  features: string;
  /**
   * The spec feature whose final windows trigger a prediction: one per window, at its close (end + grace), from
   * the vector as of that moment. Default: the spec's first feature with a `today` range, else its first.
   */
  trigger?: string;
  /** Features the spec names that quixlab does not ship (ohlc1h, ohlc1m and ohlc60s need none). */
  inputs?: readonly Feature<never>[] | readonly AnyFeature[];
  /** The vector to a prediction; null when the vector holds too little to predict (no record is written then). */
  predict(vector: FeatureVector): number | null;
}

/** A model as the CLI, batch, replay and the model step use it. */
export interface Model {
  readonly kind: "model";
  readonly name: string;
  readonly spec: VectorSpec;
  readonly specText: string;
  readonly trigger: AnyFeature;
  /** The spec's features by name. */
  readonly features: Readonly<Record<string, AnyFeature>>;
  readonly predict: (vector: FeatureVector) => number | null;
  /** Changes with the spec, the trigger, the features' versions and the predict function's source. */
  readonly version: string;
}

/** One prediction: the model's output for `key` as of `at` (the trigger window's end + grace). */
export interface PredictionRecord {
  key: string;
  model: string;
  at: number;
  /** The trigger window the prediction was made at the close of. */
  window: { start: number; end: number };
  prediction: number;
}

const NAME = /^[A-Za-z_][\w.-]*$/;

/**
 * A model over a feature vector, for a notebook's `//| export` cell: `promote --model` runs it as a step that
 * predicts at the close of every trigger window, and `replay --model` checks that step against `batchPredictions`.
 * @example export const nextMinute = defineModel({ name: "next-minute", features: "ohlc1m:today,ohlc60s:latest", predict: (v) => 0 })
 */
export function defineModel(def: ModelDefinition): Model {
  if (!def || typeof def !== "object") throw new InputError("defineModel needs a definition object", { remedy: "pass { name, features, predict }" });
  if (typeof def.name !== "string" || !NAME.test(def.name)) {
    throw new InputError(`bad model name '${String(def.name)}'`, { remedy: "use letters, digits, '_', '-' or '.', starting with a letter", context: { field: "name" } });
  }
  if (typeof def.predict !== "function") throw new InputError(`model '${def.name}' has no predict function`, { remedy: "give predict: (vector) => number | null", context: { field: "predict" } });
  const spec = parseVectorSpec(def.features);
  const list = resolveFeatures(spec, def.inputs ?? []);
  const features = Object.fromEntries(spec.map((p, i) => [p.feature, list[i]!]));
  const triggerName = def.trigger ?? (spec.find((p) => p.range.kind === "today") ?? spec[0]!).feature;
  const trigger = features[triggerName];
  if (!trigger) {
    throw new InputError(`model '${def.name}': trigger '${triggerName}' is not a feature of its vector (${formatVectorSpec(spec)})`, {
      remedy: "name one of the spec's features as trigger",
      context: { field: "trigger" },
    });
  }
  for (const f of list) {
    if (f.input) throw new InputError(`model '${def.name}': feature '${f.name}' reads another feature`, { remedy: "give the model features over ticks", context: { field: "features" } });
  }
  const version = createHash("sha256")
    .update([formatVectorSpec(spec), triggerName, ...list.map((f) => f.version), def.predict.toString()].join("\n"))
    .digest("hex")
    .slice(0, 12);
  return Object.freeze({ kind: "model", name: def.name, spec, specText: formatVectorSpec(spec), trigger, features, predict: def.predict, version: `model-1:${version}` });
}

export function isModel(x: unknown): x is Model {
  return typeof x === "object" && x !== null && (x as { kind?: unknown }).kind === "model" && typeof (x as { predict?: unknown }).predict === "function";
}

/** When a trigger window closes: the moment the model predicts from it. */
export function triggerTime(model: Model, w: Pick<WindowRecord, "end">): number {
  return w.end + model.trigger.window.grace;
}

/** The record of one prediction, or undefined when predict declined (null) — a non-finite number is an error. */
export function predictionOf(model: Model, vector: FeatureVector, window: Pick<WindowRecord, "start" | "end">): PredictionRecord | undefined {
  const p = model.predict(vector);
  if (p === null) return undefined;
  if (typeof p !== "number" || !Number.isFinite(p)) {
    throw new InputError(`model '${model.name}' predicted ${String(p)} for ${vector.key} at ${String(vector.asOf)}`, {
      remedy: "return a finite number, or null when the vector holds too little",
      context: { field: "predict" },
    });
  }
  return { key: vector.key, model: model.name, at: vector.asOf as number, window: { start: window.start, end: window.end }, prediction: p };
}
