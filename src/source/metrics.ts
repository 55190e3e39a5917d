/**
 * A source's metrics, shaped like a step's (`StepMetrics` with `kind: "source"` and a `source` section), published
 * every second to Redis (`quixlab:metrics:<step>:<replica>`) and to a file, so `status` and the dashboard read a
 * source like any step: consumed = messages received, emitted = produced and acknowledged, rejected = dropped.
 */
import { hostname } from "node:os";
import type { Redis } from "ioredis";
import { onlineRedis } from "../store/online.js";
import { initialMetrics, publishMetrics, type SourceMetrics, type StepMetrics, writeMetricsFile } from "../stream/metrics.js";
import type { SourceConfig } from "./config.js";

export interface SourceMeterOptions {
  readonly intervalMs?: number;
  readonly log: (line: string) => void;
}

/** Counters a source moves while it runs; `publish` sends a snapshot. Life cycle: start → (counting) → stop(state). */
export class SourceMeter {
  readonly m: StepMetrics;
  readonly source: SourceMetrics;
  private readonly redis: Redis | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly intervalMs: number;

  constructor(
    private readonly config: SourceConfig,
    o: SourceMeterOptions,
  ) {
    this.intervalMs = o.intervalMs ?? 1_000;
    this.m = initialMetrics({
      step: config.stepName ?? `source-${config.type}`,
      replica: config.replicaId ?? `${hostname()}-${process.pid}`,
      feature: config.type,
      version: "1",
      processing: "at-least-once",
      inputTopic: "",
      outputTopic: config.topic,
      consumerGroup: "",
      redis: config.redis ? "up" : "none",
    });
    this.m.kind = "source";
    this.source = {
      type: config.type,
      endpoint: config.type === "coinbase" ? config.endpoint : (config.ticks ?? ""),
      products: [...config.products],
      connected: false,
      reconnects: 0,
      duplicates: 0,
      lastMessageAt: null,
    };
    this.m.source = this.source;
    this.redis = config.redis ? onlineRedis(config.redis) : undefined;
  }

  start(): void {
    this.timer = setInterval(() => void this.publish(), this.intervalMs);
    this.timer.unref();
    void this.publish();
  }

  /** A copy of the current report. */
  snapshot(): StepMetrics {
    return { ...this.m, heartbeatAt: Date.now(), source: { ...this.source, products: [...this.source.products] } };
  }

  async publish(): Promise<void> {
    const m = this.snapshot();
    if (this.config.metricsFile) {
      try {
        writeMetricsFile(this.config.metricsFile, m);
      } catch (e) {
        this.m.lastError = `metrics file: ${(e as Error).message}`;
      }
    }
    if (this.redis) {
      const ok = await publishMetrics(this.redis, m, Math.max(5, (3 * this.intervalMs) / 1_000)).then(
        () => true,
        () => false,
      );
      this.m.redis = ok ? "up" : "down";
      this.m.redisDown = !ok;
      if (!ok) this.m.redisErrors++;
    }
  }

  /** The last report (`stopped` or `failed`), then the Redis connection closes. */
  async stop(state: "stopped" | "failed"): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.m.state = state;
    this.source.connected = false;
    await this.publish();
    await this.redis?.quit().catch(() => this.redis?.disconnect());
  }
}
