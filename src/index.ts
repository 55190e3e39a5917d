/**
 * quixlab's public API for features: what a notebook imports is what a deployed step imports — the feature
 * language, batch, the stream step and the online-store reads. Tools (providers, replay, descriptor, pipeline)
 * import `quixlab/ops` (src/ops.ts). Sections follow the domain folders; add yours below the last one.
 */

// ── errors ──────────────────────────────────────────────────────────────────────────────────────────────────
export { CheckFailedError, EnvironmentError, InputError, QuixlabError, ServiceError } from "./errors/index.js";

// ── ticks: validation, readers, generator, DataFrame helpers ──────────────────────────────────────────────────
export {
  frameToTicks,
  generateTickLines,
  generateTicks,
  parseCsvMap,
  parseIsoTime,
  parseTickLine,
  readTickColumns,
  readTicks,
  ticksToFrame,
  validateTick,
  writeTicksFile,
} from "./tick/index.js";
export type { CsvMapping, GenerateOptions, ReadOptions, Rejection, Tick, TickColumns, TickFormat, TickResult } from "./tick/index.js";

// ── windows: durations, the five window kinds, the engines shared by batch and stream ─────────────────────────
export { countWindow, createEngine, describeWindow, hopping, parseDuration, session, sliding, tumbling, WindowEngine } from "./window/index.js";
export type { Duration, Engine, EngineEvents, EngineSnapshot, WindowBuilder, WindowKind, WindowOptions } from "./window/index.js";

// ── features: define once, run in batch or as a stream step ────────────────────────────────────────────────────
export { bollinger, defineFeature, ema, isFeature, loadFeatureRef, ohlcv, recordsToFrame, rollup, rsi } from "./feature/index.js";
export type { Aggregator, BatchInput, BatchOptions, BatchResult, Feature, FeatureDefinition, Ohlcv, WindowRecord, WindowSpec } from "./feature/index.js";
export { DEFAULT_GRACE, ohlc, ohlc1h, ohlc1m, ohlc60s, type OhlcOptions } from "./feature/shipped/ohlc.js";
export { bb20, ema12, ohlc1hRollup, rsi14 } from "./feature/shipped/indicators.js";

// ── charts ───────────────────────────────────────────────────────────────────────────────────────────────────
export { type CandleChartOptions, candlestickSvg } from "./chart/candles.js";
export { type LineChartOptions, type LinePanel, type LineSeries, lineChartSvg } from "./chart/lines.js";

// ── stream step, end-of-input markers, metrics, and the online store's reads ────────────────────────────────────
export { EofTracker, eofHeaders, isEof, readEofMarker, readMetrics, resolveStepConfig, runStep, STEP_ENV, stepConfigFromEnv } from "./stream/index.js";
export type { EofMarker, Processing, ResolveStepConfigOptions, StepConfig, StepHandle, StepMetrics, StepOptions, StepOverrides } from "./stream/index.js";
export { getKeys, getLatest, getRange, getWatermark, onlineRedis, type Watermark } from "./store/online.js";
export { defaultRetentionMs } from "./store/retention.js";
export type { Headers, InMessage, KafkaConnection, KafkaPlatform, OutMessage, TopicRequest } from "./kafka/index.js";
// ── Quix Cloud: where a deployed step gets its broker, topics and group (resolveStepConfig uses it) ─────────────
export { connectQuixCloud, KafkaAuthError, QUIX_ENV, QuixCloud, QuixCloudError, quixCloudCredentials, QuixTopicError } from "./kafka/index.js";
export type { QuixCloudCredentials, QuixCloudOptions } from "./kafka/index.js";
// ── sources: Coinbase's live ticker and a recording into a topic (what a source app's main.ts runs) ──────────────
export { resolveSourceConfig, runCoinbaseSource, runReplaySource, runSource, SOURCE_ENV } from "./source/index.js";
export type { SourceConfig, SourceHandle, SourceOverrides, SourceRunOptions, SourceType } from "./source/index.js";
// ── serving: point-in-time feature vectors from the online store, and training sets from ticks ─────────────────
export { featureVector, parseVectorSpec, trainingSet, vectorAt } from "./serving/index.js";
export { readVectorAt } from "./serving/online.js";
// ── models: a vector to a prediction, in batch and as a step ──────────────────────────────────────────────────
export { batchPredictions, defineModel, isModel, latestPrediction, MODEL_STEP_ENV, resolveModelStepConfig, runModelStep } from "./model/index.js";
export type { BatchPredictions, Model, ModelDefinition, ModelStep, ModelStepConfig, ModelStepOptions, PredictionRecord } from "./model/index.js";
export type { AsOf, FeatureVector, TrainingSetOptions, TrainingTime, VectorPart, VectorRange, VectorSpec, VectorValue } from "./serving/index.js";
