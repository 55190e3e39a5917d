import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import type { Consumer, IHeaders } from "kafkajs";
import { startBroker } from "../broker/index.js";
import { createTopics, deleteGroups, deleteTopics, openProducer, uniqueName } from "../kafka/index.js";
import { kafkaClient } from "../kafka/client.js";
import type { BrokerHandle } from "../broker/types.js";
import { InputError, ServiceError } from "../errors/index.js";
import { loadFeatureRef } from "../feature/ref.js";
import type { WindowRecord } from "../feature/types.js";
import { type RedisHandle, startRedis } from "../redis/provider.js";
import { changelogTopic } from "../stream/changelog.js";
import { EofTracker, headerText, isEof } from "../stream/control.js";
import type { StepMetrics } from "../stream/metrics.js";
import { prng } from "../tick/generate.js";
import { packageRoot } from "../util/paths.js";
import { compareWindows, differencesExplainedByLate } from "./parity.js";
import { parseSpeed, produceFile } from "./produce.js";
import type { ReplayReport } from "./report.js";

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
  /** Give up when nothing progresses for this long (default 90 s). */
  stallMs?: number;
  /** Deterministic chaos (tests). */
  seed?: number;
  onProgress?(p: ReplayProgress): void;
  log?(line: string): void;
}

export interface ReplayProgress {
  phase: "starting" | "batch" | "producing" | "processing" | "comparing" | "done";
  ticks: number;
  produced: number;
  windowsExpected: number;
  windowsReceived: number;
  producedPerSec: number;
  kills: number;
}

/** The child process that runs the step, restartable for chaos. */
class StepProcess {
  child: ChildProcess | undefined;
  stderrTail = "";
  exits: (number | string | null)[] = [];
  private spawnedAt = 0;

  constructor(
    private readonly args: string[],
    private readonly env: NodeJS.ProcessEnv,
    private readonly cwd: string,
    private readonly log?: (s: string) => void,
  ) {}

  start(): void {
    this.spawnedAt = Date.now();
    const child = spawn(process.execPath, this.args, { cwd: this.cwd, env: this.env, stdio: ["ignore", "ignore", "pipe"] });
    child.stderr?.on("data", (d: Buffer) => {
      this.stderrTail = (this.stderrTail + d.toString()).slice(-4000);
    });
    child.on("exit", (code, signal) => this.exits.push(signal ?? code));
    this.child = child;
  }

  get uptimeMs(): number {
    return Date.now() - this.spawnedAt;
  }

  get alive(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    const c = this.child;
    if (!c || !this.alive) return;
    const exited = once(c, "exit");
    c.kill(signal);
    const t = signal === "SIGKILL" ? undefined : setTimeout(() => c.kill("SIGKILL"), 15_000);
    await exited;
    if (t) clearTimeout(t);
    this.log?.(`step: pid ${c.pid} ended (${signal})`);
  }
}

const toNum = (h: IHeaders | undefined, name: string) => {
  const t = headerText(h, name);
  return t === undefined ? undefined : Number(t);
};

/**
 * Replay a ticks file through a real Kafka broker into the feature's streaming step (a child process running
 * `quixlab run`), read the step's output back until every partition's end-of-input marker arrived, and compare it
 * window for window with the feature's batch result on the same file.
 *
 * @example const r = await replay({ ref: "src/features/ohlc.ts#ohlc1m", ticks: "data/coinbase-ticker-2021-04-17.jsonl" }); r.parity.ok
 */
