export { firstWindowStart, gridFloor, isFinal, lastWindowStart, windowStarts } from "./assign.js";
export { formatDuration, parseDuration } from "./duration.js";
export { compareKeys, type EngineEvents, type EngineSnapshot, WindowEngine } from "./engine.js";
export { createEngine, restoreEngine } from "./engines.js";
export type { Engine } from "./keyed.js";
export { countWindow, type Duration, describeWindow, hopping, session, sliding, toWindowSpec, tumbling, WindowBuilder, type WindowOptions } from "./spec.js";
export type { Aggregator, EngineSpec, WindowKind, WindowRecord, WindowSpec } from "./types.js";
