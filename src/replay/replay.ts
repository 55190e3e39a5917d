import { writeFileSync } from "node:fs";
import { InputError } from "../errors/index.js";
import { loadFeatureRef, resolveFeatureRef } from "../feature/ref.js";
import { openProducer } from "../kafka/index.js";
import { storedWatermark } from "../serving/online.js";
import { onlineRedis } from "../store/online.js";
import { produceEof } from "../stream/control.js";
import { checkTicksFile } from "../tick/read.js";
import type { WindowRecord } from "../window/types.js";
import { batchInWorker } from "./batch-worker.js";
import { chainOf, type Stage } from "./chain.js";
import { killSchedule, runChaos } from "./chaos.js";
import { readMetricsFile, StepProcess, stepWatchdog } from "./child.js";
import { startCollector } from "./collector.js";
import { LiveParity } from "./live-parity.js";
import { checkModelSpeed, featureModuleOf, loadModelRef, startModelRun } from "./model.js";
import { distinctWindows } from "./parity.js";
import { replaySettings, stepEnvironment } from "./plan.js";
import { produceFile } from "./produce.js";
import { buildReport, type ReplayReport } from "./report.js";
import { countStored, openSession } from "./session.js";
import type { ReplayOptions, ReplayProgress } from "./types.js";
import { startSampler, vectorStages } from "./vectors.js";

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
  // --model: its vector's features run as --vectors would run them, and the model step beside them.
  const model = s.model ? await loadModelRef(s.model, s.cwd) : undefined;
  const vectorSpec = model?.specText ?? s.vectors;
  const vectors = vectorSpec ? await vectorStages(vectorSpec, model ? await featureModuleOf(model, s.model!, s.cwd) : s.ref, s.cwd) : undefined;
  const stages = vectors?.stages ?? chainOf(await loadFeatureRef(s.ref, s.cwd), s.refForChild);
  tell({ phase: "batch" });
  const batchDone = () => tell({ ticks: stages[0]!.batch!.ticks + stages[0]!.batch!.rejected, windowsExpected: stages.at(-1)!.batch!.records.length });
  // A model or vector replay needs the batch result before its steps start (the speed check, the keys, the
  // sampling times). A plain one windows the file in worker threads while it produces it and the steps run.
  const overlap = !model && !vectors && process.env.QUIXLAB_REPLAY_OVERLAP !== "0";
  let batched: Promise<void> = Promise.resolve();
  const batchStop = new AbortController();
  const batchFailed = new AbortController();
  if (overlap) {
    // What the batch pass would have found first, found before any service starts (exit 2, nothing started).
    await checkTicksFile(s.ticksFile);
    batched = Promise.all(
      stages.map(async (st) => {
        const r = await batchInWorker(st.feature, { ref: st.ref, cwd: s.cwd, ticksFile: s.ticksFile, partitions: s.partitions, ...(s.read ? { read: s.read } : {}) }, batchStop.signal);
        st.batch = r.batch;
        for (const t of r.lateTicks) st.lateTicks.push(t);
      }),
    ).then(batchDone);
    // A failed batch pass stops the producing at once (the replay then reports that failure, not a stall).
    batched.catch(() => batchFailed.abort());
  } else {
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
    if (model) checkModelSpeed(model, stages, s.speed);
    batchDone();
  }
  const last = stages.at(-1)!;

  const session = await openSession(s, stages[0]!.names, log, stages.slice(1).map((st) => st.names)).catch((e: unknown) => {
    batchStop.abort();
    throw e;
  });
  try {
    const { brokers } = session;
    const live = new LiveParity();
    const liveTell = (windows: readonly WindowRecord[]) => {
      if (live.check(windows)) tell({ windowsReceived: windows.length, windowsMatched: live.matched, windowsDiffering: live.differing });
      else tell({ windowsReceived: windows.length });
    };
    // The last stage's windows are checked against batch as they arrive, once the batch pass is done.
    batched.then(
      () => {
        live.expect(last.batch!.records);
        if (last.collector) liveTell(last.collector.tally.windows);
      },
      () => undefined,
    );
    const keys = vectors ? [...new Set(stages[0]!.batch!.records.map((r) => r.key))].sort() : [];
    if (vectors) await checkCleanStore(session.redis.url, stages, keys);
    // Read from the start before anything is produced.
    let lastProgressAt = Date.now();
    for (const st of stages) {
      const collector = await startCollector(brokers, st.names, s.partitions, {
        client: session.client(`reader-${st.index}`),
        onRead: (t) => st === last && liveTell(t.windows),
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
    // --vectors: the model's reads while the ticks go in, and the steps killed meanwhile (not after).
    // With chaos the model step runs as its own process (`quixlab run <model>`), killed on a schedule of its own.
    const child = s.chaos > 0 && s.model ? { ref: resolveFeatureRef(s.model, s.cwd), cwd: s.cwd } : undefined;
    const modelRun = model ? await startModelRun({ session, model, stages, ticksFile: s.ticksFile, partitions: s.partitions, log, child }) : undefined;
    const sampler = s.vectors && vectors && session.redis.url
      ? startSampler({ url: session.redis.url, spec: vectors.spec, specText: s.vectors!, features: Object.fromEntries(stages.map((st) => [st.feature.name, st.feature])), keys, perKey: s.vectorSamples, overMs: playMs(stages, s.speed), seed: s.seed })
      : undefined;
    let kills = 0;
    const killed = [...stages.map((st) => ({ step: st.step!, seed: s.seed + st.index })), ...(modelRun?.process ? [{ step: modelRun.process, seed: s.seed + stages.length }] : [])];
    const runKills = () => Promise.all(killed.map((k) => runChaos(k.step, killSchedule(s.chaos, k.seed), { onKill: () => tell({ kills: ++kills }), log })));
    const early = sampler ? runKills() : undefined;
    const input = stages[0]!.names.topics.input;
    let produced: number;
    try {
      produced = await produceFile(producer, input, s.ticksFile, {
        signal: batchFailed.signal,
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
    const chaos = await (early ?? runKills());
    const read = () => Math.max(lastProgressAt, ...stages.map((st) => st.collector!.lastReadAt));
    const watchdogs = stages.map((st) => stepWatchdog(st.step!, read, s.stallMs));
    try {
      // A batch pass that failed ends the wait: its error is the replay's (below), not a stall.
      await Promise.race([Promise.all(stages.map((st) => st.collector!.completed)), ...watchdogs.map((w) => w.failed), batched.then(() => new Promise<never>(() => undefined))]);
    } finally {
      for (const w of watchdogs) w.stop();
    }
    // The batch pass ran beside (overlap); its result is needed from here on.
    await batched;
    const modelChecked = await modelRun?.finish(s.stallMs);
    const modelCheck = modelChecked && modelRun?.process ? { ...modelChecked, chaos: chaos[stages.length]! } : modelChecked;
    const processMs = Date.now() - produceStart;
    tell({ phase: "comparing" });
    const vectorCheck = sampler ? await sampler.finish(Object.fromEntries(stages.map((st) => [st.feature.name, st.batch!.records]))) : undefined;
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
    return reports.length > 1 || vectorCheck || modelCheck ? { ...final, steps: reports, ...(vectorCheck ? { vectors: vectorCheck } : {}), ...(modelCheck ? { model: modelCheck } : {}) } : final;
  } finally {
    batchStop.abort();
    await session.close();
  }
}

/**
 * How long the ticks take to go in at `speed`: their event-time span (the window starts of the feature with the
 * most windows, which follows the ticks closest) / speed; a few seconds at max.
 */
function playMs(stages: readonly Stage[], speed: number): number {
  const records = stages.map((st) => st.batch!.records).reduce((a, b) => (b.length > a.length ? b : a));
  if (!Number.isFinite(speed) || records.length === 0) return 5_000;
  let lo = Infinity;
  let hi = -Infinity;
  for (const r of records) {
    if (r.start < lo) lo = r.start;
    if (r.start > hi) hi = r.start;
  }
  return Math.max(1_000, (hi - lo) / speed);
}

/** --vectors compares what the store serves with batch: refuse a store that already holds data of these features. */
async function checkCleanStore(url: string | null, stages: readonly Stage[], keys: readonly string[]): Promise<void> {
  if (!url) {
    throw new InputError("--vectors reads the online store, and this replay has none", { remedy: "give --redis local (a fresh one) or --redis redis://HOST:PORT", context: { field: "vectors", option: "vectors" } });
  }
  const redis = onlineRedis(url, { lazyConnect: true });
  try {
    await redis.connect();
    for (const st of stages) {
      for (const key of keys) {
        if ((await storedWatermark(redis, st.feature.name, key)) !== undefined) {
          throw new InputError(`--vectors: the online store at ${url} already holds '${st.feature.name}' for ${key} (an earlier run), so its vectors would mix two runs`, {
            remedy: `replay into a fresh store (--redis local), or delete the keys quixlab:${st.feature.name}:* first`,
            context: { field: "vectors", option: "vectors" },
          });
        }
      }
    }
  } finally {
    redis.disconnect();
  }
}