export async function replay(opts: ReplayOptions): Promise<ReplayReport> {
  const started = Date.now();
  const cwd = opts.cwd ?? process.cwd();
  const log = opts.log ?? (() => undefined);
  const partitions = opts.partitions ?? 3;
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > 64) {
    throw new InputError(`bad --partitions '${opts.partitions}'`, { remedy: "give a whole number from 1 to 64", context: { field: "partitions" } });
  }
  const speedText = opts.speed ?? "max";
  let speed: number;
  try {
    speed = parseSpeed(speedText);
  } catch {
    throw new InputError(`bad --speed '${speedText}'`, { remedy: "use max, 1x, or Nx (e.g. 10x, 0.5x)", context: { field: "speed" } });
  }
  const chaos = opts.chaos ?? 0;
  if (!Number.isInteger(chaos) || chaos < 0) throw new InputError(`bad --chaos '${opts.chaos}'`, { remedy: "give a whole number of kills, e.g. --chaos 5" });
  const ticksFile = resolve(cwd, opts.ticks);
  const progress: ReplayProgress = { phase: "starting", ticks: 0, produced: 0, windowsExpected: 0, windowsReceived: 0, producedPerSec: 0, kills: 0 };
  const tell = () => opts.onProgress?.({ ...progress });

  // 1. The batch result: what the stream must reproduce. Also validates the reference and the file (exit 2 early).
  const feature = await loadFeatureRef(opts.ref, cwd);
  progress.phase = "batch";
  tell();
  const lateTicks: { key: string; time: number }[] = [];
  const batch = await feature.batchRecords(ticksFile, {
    read: opts.csvMap ? { csvMap: opts.csvMap } : {},
    onLate: (t, info) => {
      if (lateTicks.length < 100_000) lateTicks.push({ key: info.key, time: feature.time(t) });
    },
  });
  progress.ticks = batch.ticks + batch.rejected;
  progress.windowsExpected = batch.records.length;
  tell();

  // 2. Services.
  let broker: BrokerHandle | undefined;
  let redis: RedisHandle | undefined;
  const brokerFlag = opts.broker ?? "auto";
  const looksLikeAddress = /:\d+/.test(brokerFlag);
  let step: StepProcess | undefined;
  let reader: Consumer | undefined;
  const base = uniqueName(`quixlab-replay-${feature.name}`);
  const topics = { input: `${base}.ticks`, output: `${base}.windows`, dlq: `${base}.ticks.dlq`, late: `${base}.windows.late` };
  const group = `${base}.step`;
  const metricsDir = mkdtempSync(join(tmpdir(), "quixlab-replay-"));
  try {
    broker = await startBroker({ provider: looksLikeAddress ? "external" : brokerFlag, address: looksLikeAddress ? brokerFlag : undefined, cwd, log });
    const redisFlag = opts.redis ?? "auto";
    redis = await startRedis({ provider: redisFlag, cwd, log });
    const brokers = broker.brokers;
    // Ticks and windows carry event time as their Kafka timestamp, for recordings often older than the broker's
    // retention: without this, its next retention check may delete them mid-replay. The topics go afterwards.
    const keep = { "retention.ms": "-1" };
    await createTopics(
      brokers,
      [topics.input, topics.output, topics.dlq, topics.late].map((topic) => ({ topic, partitions, config: keep })),
    );
    log(`replay: topics ${topics.input} → ${topics.output} (${partitions} partitions)`);

    // 3. Read the output (and dead letters, late ticks) from the start, before anything is produced.
    // kafkajs reports transient coordinator errors of a fresh broker as errors; they are retried, so stay quiet.
    const kafka = kafkaClient(brokers, { clientId: `${base}-reader` });
    reader = kafka.consumer({ groupId: `${base}.reader`, maxWaitTimeInMs: 100, sessionTimeout: 10_000 });
    await reader.connect();
    await reader.subscribe({ topics: [topics.output, topics.dlq, topics.late], fromBeginning: true });
    const streamed: WindowRecord[] = [];
    const dlqSeen = new Set<string>();
    const lateSeen = new Set<string>();
    const tracker = new EofTracker(partitions);
    const delivered = new Map<string, number>();
    let lastProgressAt = Date.now();
    let complete: () => void = () => undefined;
    const completed = new Promise<void>((r) => {
      complete = r;
    });
    await reader.run({
      eachBatch: async ({ batch: b }) => {
        for (const m of b.messages) {
          if (b.topic === topics.output) {
            if (tracker.add(b.partition, m.headers)) {
              if (tracker.complete) complete();
              continue;
            }
            if (isEof(m.headers) || !m.value) continue;
            streamed.push(JSON.parse(m.value.toString()) as WindowRecord);
          } else {
            // Redelivered dead letters / late ticks (after a crash) name the same source offset: count it once.
            const id = `${toNum(m.headers, "quixlab-source-partition")}/${headerText(m.headers, "quixlab-source-offset")}`;
            (b.topic === topics.dlq ? dlqSeen : lateSeen).add(id);
          }
        }
        const last = b.messages.at(-1);
        if (last) delivered.set(`${b.topic}/${b.partition}`, Number(last.offset) + 1);
        lastProgressAt = Date.now();
        progress.windowsReceived = streamed.length;
        tell();
      },
    });

    // 4. The step, in a child process exactly as a deployment runs it.
    const bin = join(packageRoot(), "bin", "quixlab.js");
    const metricsFile = join(metricsDir, "metrics.json");
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      input: topics.input,
      output: topics.output,
      dlq: topics.dlq,
      late: topics.late,
      consumer_group: group,
      Quix__Broker__Address: brokers.join(","),
      REDIS_URL: redis.url ?? "none",
      processing: opts.exactlyOnce ? "exactly-once" : "at-least-once",
      QUIXLAB_RUNTIME: "stream",
      QUIXLAB_METRICS_FILE: metricsFile,
      QUIXLAB_SESSION_TIMEOUT_MS: process.env.QUIXLAB_SESSION_TIMEOUT_MS ?? "6000",
      NO_COLOR: "1",
    };
    const refForChild = refRelativeTo(opts.ref, cwd);
    step = new StepProcess([bin, "run", refForChild], env, cwd, log);
    step.start();
    log(`step: started pid ${step.child?.pid} (quixlab run ${refForChild})`);

    // 5. Produce (the step consumes while we produce), then mark the end of input on every partition.
    progress.phase = "producing";
    tell();
    // Idempotent with one request in flight: each partition keeps file order and a retried request (a fresh
    // partition may briefly answer "not the leader") neither duplicates nor drops ticks, which parity relies on.
    const producer = await openProducer(brokers, { clientId: `${base}-producer` });
    const produceStart = Date.now();
    const produced = await produceFile(producer, topics.input, ticksFile, {
      speed,
      read: opts.csvMap ? { csvMap: opts.csvMap } : {},
      onProgress: (p) => {
        progress.produced = p.produced;
        progress.producedPerSec = p.produced / Math.max(0.001, (Date.now() - produceStart) / 1000);
        lastProgressAt = Date.now();
        tell();
      },
    });
    const { produceEof } = await import("../stream/control.js");
    await produceEof(producer, topics.input, partitions);
    const produceMs = Date.now() - produceStart;
    await producer.disconnect();
    progress.phase = "processing";
    tell();

    // 6. Chaos: SIGKILL at random points, restart; then wait for every end-of-input marker.
    const rnd = prng(opts.seed ?? Date.now());
    let kills = 0;
    let restarts = 0;
    const stallMs = opts.stallMs ?? 90_000;
    for (let i = 0; i < chaos; i++) {
      const delay = 300 + rnd() * 2_200;
      const until = Date.now() + delay;
      while (Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      await step.kill("SIGKILL");
      kills++;
      progress.kills = kills;
      tell();
      step.start();
      restarts++;
      log(`chaos: kill ${kills}/${chaos}, restarted as pid ${step.child?.pid}`);
    }
    let timer: NodeJS.Timeout | undefined;
    const watchdog = new Promise<never>((_, reject) => {
      timer = setInterval(() => {
        if (step && !step.alive) {
          const last = step.exits.at(-1);
          reject(new ServiceError(`the streaming step exited (${last}) before the output was complete`, {
            remedy: `see its log:\n${step.stderrTail.trim().split("\n").slice(-8).join("\n")}`,
          }));
        } else if (Date.now() - lastProgressAt > stallMs) {
          reject(new ServiceError(`no progress for ${Math.round(stallMs / 1000)} s: the output never completed`, {
            retriable: true,
            remedy: `check the broker; the step's log ends with:\n${step?.stderrTail.trim().split("\n").slice(-8).join("\n")}`,
          }));
        }
      }, 250);
    });
    try {
      await Promise.race([completed, watchdog]);
    } finally {
      clearInterval(timer);
    }
    const processMs = Date.now() - produceStart;
    progress.phase = "comparing";
    tell();
    // Dead letters and late ticks are written before the end-of-input marker they precede: read them to the end.
    await drain(kafka, [topics.dlq, topics.late], delivered);
    // A clean stop writes the step's final metrics (latency included).
    await step.kill("SIGTERM");
    const metrics = readMetricsFile(metricsFile);

    // 7. Compare.
    const parity = compareWindows(batch.records, streamed);
    const unique = new Map<string, WindowRecord>();
    for (const r of streamed) unique.set(`${r.key}\u0000${r.start}\u0000${r.end}`, r);
    const streamWindows = [...unique.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.start - b.start || a.end - b.end));
    if (opts.out) writeFileSync(resolve(cwd, opts.out), streamWindows.map((r) => `${JSON.stringify(r)}\n`).join(""));
    let windowsStored: number | null = null;
    if (redis.url) windowsStored = await countStored(redis.url, feature.name, streamWindows);
    progress.phase = "done";
    tell();
    return {
      feature: { ref: opts.ref, name: feature.name, version: feature.version },
      ticksFile: relative(cwd, ticksFile).startsWith("..") ? ticksFile : relative(cwd, ticksFile),
      parity,
      rejected: batch.rejected,
      rejectedInStream: dlqSeen.size,
      rejections: batch.rejections.slice(0, 20).map((r) => ({ line: r.line, reason: r.detail ?? r.reason, field: r.field })),
      late: batch.late,
      lateInStream: lateSeen.size,
      explainedByLate: differencesExplainedByLate(parity, lateTicks),
      ticks: produced,
      windows: { batch: batch.records.length, stream: streamWindows.length },
      throughput: {
        producedPerSec: Math.round(produced / Math.max(0.001, produceMs / 1000)),
        processedPerSec: Math.round(produced / Math.max(0.001, processMs / 1000)),
        produceMs,
        processMs,
      },
      latency: { p50Ms: metrics?.latencyMs.p50 ?? null, p99Ms: metrics?.latencyMs.p99 ?? null, samples: metrics?.latencyMs.samples ?? 0 },
      broker: { provider: broker.provider, brokers, startupMs: broker.startupMs },
      redis: { provider: redis.provider, url: redis.url, windowsStored },
      partitions,
      speed: speedText,
      chaos: { requested: chaos, kills, restarts },
      topics: { ...topics, kept: Boolean(opts.keep) },
      out: opts.out ?? null,
      durationMs: Date.now() - started,
    };
  } finally {
    await step?.kill("SIGTERM").catch(() => undefined);
    await reader?.disconnect().catch(() => undefined);
    if (broker && !opts.keep) {
      const all = [...Object.values(topics), changelogTopic(group, feature.name)];
      await deleteTopics(broker.brokers, all).catch((e) => log(`cleanup: ${(e as Error).message}`));
      await deleteReplayGroups(broker.brokers, base).catch((e) => log(`cleanup: ${(e as Error).message}`));
    }
    await redis?.stop().catch(() => undefined);
    await broker?.stop().catch(() => undefined);
    rmSync(metricsDir, { recursive: true, force: true });
  }
}

