import type { BatchInput, BatchOptions } from "../feature/types.js";
import type { FeatureVector } from "../serving/rule.js";
import { offlineVectors } from "../serving/training.js";
import type { WindowRecord } from "../window/types.js";
import { type Model, type PredictionRecord, predictionOf, triggerTime } from "./define.js";

export interface BatchPredictions {
  /** Key by key, in time order: what the model step must write. */
  predictions: PredictionRecord[];
  /** The vectors the predictions were made from (one per trigger window, predict's null ones included). */
  vectors: FeatureVector[];
  /** Trigger windows whose vector predict declined (null). */
  declined: number;
}

/**
 * The model's predictions in batch, for a notebook and for replay's parity: one per final window of the trigger
 * feature, at its close (end + grace), from the vector the online store holds at that moment (`vectorAt`'s rule,
 * the training set's rows). The model step reproduces exactly these.
 * @example const { predictions } = await batchPredictions(nextMinute, "ticks.jsonl")
 */
export async function batchPredictions(model: Model, ticks: BatchInput, opts: Pick<BatchOptions, "read" | "onReject"> = {}): Promise<BatchPredictions> {
  const windowAt = new Map<string, WindowRecord>();
  const { vectors } = await offlineVectors(
    ticks,
    model.spec,
    (key, records) =>
      (records.get(model.trigger.name) ?? []).map((w) => {
        const at = triggerTime(model, w);
        windowAt.set(`${key}\u0000${at}`, w);
        return at;
      }),
    { features: Object.values(model.features), batch: opts },
  );
  const predictions: PredictionRecord[] = [];
  let declined = 0;
  for (const v of vectors) {
    const p = predictionOf(model, v, windowAt.get(`${v.key}\u0000${String(v.asOf)}`)!);
    if (p) predictions.push(p);
    else declined++;
  }
  return { predictions, vectors, declined };
}
