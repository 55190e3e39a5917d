/**
 * quixlab's public API: what a notebook imports is what a deployed step imports.
 * Sections follow the domain folders; add yours below the last one.
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

// ── windows: durations, tumbling/hopping specs, the engine shared by batch and stream ────────────────────────────
export { describeWindow, hopping, parseDuration, tumbling, WindowEngine } from "./window/index.js";
export type { Duration, EngineEvents, EngineSnapshot, WindowBuilder, WindowOptions } from "./window/index.js";

// ── features: define once, run in batch or as a stream step ────────────────────────────────────────────────────
export { defineFeature, isFeature, loadFeatureRef, ohlcv, recordsToFrame } from "./feature/index.js";
export type { Aggregator, BatchInput, BatchOptions, BatchResult, Feature, FeatureDefinition, Ohlcv, WindowRecord, WindowSpec } from "./feature/index.js";
export { DEFAULT_GRACE, ohlc, ohlc1h, ohlc1m, ohlc60s, type OhlcOptions } from "./features/ohlc.js";

// ── charts ───────────────────────────────────────────────────────────────────────────────────────────────────
export { type CandleChartOptions, candlestickSvg } from "./chart/candles.js";

// ── stream step and online store ─────────────────────────────────────────────────────────────────────────────
export { EofTracker, eofHeaders, isEof, produceEof, readEofMarker, readMetrics, runStep, STEP_ENV, stepConfigFromEnv } from "./stream/index.js";
export type { EofMarker, Processing, StepHandle, StepMetrics, StepOptions } from "./stream/index.js";
export { getKeys, getLatest, getRange, onlineRedis, putWindows } from "./store/online.js";

// ── real services: Kafka and Redis providers ─────────────────────────────────────────────────────────────────
export { createTopics, deleteTopics } from "./kafka/index.js";
export { startBroker } from "./broker/index.js";
export type { BrokerHandle, StartBrokerOptions } from "./broker/index.js";
export { startRedis, type RedisHandle, type StartRedisOptions } from "./redis/provider.js";

// ── replay: recorded ticks through a real broker, with a parity report ──────────────────────────────────────
export { compareWindows, type ParityResult } from "./replay/parity.js";
export { replay, type ReplayOptions, type ReplayProgress } from "./replay/replay.js";
export { type ReplayReport, reportText } from "./replay/report.js";

// ── descriptor: quix.yaml and app.yaml ──────────────────────────────────────────────────────────────────────
export { editDescriptor, loadAppDescriptor, loadDescriptor, pipelineGraph, readDescriptor } from "./descriptor/index.js";

// ── pipeline: quix.yaml run locally (promote and notebook tooling stay out: they load the TypeScript compiler) ──
export { collectDashboardData, pipelineDown, pipelineStatus, runPipeline, startDetached } from "./pipeline/index.js";
