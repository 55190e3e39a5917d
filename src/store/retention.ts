import type { WindowSpec } from "../window/types.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * How long the online store keeps a feature's windows by default, measured on window start (ms), from the spacing
 * of the starts, which is what sets a key's memory:
 *
 *   - tumbling / hopping, by `step`: >= 1 h → 30 d; >= 1 min → 2 d; below 1 min → 1 h
 *     (ohlc1h → 30 d, 720 windows; ohlc1m → 2 d, 2,880; ohlc60s, 60 s every 1 s → 1 h, 3,600);
 *   - session, by the gap (`size`, the least spacing of two sessions' starts): the same thresholds;
 *   - sliding, count and scan: 1 h. Their windows come as fast as their input records, whose rate the window
 *     does not say, so they get the bound of the densest grid; give the feature a `retention` when more is needed.
 *
 * @example defaultRetentionMs(ohlc1m.window) === 2 * 86_400_000
 */
export function defaultRetentionMs(window: Pick<WindowSpec, "kind" | "size" | "step">): number {
  const spacing = window.kind === "tumbling" || window.kind === "hopping" ? window.step : window.kind === "session" ? window.size : 0;
  if (spacing >= HOUR) return 30 * DAY;
  if (spacing >= MINUTE) return 2 * DAY;
  return HOUR;
}
