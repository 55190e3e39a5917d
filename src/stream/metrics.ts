import type { Redis } from "ioredis";
import { writeJsonAtomic } from "../util/json-file.js";

/**
 * Health and counters of one replica of a step. Published every second to Redis (hash
 * `quixlab:metrics:<step>:<replica>`, expiring unless refreshed: a missing hash means a dead replica) and, when
 * asked, to a JSON file; `readMetrics` reads them back for `status`/the dashboard.
 */
export interface StepMetrics {
  step: string;
  replica: string;
  feature: string;
  version: string;
  processing: "at-least-once" | "exactly-once";
  inputTopic: string;
  outputTopic: string;
  consumerGroup: string;
  state: "starting" | "running" | "stopping" | "stopped" | "failed";
  startedAt: number;
  /** Wall time of this report. */
  heartbeatAt: number;
  /** Messages processed (redeliveries after a restore count again). */
  consumed: number;
  /** Final windows written (acknowledged by Kafka). */
  emitted: number;
  rejected: number;
  late: number;
  /** Sum over assigned partitions of high watermark − position. */
  lag: number;
  lagByPartition: Record<string, number>;
  windowsOpen: number;
  /** Tick ingest (Kafka timestamp) → window acknowledged, over the recent windows. */
  latencyMs: { p50: number | null; p99: number | null; samples: number };
  partitions: number[];
  /** Input partitions whose end-of-input marker was processed. */
  eofPartitions: number[];
  checkpoints: number;
  restores: number;
  rebalances: number;
  redis: "none" | "up" | "down";
  redisDown: boolean;
  redisErrors: number;
  lastError: string | null;
  /** "source" for a source step (coinbase, replay: src/source/), which consumes no topic; absent or "step" otherwise. */
  kind?: "step" | "source";
  /** Early results (`emit: "update"`) written to `<output>.updates` and acknowledged. */
  updates?: number;
  /** Largest `end` of the final windows acknowledged so far (epoch ms): freshness = now − this. */
  lastWindowEnd?: number | null;
  /** A source's own health: where it reads, whether it is connected, and what it dropped. */
  source?: SourceMetrics;
}

/** What a source step reports besides the common counters (consumed = messages received, emitted = produced). */
export interface SourceMetrics {
  /** "coinbase" or "replay". */
  type: string;
  /** The WebSocket URL or the ticks file. */
  endpoint: string;
  products: string[];
  connected: boolean;
  reconnects: number;
  /** Messages received again after a reconnect and not produced (by sequence/trade_id). */
  duplicates: number;
  /** Wall time of the newest message received, or null. */
  lastMessageAt: number | null;
}

/** What identifies a replica's reports; fixed for the replica's life. */
export type MetricsIdentity = Pick<
  StepMetrics,
  "step" | "replica" | "feature" | "version" | "processing" | "inputTopic" | "outputTopic" | "consumerGroup" | "redis"
>;

/** A replica's first report: `starting`, started and last heard of at `now`, every counter at zero. */
export function initialMetrics(id: MetricsIdentity, now: number = Date.now()): StepMetrics {
  // Fields listed one by one (not spread) to keep the published key order the same for every writer.
  return {
    step: id.step,
    replica: id.replica,
    feature: id.feature,
    version: id.version,
    processing: id.processing,
    inputTopic: id.inputTopic,
    outputTopic: id.outputTopic,
    consumerGroup: id.consumerGroup,
    state: "starting",
    startedAt: now,
    heartbeatAt: now,
    consumed: 0,
    emitted: 0,
    rejected: 0,
    late: 0,
    lag: 0,
    lagByPartition: {},
    windowsOpen: 0,
    latencyMs: { p50: null, p99: null, samples: 0 },
    partitions: [],
    eofPartitions: [],
    checkpoints: 0,
    restores: 0,
    rebalances: 0,
    redis: id.redis,
    redisDown: false,
    redisErrors: 0,
    lastError: null,
    updates: 0,
    lastWindowEnd: null,
  };
}

/** A fixed-size ring of recent latencies with percentiles. */
export class Reservoir {
  private readonly buf: number[] = [];
  /** When each sample was added (ms), for percentiles over the recent ones. */
  private readonly at: number[] = [];
  private next = 0;
  constructor(private readonly size = 2048) {}

  add(v: number, now = Date.now()): void {
    if (this.buf.length < this.size) {
      this.buf.push(v);
      this.at.push(now);
    } else {
      this.buf[this.next] = v;
      this.at[this.next] = now;
    }
    this.next = (this.next + 1) % this.size;
  }

  /** Nearest-rank percentile (0 < q <= 1) of what is held (added at or after `since`, when given), or null when empty. */
  percentile(q: number, since?: number): number | null {
    const held = since === undefined ? this.buf : this.buf.filter((_, i) => this.at[i]! >= since);
    if (held.length === 0) return null;
    const s = [...held].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
  }

  /** How many samples are held (added at or after `since`, when given). */
  countSince(since?: number): number {
    return since === undefined ? this.buf.length : this.at.filter((t) => t >= since).length;
  }

  get count(): number {
    return this.buf.length;
  }
}

export const metricsKey = (step: string, replica: string) => `quixlab:metrics:${step}:${replica}`;

/** Publish one report: the fields readable with redis-cli, `json` exact; the hash expires after `ttlSeconds`. */
export async function publishMetrics(redis: Redis, m: StepMetrics, ttlSeconds: number): Promise<void> {
  const key = metricsKey(m.step, m.replica);
  const fields: Record<string, string> = { json: JSON.stringify(m) };
  for (const [k, v] of Object.entries(m)) fields[k] = typeof v === "string" ? v : JSON.stringify(v);
  await redis.multi().hset(key, fields).expire(key, Math.max(1, Math.ceil(ttlSeconds))).exec();
}

/** Write a report to a JSON file atomically (write then rename), so a reader never sees half a file. */
export function writeMetricsFile(path: string, m: StepMetrics): void {
  writeJsonAtomic(path, m);
}

/**
 * The live replicas' reports of `step` (or of every step), sorted by step then replica.
 * @example for (const m of await readMetrics(redis, "quixlab-ohlc1m")) console.log(m.replica, m.lag)
 */
export async function readMetrics(redis: Redis, step?: string): Promise<StepMetrics[]> {
  const pattern = step ? `${metricsKey(step, "")}*` : "quixlab:metrics:*";
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, batch] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 200);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== "0");
  const out: StepMetrics[] = [];
  for (const key of [...new Set(keys)]) {
    const json = await redis.hget(key, "json");
    if (!json) continue;
    try {
      const m = JSON.parse(json) as StepMetrics;
      // A step name containing ':' could match a longer prefix; keep exact matches only.
      if (!step || m.step === step) out.push(m);
    } catch {
      // Not ours: some other writer used the prefix.
    }
  }
  return out.sort((a, b) => (a.step === b.step ? (a.replica < b.replica ? -1 : 1) : a.step < b.step ? -1 : 1));
}
