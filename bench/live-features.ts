// Features of the live bench (live.ts), by reference for the step's worker thread.
import { defineFeature } from "../src/feature/define.js";
import { ohlcv } from "../src/feature/ohlcv.js";
import { tumbling } from "../src/window/spec.js";

/** Short windows closed on the wall clock after 2 s without a tick. */
export const quiet5s = defineFeature({ name: "bench_quiet5s", window: tumbling("5s", { grace: "1s", idle: "2s" }), agg: ohlcv() });

/** ohlc1m with the open candle after every tick. */
export const ohlc1mUpdates = defineFeature({ name: "bench_ohlc1m_updates", window: tumbling("1m", { grace: "2s" }), agg: ohlcv(), emit: "update" });
