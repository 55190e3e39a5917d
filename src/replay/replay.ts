import { writeFileSync } from "node:fs";
import { loadFeatureRef } from "../feature/ref.js";
import { openProducer } from "../kafka/index.js";
import { produceEof } from "../stream/control.js";
import { killSchedule, runChaos } from "./chaos.js";
import { readMetricsFile, StepProcess, stepWatchdog } from "./child.js";
import { startCollector } from "./collector.js";
import { distinctWindows } from "./parity.js";
import { replayNames, replaySettings, stepEnvironment } from "./plan.js";
import { produceFile } from "./produce.js";
import { buildReport, type ReplayReport } from "./report.js";
import { countStored, openSession } from "./session.js";
import type { ReplayOptions, ReplayProgress } from "./types.js";

export type { ReplayOptions, ReplayProgress } from "./types.js";

/**
 * Replay a ticks file through a real Kafka broker into the feature's streaming step (a child process running
 * `quixlab run`), read the step's output back until every partition's end-of-input marker arrived, and compare it
 * window for window with the feature's batch result on the same file. Bad options throw an `InputError` naming
 * the option before anything starts; the services and everything made on them are cleaned up however it ends.
 *
 * @example const r = await replay({ ref: "src/feature/shipped/ohlc.ts#ohlc1m", ticks: "data/coinbase-ticker-2021-04-17.jsonl" }); r.parity.ok
 */
export async function replay(opts: ReplayOptions): Promise<ReplayReport> {
  const started = Date.now();
  const s = replaySettings(opts, { cwd: process.cwd(), seed: Date.now() });
  const log = opts.log ?? (() => undefined);
  const progress: ReplayProgress = { phase: "starting", ticks: 0, produced: 0, windowsExpected: 0, windowsReceived: 0, producedPerSec: 0, kills: 0 };
  const tell = (change: Partial<ReplayProgress> = {}) => {
    Object.assign(progress, change);
    opts.onProgress?.({ ...progress });
  };

  // The batch result first: it is what the stream must reproduce, and loading it checks the reference and the
  // file before any service starts (exit 2 early).
  const feature = await loadFeatureRef(s.ref, s.cwd);
  tell({ phase: "batch" });
  const lateTicks: { key: string; time: number }[] = [];
  const batch = await feature.batchRecords(s.ticksFile, {
    read: s.read,
    // closing "partition": each partition of the input topic has its own watermark, as the step will see it.
    partitions: s.partitions,
    onLate: (t, info) => {
      if (lateTicks.length < 100_000) lateTicks.push({ key: info.key, time: feature.time(t) });
    },
  });
  tell({ ticks: batch.ticks + batch.rejected, windowsExpected: batch.records.length });

  const names = replayNames(feature.name);
  const session = await openSession(s, names, log);
  try {
    const { brokers } = session;
    // Read from the start before anything is produced.
    let lastProgressAt = Date.now();
    const collector = await startCollector(brokers, names, s.partitions, {
      client: session.client("reader"),
      onRead: (t) => tell({ windowsReceived: t.windows.length }),
    });
    session.defer("stopping the reader", () => collector.stop());

    const env = stepEnvironment(s, names, { brokers, redisUrl: session.redis.url, metricsFile: session.metricsFile }, process.env);
    const step = new StepProcess(s.refForChild, env, s.cwd, log);
    session.defer("stopping the step", () => step.kill("SIGTERM"));
    step.start();
    log(`step: started pid ${step.pid} (quixlab run ${s.refForChild})`);

    // The step consumes while we produce; the end-of-input markers follow the last tick of every partition.
    tell({ phase: "producing" });
    const producer = await openProducer(brokers, session.client("producer"));
    const produceStart = Date.now();
    let produced: number;
    try {
      produced = await produceFile(producer, names.topics.input, s.ticksFile, {
        speed: s.speed,
        read: s.read,
        onProgress: (p) => {
          lastProgressAt = Date.now();
          tell({ produced: p.produced, producedPerSec: p.produced / Math.max(0.001, (Date.now() - produceStart) / 1000) });
        },
      });
      await produceEof(producer, names.topics.input, s.partitions);
    } finally {
      await producer.disconnect().catch(() => undefined);
    }
    const produceMs = Date.now() - produceStart;
    tell({ phase: "processing" });

    const chaos = await runChaos(step, killSchedule(s.chaos, s.seed), { onKill: (kills) => tell({ kills }), log });
    const watchdog = stepWatchdog(step, () => Math.max(lastProgressAt, collector.lastReadAt), s.stallMs);
    try {
      await Promise.race([collector.completed, watchdog.failed]);
    } finally {
      watchdog.stop();
    }
    const processMs = Date.now() - produceStart;
    tell({ phase: "comparing" });
    // Dead letters and late ticks are written before the end-of-input marker they precede: read them to the end.
    await collector.drain([names.topics.dlq, names.topics.late]);
    // A clean stop writes the step's final metrics (latency included).
    await step.kill("SIGTERM");
    const metrics = readMetricsFile(session.metricsFile);

    const streamWindows = distinctWindows(collector.tally.windows);
    if (s.outFile) writeFileSync(s.outFile, streamWindows.map((r) => `${JSON.stringify(r)}\n`).join(""));
    const windowsStored = session.redis.url ? await countStored(session.redis.url, feature.name, streamWindows) : null;
    tell({ phase: "done" });
    return buildReport({
      feature: { ref: s.ref, name: feature.name, version: feature.version },
      ticksFile: s.ticksShown,
      batch,
      lateTicks,
      streamed: collector.tally.windows,
      streamWindows: streamWindows.length,
      rejectedInStream: collector.tally.rejected.size,
      lateInStream: collector.tally.late.size,
      produced,
      produceMs,
      processMs,
      latency: metrics?.latencyMs,
      broker: { provider: session.broker.provider, brokers, startupMs: session.broker.startupMs },
      redis: { provider: session.redis.provider, url: session.redis.url, windowsStored },
      partitions: s.partitions,
      speed: s.speedText,
      chaos: { requested: s.chaos, ...chaos },
      topics: { ...names.topics, kept: s.keep },
      out: s.out,
      durationMs: Date.now() - started,
    });
  } finally {
    await session.close();
  }
}
