import type { BatchResult, Feature } from "../feature/types.js";
import type { Collector } from "./collector.js";
import type { StepProcess } from "./child.js";
import { type ReplayNames, replayNames } from "./plan.js";

/** One step of a replayed chain, upstream first; what the replay learns about it is filled in as it runs. */
export interface Stage {
  /** 0 for the step that reads the ticks. */
  index: number;
  feature: Feature;
  /** The reference its step child runs: the chain's reference, followed back by `.input` as far as this step. */
  ref: string;
  /** Its topics; a step after the first reads the output topic of the step before. */
  names: ReplayNames;
  batch?: BatchResult<Record<string, unknown>>;
  lateTicks: { key: string; time: number }[];
  collector?: Collector;
  step?: StepProcess;
}

/**
 * The chain a feature ends: the features its `input` links lead back to (the first reads ticks), then itself.
 * A feature over ticks is a chain of one.
 * @example chainOf(rsi14, "/p/indicators.ts#rsi14").map((s) => s.ref) // ["/p/indicators.ts#rsi14.input", "/p/indicators.ts#rsi14"]
 */
export function chainOf(feature: Feature, ref: string, unique?: (prefix: string) => string): Stage[] {
  const features: Feature[] = [];
  for (let f: Feature | undefined = feature; f; f = f.input) features.unshift(f);
  const stages: Stage[] = [];
  for (const [index, f] of features.entries()) {
    const names = replayNames(f.name, unique);
    const prev = stages[index - 1];
    if (prev) names.topics.input = prev.names.topics.output;
    stages.push({ index, feature: f, ref: `${ref}${".input".repeat(features.length - 1 - index)}`, names, lateTicks: [] });
  }
  return stages;
}
