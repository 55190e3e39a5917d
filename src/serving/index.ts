export { flattenVectors } from "./flatten.js";
export { type AsOf, type FeatureVector, selectWindows, type VectorValue, vectorAt } from "./rule.js";
export { formatVectorSpec, parseVectorSpec, type VectorPart, type VectorRange, type VectorSpec } from "./spec.js";
export { offlineVectors, parseTime, resolveFeatures, type TrainingSetOptions, type TrainingTime, trainingSet } from "./training.js";
export { featureVector, readVector, storedWatermark } from "./online.js";