/** A feature reference that still points at the same file from the child's working directory (the same cwd). */
function refRelativeTo(ref: string, cwd: string): string {
  const hash = ref.lastIndexOf("#");
  const file = hash < 0 ? ref : ref.slice(0, hash);
  const name = hash < 0 ? "" : ref.slice(hash);
  return `${resolve(cwd, file)}${name}`;
}

/** Wait until the reader has delivered `topics` up to the high watermarks they have now. */
async function drain(kafka: ReturnType<typeof kafkaClient>, topics: string[], delivered: Map<string, number>): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const want: [string, number][] = [];
    for (const topic of topics) {
      for (const p of await admin.fetchTopicOffsets(topic)) {
        if (Number(p.high) > 0) want.push([`${topic}/${p.partition}`, Number(p.high)]);
      }
    }
    const deadline = Date.now() + 30_000;
    while (want.some(([k, high]) => (delivered.get(k) ?? 0) < high)) {
      if (Date.now() > deadline) throw new ServiceError("timed out reading the dead-letter and late topics", { retriable: true });
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await admin.disconnect();
  }
}

function readMetricsFile(file: string): StepMetrics | undefined {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as StepMetrics;
  } catch {
    return undefined;
  }
}

async function countStored(url: string, featureName: string, windows: WindowRecord[]): Promise<number | null> {
  try {
    const { getRange } = await import("../store/online.js");
    const { Redis } = await import("ioredis");
    const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await r.connect();
    try {
      const keys = [...new Set(windows.map((w) => w.key))];
      let n = 0;
      for (const k of keys) n += (await getRange(r, featureName, k)).length;
      return n;
    } finally {
      r.disconnect();
    }
  } catch {
    return null;
  }
}

async function deleteReplayGroups(brokers: string[], base: string): Promise<void> {
  const admin = kafkaClient(brokers, { clientId: "quixlab-replay-cleanup" }).admin();
  await admin.connect();
  try {
    const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(base));
    if (groups.length) await deleteGroups(brokers, groups);
  } finally {
    await admin.disconnect();
  }
}
