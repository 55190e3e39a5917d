export { batchPredictions, type BatchPredictions } from "./batch.js";
export { defineModel, isModel, type Model, type ModelDefinition, type PredictionRecord, predictionOf, triggerTime } from "./define.js";
export { runModelStep, type ModelStep, type ModelStepOptions } from "./step.js";
export { latestPrediction, PREDICTION_RETENTION_MS, predictionKey, predictionsKey, putPredictions } from "./store.js";
