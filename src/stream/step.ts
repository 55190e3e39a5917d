import { QuixlabError, ServiceError } from "../errors/index.js";
import type { Feature } from "../feature/types.js";
import { type GroupRunner, groupRunner, openAdmin } from "../kafka/index.js";
import { AtLeastOnceWriter, kafkaLog } from "./at-least-once.js";
import { CHANGELOG_CONFIG } from "./changelog.js";
import { CheckpointParts, type CheckpointWriter } from "./checkpoint.js";
import { ExactlyOnceWriter } from "./exactly-once.js";
import { BatchLoop } from "./loop.js";
import { deferred } from "../util/deferred.js";
import { initialMetrics, publishMetrics, Reservoir, type StepMetrics, writeMetricsFile } from "./metrics.js";
import { ProcessingWorker } from "./offload.js";
import { OnlineSink } from "./online-sink.js";
import { onPlatform, type ResolvedOptions, resolveOptions, type StepOptions } from "./options.js";
import { Processors } from "./processors.js";
import { Restorer } from "./restore.js";
import { message, StepContext } from "./state.js";
import { defaultRetentionMs } from "../store/retention.js";

export type { Processing, StepOptions } from "./options.js";

/** A running step. `done` settles when it has stopped (rejects if it failed). */
export interface StepHandle {
  /** Stop fetching, checkpoint and commit what was processed, leave the group, disconnect. */
  stop(): Promise<void>;
  /** The step's metrics; `latencySince` (ms): the latency percentiles over the windows delivered since then only. */
  metrics(opts?: { latencySince?: number }): StepMetrics;
  /**
   * Resolves once every partition of the step's first assignment is restored from the changelog (at once when it
   * was assigned none), i.e. when processing can start; rejects if the step stops or fails before that.
   */
  ready: Promise<void>;
  done: Promise<void>;
}

/**
 * Run `feature` as a streaming step: consume ticks from `inputTopic` in a consumer group, window them with the same
 * engine the batch path uses (one engine per assigned partition), and write final windows to `outputTopic` and the
 * online store; rejects go to the dead-letter topic, late ticks to the late topic. State is checkpointed to a
 * compacted changelog with the consumed offsets (README.md in this folder). Resolves once the consumer has joined.
 * @example const step = await runStep(ohlc1m, { brokers: ["127.0.0.1:9092"], inputTopic: "ticks", outputTopic: "ohlc1m" })
 */
export async function runStep(feature: Feature, opts: StepOptions): Promise<StepHandle> {
  const resolved = await onPlatform(resolveOptions(feature, opts));
  // A broker that is down while the step starts (restarting, or not up yet) is waited for, as one that goes
  // down while the step runs is: for START_RETRY_MS, then the error stands.
  const giveUp = Date.now() + START_RETRY_MS;
  for (let wait = 500; ; wait = Math.min(4_000, wait * 2)) {
    const step = new Step(resolved);
    try {
      await step.start();
      return step.handle();
    } catch (e) {
      if (!brokerUnreachable(e) || Date.now() + wait > giveUp || opts.signal?.aborted) throw e;
      resolved.log(`starting the step failed (${message(e)}); the broker may be restarting: trying again in ${wait} ms`);
      // A stop while waiting ends the wait (the loop then gives the error up).
      await new Promise<void>((r) => {
        const t = setTimeout(r, wait);
        const stop = () => {
          clearTimeout(t);
          r();
        };
        opts.signal?.addEventListener("abort", stop, { once: true });
      });
      if (opts.signal?.aborted) throw e;
    }
  }
}

/** How long a step keeps trying to start while the broker refuses connections. */
const START_RETRY_MS = 30_000;

/**
 * A start that failed because no broker answered (not because of the step's settings); kafkajs's null metadata
 * arrives as "Kafka metadata not available" (explainMetadataError, src/kafka/admin.ts).
 */
export function brokerUnreachable(e: unknown): boolean {
  return e instanceof ServiceError && e.retriable && /ECONNREFUSED|ECONNRESET|ETIMEDOUT|Connection error|Connection timeout|NumberOfRetriesExceeded|not available/i.test(message(e));
}

/** A deferred promise whose owner may never observe it: an unobserved failure must not kill the process. */
function unobserved(): ReturnType<typeof deferred> {
  const d = deferred();
  d.promise.catch(() => undefined);
  return d;
}

/**
 * The step's life cycle: `start` (topics, worker, producers, then the group), `stop` (checkpoint what was processed,
 * leave), `fail` (a crash kafkajs does not restart, or the worker died). It wires the parts together: the group
 * runner's assignments go to the Restorer, its batches to the BatchLoop, whose checkpoints the CheckpointWriter
 * writes (after the OnlineSink flush).
 */
class Step {
  private readonly ctx: StepContext;
  private readonly sink?: OnlineSink;
  private readonly pool?: ProcessingWorker;
  private readonly writer: CheckpointWriter;
  private readonly restorer: Restorer;
  private readonly loop: BatchLoop;
  private readonly runner: GroupRunner;
  private readonly latency = new Reservoir();
  private readonly done = unobserved();
  private readonly ready = unobserved();
  private timer?: NodeJS.Timeout;
  private idleTimer?: NodeJS.Timeout;
  private stopping?: Promise<void>;

