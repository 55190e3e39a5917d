import { writeFileSync } from "node:fs";
import { loadFeatureRef } from "../feature/ref.js";
import { openProducer } from "../kafka/index.js";
import { produceEof } from "../stream/control.js";
import { killSchedule, runChaos } from "./chaos.js";
import { readMetricsFile, StepProcess, stepWatchdog } from "./child.js";
import { startCollector } from "./collector.js";
import { distinctWindows } from "./parity.js";
import { replaySettings, stepEnvironment } from "./plan.js";
import { produceFile } from "./produce.js";
import { buildReport, type ReplayReport } from "./report.js";
import { chainOf } from "./chain.js";
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

  // The batch results first: they are what the stream must reproduce, and loading them checks the reference and
  // the file before any service starts (exit 2 early). A feature over another feature is a chain: every step of
  // it runs, each on the step before's output, and each is compared with its own batch result.
  const stages = chainOf(await loadFeatureRef(s.ref, s.cwd), s.refForChild);
  tell({ phase: "batch" });
  for (const st of stages) {
    st.batch = await st.feature.batchRecords(s.ticksFile, {
      read: s.read,
      // closing "partition": each partition of the input topic has its own watermark, as the step will see it.
      partitions: s.partitions,
      onLate: (t, info) => {
        if (st.lateTicks.length < 100_000) st.lateTicks.push({ key: info.key, time: st.feature.time(t) });
      },
    });
  }
  const last = stages.at(-1)!;
  tell({ ticks: stages[0]!.batch!.ticks + stages[0]!.batch!.rejected, windowsExpected: last.batch!.records.length });

  const session = await openSession(s, stages[0]!.names, log, stages.slice(1).map((st) => st.names));
  try {
    const { brokers } = session;
    // Read from the start before anything is produced.
    let lastProgressAt = Date.now();
    for (const st of stages) {
      const collector = await startCollector(brokers, st.names, s.partitions, {
        client: session.client(`reader-${st.index}`),
        onRead: (t) => st === last && tell({ windowsReceived: t.windows.length }),
      });
      st.collector = collector;
      session.defer("stopping the reader", () => collector.stop());
    }
    for (const st of stages) {
      const env = stepEnvironment(s, st.names, { brokers, redisUrl: session.redis.url, metricsFile: session.metricsFileOf(st.index) }, process.env);
      const step = new StepProcess(st.ref, env, s.cwd, log);
      st.step = step;
      session.defer("stopping the step", () => step.kill("SIGTERM"));
      step.start();
      log(`step: started pid ${step.pid} (quixlab run ${st.ref})`);
    }

    // The steps consume while we produce; the end-of-input markers follow the last tick of every partition.
    tell({ phase: "producing" });
    const producer = await openProducer(brokers, session.client("producer"));
    const produceStart = Date.now();
    const input = stages[0]!.names.topics.input;
    let produced: number;
    try {
      produced = await produceFile(producer, input, s.ticksFile, {
        speed: s.speed,
        read: s.read,
        onProgress: (p) => {
          lastProgressAt = Date.now();
          tell({ produced: p.produced, producedPerSec: p.produced / Math.max(0.001, (Date.now() - produceStart) / 1000) });
        },
      });
      await produceEof(producer, input, s.partitions);
    } finally {
      await producer.disconnect().catch(() => undefined);
    }
    const produceMs = Date.now() - produceStart;
    tell({ phase: "processing" });

    // Chaos kills every step of a chain, each on a schedule of its own.
    let kills = 0;
    const chaos = await Promise.all(stages.map((st) => runChaos(st.step!, killSchedule(s.chaos, s.seed + st.index), { onKill: () => tell({ kills: ++kills }), log })));
    const read = () => Math.max(lastProgressAt, ...stages.map((st) => st.collector!.lastReadAt));
    const watchdogs = stages.map((st) => stepWatchdog(st.step!, read, s.stallMs));
    try {
      await Promise.race([Promise.all(stages.map((st) => st.collector!.completed)), ...watchdogs.map((w) => w.failed)]);
    } finally {
      for (const w of watchdogs) w.stop();
    }
    const processMs = Date.now() - produceStart;
    tell({ phase: "comparing" });
    const reports: ReplayReport[] = [];
    for (const st of stages) {
      const collector = st.collector!;
      // Dead letters and late ticks are written before the end-of-input marker they precede: read them to the end.
      await collector.drain([st.names.topics.dlq, st.names.topics.late]);
      // A clean stop writes the step's final metrics (latency included).
      await st.step!.kill("SIGTERM");
      const metrics = readMetricsFile(session.metricsFileOf(st.index));
      const streamWindows = distinctWindows(collector.tally.windows);
      if (s.outFile && st === last) writeFileSync(s.outFile, streamWindows.map((r) => `${JSON.stringify(r)}\n`).join(""));
      const windowsStored = session.redis.url ? await countStored(session.redis.url, st.feature.name, streamWindows) : null;
      reports.push(
        buildReport({
          feature: { ref: st.index === stages.length - 1 ? s.ref : `${s.ref}${".input".repeat(stages.length - 1 - st.index)}`, name: st.feature.name, version: st.feature.version },
          ticksFile: s.ticksShown,
          batch: st.batch!,
          lateTicks: st.lateTicks,
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
          chaos: { requested: s.chaos, ...chaos[st.index]! },
          topics: { ...st.names.topics, kept: s.keep },
          out: st === last ? s.out : null,
          durationMs: Date.now() - started,
        }),
      );
    }
    tell({ phase: "done" });
    const final = reports.at(-1)!;
    return reports.length > 1 ? { ...final, steps: reports } : final;
  } finally {
    await session.close();
  }
}
