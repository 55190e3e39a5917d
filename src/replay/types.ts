/** What a replay is asked to do, and what it tells about itself while it runs. */

export interface ReplayOptions {
  /** `path/to/module.ts#exportName`, relative to `cwd`. */
  ref: string;
  ticks: string;
  cwd?: string;
  /** auto | local | testcontainers | HOST:PORT[,HOST:PORT] */
  broker?: string;
  /** auto | none | local | redis://HOST:PORT */
  redis?: string;
  /** max (default) | Nx */
  speed?: string;
  partitions?: number;
  /** Write the windows the stream produced here (JSON Lines, output record format). */
  out?: string;
  /** SIGKILL the step this many times at random points and restart it. */
  chaos?: number;
  /** Keep the topics and groups for inspection. */
  keep?: boolean;
  csvMap?: string;
  /** Exactly-once processing in the step (default at-least-once). */
  exactlyOnce?: boolean;
  /**
   * Give up when nothing progresses for this long (default 90 s). Keep it well above the longest broker outage
   * the replay should ride out: the producer and the reader retry through one, the watchdog does not.
   */
  stallMs?: number;
  /** Deterministic chaos (tests). */
  seed?: number;
  /**
   * A vector spec (`ohlc1h:30d,ohlc1m:today,ohlc60s:latest`): run each feature's step on the same ticks into the
   * online store, read every key's vector from it at random moments while the ticks go in (and after the end), and
   * check each equals the batch vector at its asOf. The features are the exports of those names in `ref`'s module
   * (quixlab's shipped ohlc.ts when `ref` is empty). Needs an online store that has none of their data yet.
   */
  vectors?: string;
  /**
   * A model (`path/to/module.ts#export`, made by `defineModel`): run its vector's features as steps into the store
   * (as `vectors`), the model step beside them, and compare its predictions with `batchPredictions`.
   */
  model?: string;
  /** With `vectors`: samples per key during the replay (default 20). */
  vectorSamples?: number;
  onProgress?(p: ReplayProgress): void;
  log?(line: string): void;
}

export interface ReplayProgress {
  phase: "starting" | "batch" | "producing" | "processing" | "comparing" | "done";
  ticks: number;
  produced: number;
  windowsExpected: number;
  windowsReceived: number;
  /** Parity as the output arrives (once the batch pass is done): distinct windows equal to batch, and not. */
  windowsMatched?: number;
  windowsDiffering?: number;
  producedPerSec: number;
  kills: number;
}
