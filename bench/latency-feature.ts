import { ohlc } from "../src/feature/shipped/ohlc.js";

/** The latency bench's feature, in a module of its own so the step's worker thread can load it by reference. */
export const benchLatency1s = ohlc({ size: "1s", grace: "100ms", name: "bench_latency_1s" });
