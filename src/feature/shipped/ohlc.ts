import { formatDuration, parseDuration } from "../../window/duration.js";
import { type CloseOptions, type Duration, hopping, tumbling } from "../../window/spec.js";
import { defineFeature } from "../define.js";
import { type Ohlcv, ohlcv } from "../ohlcv.js";
import type { Feature } from "../types.js";

/**
 * Default grace for OHLC features: 2 s. Exchange feeds deliver ticks slightly out of order (Coinbase's ticker
 * channel by tens to hundreds of ms); 2 s covers that while a window's bar still appears about 2 s after it ends.
 */
export const DEFAULT_GRACE = "2s";

export interface OhlcOptions {
  size: Duration;
  /** Omit for tumbling windows; set for hopping ones (e.g. size 60s, step 1s). */
  step?: Duration;
  grace?: Duration;
  origin?: "epoch" | "start";
  /** Default: ohlc_<size>, or ohlc_<size>_every_<step> for hopping windows. */
  name?: string;
  /** How the windows close, early results and empty windows (README "How windows close"). */
  closing?: CloseOptions["closing"];
  idle?: CloseOptions["idle"];
  emit?: CloseOptions["emit"];
  every?: CloseOptions["every"];
  fill?: CloseOptions["fill"];
}

/**
 * An OHLCV feature over ticks keyed by product_id.
 * @example ohlc({ size: "5m", grace: "5s" })
 * @example ohlc({ size: "1m", emit: "update", idle: "2s" })  // live candles: the open one too, quiet ones closed
 */
export function ohlc(opts: OhlcOptions): Feature<Ohlcv> {
  const size = parseDuration(opts.size, "window size");
  const step = opts.step === undefined ? undefined : parseDuration(opts.step, "window step");
  const w = { grace: opts.grace ?? DEFAULT_GRACE, origin: opts.origin ?? "epoch", closing: opts.closing, idle: opts.idle, emit: opts.emit, every: opts.every, fill: opts.fill } as const;
  const hop = step !== undefined && step !== size;
  const name = opts.name ?? (hop ? `ohlc_${formatDuration(size)}_every_${formatDuration(step)}` : `ohlc_${formatDuration(size)}`);
  return defineFeature({ name, window: hop ? hopping(size, step, w) : tumbling(size, w), agg: ohlcv() });
}

/** Hourly candles (tumbling 1 h, grace 2 s). */
export const ohlc1h = ohlc({ size: "1h", name: "ohlc1h" });
/** Minute candles (tumbling 1 min, grace 2 s). */
export const ohlc1m = ohlc({ size: "1m", name: "ohlc1m" });
/** Rolling one-minute candles updated every second (hopping 60 s every 1 s, grace 2 s). */
export const ohlc60s = ohlc({ size: "60s", step: "1s", name: "ohlc60s" });