  constructor(private readonly o: ResolvedOptions) {
    const m = initialMetrics(
      {
        step: o.stepName,
        replica: o.replica,
        feature: o.feature.name,
        version: o.feature.version,
        processing: o.processing,
        inputTopic: o.topics.input,
        outputTopic: o.topics.output,
        consumerGroup: o.group,
        redis: o.redis ? "down" : "none",
      },
      Date.now(),
    );
    const ctx = new StepContext(o, m);
    this.ctx = ctx;
    // Retention by window start: the feature's, else sized from its window (ohlc1h 30 d, ohlc1m 2 d, ohlc60s 1 h).
    const retentionMs = o.feature.retention ?? defaultRetentionMs(o.feature.window);
    if (o.redis) this.sink = new OnlineSink(o.redis, { feature: o.feature.name, maxWindowsPerKey: o.maxWindowsPerKey, retentionMs, m, log: o.log, stopped: ctx.stopped });
    if (o.worker) this.pool = new ProcessingWorker(o.feature, o.worker, (e) => void this.fail(e));
    const parts = new CheckpointParts(ctx, this.sink, this.latency);
    const processors = new Processors(ctx, this.pool);
    this.writer = o.processing === "exactly-once" ? new ExactlyOnceWriter(parts) : new AtLeastOnceWriter(parts, (st, p, e) => this.loop.failed(st, p, e));
    this.restorer = new Restorer(ctx, this.writer, processors, () => this.ready.resolve());
    this.loop = new BatchLoop(ctx, this.restorer, processors, this.writer);
    this.runner = groupRunner(o.kafka, {
      groupId: o.group,
      topic: o.topics.input,
      clientId: o.clientId,
      log: kafkaLog(o.log),
      sessionTimeoutMs: o.sessionTimeoutMs,
      concurrency: o.concurrency,
      // With the worker, the records are decoded there: plain batches can stay undecoded.
      rawBatches: Boolean(this.pool) && o.rawFetch,
      onBatch: (b) => this.loop.onBatch(b),
      onAssign: (ps) => this.restorer.assign(ps),
      onCrash: (e, restart) => {
        m.lastError = `kafka consumer: ${message(e)}`;
        o.log(`consumer crashed: ${message(e)}${restart ? "; restarting" : ""}`);
        if (!restart) void this.fail(e);
      },
    });
    ctx.runner = this.runner;
  }

  handle(): StepHandle {
    return { stop: () => this.stop(), metrics: (opts) => this.snapshot(opts?.latencySince), ready: this.ready.promise, done: this.done.promise };
  }

  async start(): Promise<void> {
    const { o, ctx } = this;
    try {
      // The worker loads the feature (compiling TypeScript) while the topics are checked.
      await Promise.all([this.prepareTopics(), this.pool?.ready]);
      if (this.pool) {
        const raw = this.runner.rawBatches;
        o.log(`decoding and windowing in a worker thread${raw === true ? ", from the record batches as fetched" : `; kafkajs decodes the records (${raw})`}`);
      }
      await this.writer.start();
      this.timer = setInterval(() => void this.publish(), o.metricsIntervalMs);
      this.timer.unref();
      if (o.idleMs > 0) {
        // Often enough that a quiet key's window closes well within idle + grace of its end.
        const every = Math.max(50, Math.min(500, Math.floor(o.idleMs / 4)));
        this.idleTimer = setInterval(() => void this.loop.closeIdle(Date.now()).catch((e) => o.log(`idle close: ${message(e)}`)), every);
        this.idleTimer.unref();
        o.log(`live input: a key quiet for ${o.idleMs} ms closes its windows on the wall clock (checked every ${every} ms)`);
      }
      await this.runner.start();
      ctx.m.state = "running";
      o.log(
        `running ${o.feature.name} (${o.feature.version}) ${o.topics.input} -> ${o.topics.output}, ${o.processing}, group ${o.group}` +
          (this.sink ? ", online store on" : ", no online store"),
      );
      void this.publish();
      // Only now: a disconnect while the runner is still joining the group would be undone when the join completes.
      if (o.signal?.aborted) void this.stop();
      else o.signal?.addEventListener("abort", () => void this.stop(), { once: true });
    } catch (e) {
      await this.runner.stop().catch(() => undefined);
      await this.cleanup("failed");
      throw e instanceof QuixlabError
        ? e
        : new ServiceError(`starting the step failed: ${message(e)}`, { cause: e, retriable: true, remedy: "check that the broker is reachable" });
    }
  }

