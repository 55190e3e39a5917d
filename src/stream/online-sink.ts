import type { Redis } from "ioredis";
import { ServiceError } from "../errors/index.js";
import type { WindowRecord } from "../feature/types.js";
import { onlineRedis, putWindows, type WatermarkWrite } from "../store/online.js";
import type { StepMetrics } from "./metrics.js";
import { message } from "./state.js";
import { sleep } from "../util/sleep.js";

/**
 * The online store as the step's sink: a checkpoint's final windows are flushed to Redis before its outputs are
 * produced, so nothing is acknowledged before it is stored. While Redis is down the flush retries with backoff and
 * the checkpoint (and so the offset) waits: back-pressure. `keepAlive` runs between tries (the consumer's
 * heartbeat, so the group membership holds while a batch waits).
 */
export class OnlineSink {
  readonly redis: Redis;
  private failing = false;

  constructor(
    url: string,
    private readonly o: { feature: string; maxWindowsPerKey?: number; retentionMs?: number; m: StepMetrics; log: (line: string) => void; stopped: AbortSignal },
  ) {
    this.redis = onlineRedis(url);
  }

  /** Up: connected and the last flush worked. */
  get up(): boolean {
    return this.redis.status === "ready" && !this.failing;
  }

  /**
   * Store `windows` with their keys' `watermarks` (in one MULTI: a reader never sees windows without the watermark
   * that made them final), and the open windows' `updates` (emit "update"), retrying until it works; rejects only
   * once the step is stopping.
   */
  async flush(windows: readonly WindowRecord[], keepAlive: () => Promise<void>, updates: readonly WindowRecord[] = [], watermarks: readonly [string, WatermarkWrite][] = []): Promise<void> {
    if (windows.length === 0 && updates.length === 0 && watermarks.length === 0) return;
    let wait = 100;
    for (;;) {
      try {
        await putWindows(this.redis, this.o.feature, windows, { maxWindows: this.o.maxWindowsPerKey, retentionMs: this.o.retentionMs, watermarks, updates });
        if (this.failing) {
          this.failing = false;
          this.o.log("redis: available again; stored the held windows, resuming");
        }
        return;
      } catch (e) {
        this.o.m.redisErrors++;
        this.o.m.lastError = `redis: ${message(e)}`;
        if (!this.failing) {
          this.failing = true;
          this.o.log(`redis: write failed (${message(e)}); holding offsets and retrying`);
        }
        if (this.o.stopped.aborted) {
          throw new ServiceError("stopped while Redis was unavailable; the unstored windows were not acknowledged", { retriable: true });
        }
        await sleep(wait, this.o.stopped);
        wait = Math.min(wait * 2, 2_000);
        // Throws if a rebalance needs the partition back: the checkpoint fails and is redone by its new owner.
        await keepAlive();
      }
    }
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

