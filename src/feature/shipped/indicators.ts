/**
 * Features over features (DESIGN.md "Features over features"), all over the 1-minute candles `ohlc1m`: hourly
 * candles rolled up from them, and the indicators a model reads next to the candles. As steps, each reads
 * `ohlc1m`'s output topic; `quixlab replay --chain src/feature/shipped/indicators.ts#rsi14` runs both steps.
 */
import { tumbling } from "../../window/spec.js";
import { defineFeature } from "../define.js";
import { bollinger, ema, rollup, rsi } from "../indicators.js";
import { ohlc1m } from "./ohlc.js";

/** Hourly candles rolled up from the minute ones: equal to `ohlc1h` from ticks, window for window. */
export const ohlc1hRollup = defineFeature({ name: "ohlc1h_rollup", input: ohlc1m, window: tumbling("1h"), agg: rollup() });
/** EMA of the minute closes, span 12 (pandas ewm(span=12, adjust=False)). */
export const ema12 = defineFeature({ name: "ema12", input: ohlc1m, agg: ema(12) });
/** RSI of the minute closes with Wilder smoothing over 14. */
export const rsi14 = defineFeature({ name: "rsi14", input: ohlc1m, agg: rsi(14) });
/** Bollinger bands over the last 20 minute closes, ± 2 standard deviations. */
export const bb20 = defineFeature({ name: "bb20", input: ohlc1m, agg: bollinger(20, 2) });