  /**
   * Create missing topics: outputs, dead letters, late ticks and the changelog get as many partitions as the input.
   * On a platform they exist already (`onPlatform`), and one that the broker does not show is an error.
   */
  private async prepareTopics(): Promise<void> {
    const { o, ctx } = this;
    const admin = await openAdmin(o.kafka, { clientId: o.clientId });
    try {
      const existing = new Set(await admin.listTopics());
      if (o.platform) {
        const absent = [o.topics.input, o.topics.output, o.topics.dlq, o.topics.late, o.changelog, ...(o.topics.updates ? [o.topics.updates] : [])].filter(
          (t) => !existing.has(t),
        );
        if (absent.length) {
          throw new ServiceError(`${o.platform.name} gave topics its broker does not show: ${absent.join(", ")}`, {
            retriable: true,
            remedy: "retry in a moment (a topic just created may take a while), or look at the topics in the platform's portal",
            context: { topic: absent[0] },
          });
        }
      }
      if (!existing.has(o.topics.input)) {
        await admin.createTopics([{ topic: o.topics.input, partitions: o.inputPartitions, replicationFactor: -1 }]);
        o.log(`created input topic ${o.topics.input} (${o.inputPartitions} partitions)`);
      }
      const count = async (topic: string) => (await admin.partitionCount(topic)) || 1;
      const n = await count(o.topics.input);
      const missing = [
        { topic: o.topics.output, partitions: n, replicationFactor: -1 },
        { topic: o.topics.dlq, partitions: n, replicationFactor: -1 },
        { topic: o.topics.late, partitions: n, replicationFactor: -1 },
        ...(o.topics.updates ? [{ topic: o.topics.updates, partitions: n, replicationFactor: -1 }] : []),
        { topic: o.changelog, partitions: n, replicationFactor: -1, config: CHANGELOG_CONFIG },
      ].filter((t) => !existing.has(t.topic));
      if (missing.length) {
        await admin.createTopics(missing);
        o.log(`created ${missing.map((t) => t.topic).join(", ")}`);
      }
      ctx.layout = { inputPartitions: n, outputPartitions: await count(o.topics.output), changelogPartitions: await count(o.changelog) };
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  private snapshot(latencySince?: number): StepMetrics {
    const { ctx } = this;
    let open = 0;
    let lag = 0;
    const byPartition: Record<string, number> = {};
    for (const [p, st] of ctx.parts) {
      if (!st.proc) continue;
      open += st.proc.openWindows();
      if (st.highWatermark !== undefined) {
        const l = Math.max(0, st.highWatermark - st.committed);
        byPartition[String(p)] = l;
        lag += l;
      }
    }
    const redisUp = this.sink?.up ?? false;
    return {
      ...ctx.m,
      heartbeatAt: Date.now(),
      lag,
      lagByPartition: byPartition,
      windowsOpen: open,
      latencyMs: { p50: this.latency.percentile(0.5, latencySince), p99: this.latency.percentile(0.99, latencySince), samples: this.latency.countSince(latencySince) },
      partitions: [...ctx.assigned],
      redis: this.sink ? (redisUp ? "up" : "down") : "none",
      redisDown: Boolean(this.sink) && !redisUp,
    };
  }

  private async publish(): Promise<void> {
    const { o } = this;
    const m = this.snapshot();
    try {
      o.onMetrics?.(m);
    } catch {
      // An observer's bug must not stop the step.
    }
    if (o.metricsFile) {
      try {
        writeMetricsFile(o.metricsFile, m);
      } catch (e) {
        this.ctx.m.lastError = `metrics file: ${message(e)}`;
      }
    }
    if (this.sink?.redis.status === "ready") {
      const ttl = (3 * o.metricsIntervalMs) / 1_000;
      await publishMetrics(this.sink.redis, m, Math.max(5, ttl)).catch(() => undefined);
    }
  }

  stop(): Promise<void> {
    if (!this.stopping) {
      this.stopping = (async () => {
        const { ctx } = this;
        ctx.m.state = "stopping";
        ctx.log("stopping: finishing the current batch, checkpointing, leaving the group");
        ctx.stop();
        // A no-op once ready: a settled promise stays settled.
        this.ready.reject(new ServiceError("the step was stopped before its partitions were restored", { retriable: true }));
        try {
          // Running batches write what they were handed; background checkpoints land (and commit) before the group
          // is left.
          await ctx.drain();
          await this.runner.stop();
        } catch (e) {
          ctx.m.lastError = message(e);
        }
        await this.cleanup("stopped");
        const { m } = ctx;
        ctx.log(`stopped (consumed ${m.consumed}, emitted ${m.emitted}, rejected ${m.rejected}, late ${m.late})`);
        this.done.resolve();
      })();
    }
    return this.stopping;
  }

  private async fail(e: unknown): Promise<void> {
    if (this.stopping) return;
    this.stopping = (async () => {
      this.ctx.stop();
      const error = new ServiceError(`the step failed: ${message(e)}`, { cause: e, retriable: true, remedy: "check the broker; restarting the step resumes from its last checkpoint" });
      this.ready.reject(error);
      // The consumer may still be running (a failed worker thread); after a consumer crash this is a no-op.
      await this.runner.stop().catch(() => undefined);
      await this.cleanup("failed");
      this.done.reject(error);
    })();
  }

  private async cleanup(state: StepMetrics["state"]): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.idleTimer) clearInterval(this.idleTimer);
    await this.ctx.drain();
    await this.pool?.terminate().catch(() => undefined);
    this.ctx.m.state = state;
    await this.publish();
    await this.writer.close();
    await this.sink?.close();
  }
}
