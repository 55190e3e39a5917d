/** Source steps (README.md in this folder): the Coinbase websocket and a recording, each into a topic. */
import type { SourceConfig } from "./config.js";
import { runCoinbaseSource } from "./coinbase.js";
import type { SourceHandle, SourceRunOptions } from "./handle.js";
import { runReplaySource } from "./replay.js";

export { type SourceConfig, type SourceOverrides, type SourceType, resolveSourceConfig, SOURCE_ENV, SOURCE_TYPES } from "./config.js";
export type { SourceHandle, SourceRunOptions } from "./handle.js";
export { runCoinbaseSource } from "./coinbase.js";
export { runReplaySource } from "./replay.js";
export { backoffDelay } from "./backoff.js";
export { Dedup, isNewer } from "./dedup.js";
export { classifyFrame, COINBASE_WS, type FeedPosition, type Frame, subscribeMessage } from "./protocol.js";
export { shiftTime } from "./shift.js";

/**
 * Run the source `config` describes (what a source app's main.ts calls).
 * @example const src = runSource(await resolveSourceConfig("replay", process.env)); await src.done
 */
export function runSource(config: SourceConfig, o: SourceRunOptions = {}): SourceHandle {
  return config.type === "coinbase" ? runCoinbaseSource(config, o) : runReplaySource(config, o);
}
