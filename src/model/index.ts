export { type BatchPredictions, batchPredictions } from "./batch.js";
export { MODEL_STEP_ENV, type ModelStepConfig, resolveModelStepConfig } from "./config.js";
export { defineModel, isModel, type Model, type ModelDefinition, type PredictionRecord, predictionOf, triggerTime } from "./define.js";
export { type ModelStep, type ModelStepOptions, runModelStep } from "./step.js";
export { latestPrediction, PREDICTION_RETENTION_MS, predictionKey, predictionsKey, putPredictions } from "./store.js";
