export { runBatch } from "./batch.js";
export { defineFeature, type FeatureDefinition, isFeature, type Params, rowsAggregator } from "./define.js";
export { ohlcvTumblingColumns } from "./fast.js";
export { recordsToFrame } from "./frame.js";
export { bollinger, ema, type IndicatorOptions, rollup, type RollupState, rsi } from "./indicators.js";
export { isOhlcvAggregator, type Ohlcv, type OhlcvState, ohlcv, ohlcvFold } from "./ohlcv.js";
export { loadFeatureRef } from "./ref.js";
export type { Aggregator, BatchInput, BatchOptions, BatchResult, Feature, WindowRecord, WindowSpec } from "./types.js";
