export { firstWindowStart, gridFloor, isFinal, lastWindowStart, windowStarts } from "./assign.js";
export { formatDuration, parseDuration } from "./duration.js";
export { compareKeys, type EngineEvents, type EngineSnapshot, WindowEngine } from "./engine.js";
export { type Duration, describeWindow, hopping, toWindowSpec, tumbling, WindowBuilder, type WindowOptions } from "./spec.js";
export type { Aggregator, EngineSpec, WindowRecord, WindowSpec } from "./types.js";
