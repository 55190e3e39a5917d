/**
 * The streaming step on a real broker and Redis, both started by this suite:
 *  - throughput: QUIXLAB_BENCH_TICKS generated ticks (default 1,000,000; 3 products; 4 partitions), produced before
 *    timing. Baseline: a raw kafkajs consumer (eachBatch, touching every value) over the same topic, timed from its
 *    group join to its last batch. Ours: runStep with ohlc1m, timed from `ready` (joined and restored) until Kafka
 *    has acknowledged the outputs of every tick (the output is then checked complete, untimed): at-least-once with
 *    Redis, exactly-once with Redis and at-least-once without Redis, in a worker thread as `quixlab run` runs
 *    them, and at-least-once with Redis in the step's own thread. Best of QUIXLAB_BENCH_REPEAT rounds (default
 *    3), interleaved.
 *    Peer: ohlc1m as a Quix Streams 3.28.1 app (quixstreams.ts) over the same topic, once a round, from its first
 *    message to its last tick; its windows are checked against ours (less the last one of each product, which no
 *    later tick closes). Skipped, and said so, when pip cannot install it.
 *  - latency: ticks at fixed rates (2k, 10k, 50k ticks/s) with event time = wall time into a 1 s tumbling feature;
 *    the step's own p50/p99 (Kafka timestamp → window acknowledged) against a raw consumer's (Kafka timestamp →
 *    delivered), and the p99 against #18's budget (50 ms at 10k, 100 ms at 50k).
 */
import { fileURLToPath } from "node:url";
import type { Worker } from "node:worker_threads";
import { type Consumer, type Kafka, Partitioners } from "kafkajs";
import { startBroker } from "../src/broker/index.js";
import type { BrokerHandle } from "../src/broker/types.js";
import { ohlc1m } from "../src/feature/shipped/ohlc.js";
import type { Feature } from "../src/feature/types.js";
import { kafkaClient } from "../src/kafka/client.js";
import { createTopics, uniqueName } from "../src/kafka/index.js";
import { type RedisHandle, startRedis } from "../src/redis/provider.js";
import { EofTracker, eofHeaders, isEof } from "../src/stream/control.js";
import { type Processing, runStep, type StepHandle } from "../src/stream/step.js";
import type { StepMetrics } from "../src/stream/metrics.js";
import { generateTickLines } from "../src/tick/generate.js";
import { waitFor } from "../src/util/net.js";
import { benchBrokerDir, type BrokerDir, brokerLogOn, diskBrokerDir } from "./broker-dir.js";
import { benchLatency1s } from "./latency-feature.js";
import { loadThread, nextMessage } from "./latency-load.js";
import { skippedRow, type Venv } from "./peers.js";
import { QUIXSTREAMS_VERSION, type QuixStreamsRun, quixStreamsPython, quixStreamsRun } from "./quixstreams.js";
import type { Row } from "./types.js";

export const name = "stream";

const PARTITIONS = 4;
const say = (line: string) => process.stderr.write(`bench ${name}: ${line}\n`);

export interface Services {
  brokers: string[];
  broker: BrokerHandle;
  redis: RedisHandle;
  /** What the broker's log is on ("tmpfs", "ext4", …; broker-dir.ts), for the notes. */
  brokerFs: string;
}

/** Start a broker and a Redis of our own (never ones left running by `quixlab services up`), run `fn`, stop both. */
export async function withServices<T>(suite: string, fn: (s: Services) => Promise<T>, dir: BrokerDir = benchBrokerDir()): Promise<T> {
  const log = (line: string) => process.stderr.write(`bench ${suite}: ${line}\n`);
  let broker: BrokerHandle | undefined;
  let redis: RedisHandle | undefined;
  try {
    broker = await startBroker({ provider: "auto", log, parentDir: dir.parentDir });
    redis = await startRedis({ provider: "auto", log });
    return await fn({ brokers: broker.brokers, broker, redis, brokerFs: brokerLogOn(dir, broker.provider) });
  } finally {
    await redis?.stop().catch((e) => log(`stopping redis: ${(e as Error).message}`));
    await broker?.stop().catch((e) => log(`stopping kafka: ${(e as Error).message}`));
  }
}

/** Reject after `ms` with a message naming what was awaited; the timer never outlives the promise. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`bench ${name}: ${what} took over ${ms / 1000} s`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

function productOf(line: string): string {
  return (JSON.parse(line) as { product_id: string }).product_id;
}

/** Produce `n` generated ticks keyed by product, then one eof marker per partition; returns the topic's end offsets. */
export async function produceTicks(kafka: Kafka, topic: string, n: number): Promise<Map<number, number>> {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    let batch: { key: string; value: string }[] = [];
    // Disorder within the grace: every tick is on time, so the step does the full work for each.
    for (const line of generateTickLines({ n, products: 3, seed: 7, outOfOrderMs: 500 })) {
      batch.push({ key: productOf(line), value: line });
      // ~350 B a tick: 2,000 stay well under the broker's 1 MiB record batch limit per partition.
      if (batch.length === 2_000) {
        await producer.send({ topic, acks: -1, messages: batch });
        batch = [];
      }
    }
    if (batch.length) await producer.send({ topic, acks: -1, messages: batch });
    // The end-of-input contract (src/stream/README.md), sent with this raw kafkajs producer behind its ticks.
    await producer.send({ topic, acks: -1, messages: Array.from({ length: PARTITIONS }, (_, partition) => ({ partition, key: null, value: null, headers: eofHeaders() })) });
  } finally {
    await producer.disconnect();
  }
  const admin = kafka.admin();
  await admin.connect();
  try {
    return new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, Number(o.high)]));
  } finally {
    await admin.disconnect();
  }
}

/**
 * A raw kafkajs consumer reading `topic` to `ends` in a group of its own, with the step's fetch settings: messages
 * per second from the moment it joined its group (run() resolved: as the step's clock starts at `ready`) until its
 * last batch. `parse` also JSON.parses each value: the least any consumer of ticks must do.
 */
export async function rawConsume(kafka: Kafka, topic: string, ends: Map<number, number>, parse = false): Promise<{ rate: number; messages: number }> {
  const consumer = kafka.consumer({ groupId: uniqueName("bench-raw"), maxWaitTimeInMs: 500, maxBytesPerPartition: 8 << 20 });
  const reached = new Map<number, number>();
  let messages = 0;
  let bytes = 0;
  let first = 0;
  let last = 0;
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      partitionsConsumedConcurrently: PARTITIONS,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          messages++;
          bytes += m.value?.length ?? 0;
          if (parse && m.value && !isEof(m.headers)) JSON.parse(m.value.toString());
        }
        reached.set(batch.partition, Number(batch.lastOffset()) + 1);
        if ([...ends].every(([p, end]) => (reached.get(p) ?? 0) >= end)) {
          last ||= performance.now();
          finish();
        }
      },
    });
    // The first fetch is only sent after run() resolved, so no batch can have been processed before this.
    first = performance.now();
    await within(done, 300_000, "the raw consumer");
  } finally {
    await consumer.disconnect();
  }
  if (bytes === 0) throw new Error(`bench ${name}: the raw consumer read no bytes`);
  return { rate: messages / ((last - first) / 1000), messages };
}

/** Read an output topic from the start; `complete` resolves once every eof marker arrived (EofTracker). */
async function outputReader(kafka: Kafka, topic: string): Promise<{ consumer: Consumer; complete: Promise<void>; windows: Set<string> }> {
  const consumer = kafka.consumer({ groupId: uniqueName("bench-reader"), maxWaitTimeInMs: 50 });
  const tracker = new EofTracker(PARTITIONS);
  const windows = new Set<string>();
  let finish!: () => void;
  const complete = new Promise<void>((r) => (finish = r));
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  // run() resolves once the group is joined, so the reader's own join is never part of a timing.
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) {
        if (tracker.add(batch.partition, m.headers)) {
          if (tracker.complete) finish();
        } else if (!isEof(m.headers) && m.value) {
          const r = JSON.parse(m.value.toString()) as { key: string; start: number };
          windows.add(`${r.key}/${r.start}`);
        }
      }
    },
  });
  return { consumer, complete, windows };
}

interface StepRun {
  /** Ticks per second from runStep() until the step had every tick's outputs acknowledged by Kafka. */
  inclusive: number;
  /** ... from the moment it had joined and restored its partitions (`ready`). */
  processing: number;
  startupS: number;
}

/** runStep over the whole input topic until its output is complete; checks it produced the batch's windows. */
/** ohlc1m's reference, for the step's worker thread (as `quixlab run src/feature/shipped/ohlc.ts#ohlc1m` passes it). */
const OHLC1M_REF = `${fileURLToPath(new URL("../src/feature/shipped/ohlc.ts", import.meta.url))}#ohlc1m`;

export async function stepRun(kafka: Kafka, s: Services, input: string, ticks: number, expected: number, processing: Processing, redis: boolean, worker = true): Promise<StepRun> {
  const output = uniqueName(`bench-out-${processing}`);
  await createTopics(s.brokers, [{ topic: output, partitions: PARTITIONS }]);
  const reader = await outputReader(kafka, output);
  const tail: string[] = [];
  let step: StepHandle | undefined;
  try {
    const t0 = performance.now();
    step = await runStep(ohlc1m, {
      brokers: s.brokers,
      inputTopic: input,
      outputTopic: output,
      consumerGroup: uniqueName(`bench-step-${processing}`),
      dlqTopic: `${output}.dlq`,
      redis: redis ? s.redis.url : null,
      processing,
      ...(worker ? { featureRef: OHLC1M_REF, worker } : {}),
      log: (line) => {
        if (tail.push(line) > 20) tail.shift();
      },
    });
    await within(step.ready, 60_000, "the step's join and restore");
    const tReady = performance.now();
    // The step counts ticks when Kafka has acknowledged the outputs of their checkpoint (exactly-once: committed the
    // transaction): the end of its work, as the raw consumer's last batch is the end of its.
    const h = step;
    const stopped = step.done.then(() => Promise.reject(new Error("the step stopped early")));
    await within(Promise.race([waitFor(async () => h.metrics().consumed >= ticks, { timeoutMs: 600_000, intervalMs: 2, what: "the step's count" }), stopped]), 600_000, `the step (${processing})`);
    const tEnd = performance.now();
    // Not timed: a reader of the output then sees it complete, with the batch's windows.
    await within(Promise.race([reader.complete, stopped]), 60_000, `the output of the step (${processing})`);
    const consumed = step.metrics().consumed;
    if (consumed < ticks || reader.windows.size !== expected) {
      throw new Error(`bench ${name}: the step consumed ${consumed} of ${ticks} ticks and wrote ${reader.windows.size} of ${expected} windows`);
    }
    return { inclusive: ticks / ((tEnd - t0) / 1000), processing: ticks / ((tEnd - tReady) / 1000), startupS: (tReady - t0) / 1000 };
  } catch (e) {
    say(`step log tail:\n  ${tail.join("\n  ")}`);
    throw e;
  } finally {
    await step?.stop().catch(() => undefined);
    await reader.consumer.disconnect().catch(() => undefined);
  }
}

async function throughputRows(kafka: Kafka, s: Services): Promise<Row[]> {
  const n = Number(process.env.QUIXLAB_BENCH_TICKS ?? 1_000_000);
  const repeat = Number(process.env.QUIXLAB_BENCH_REPEAT ?? 3);
  const input = uniqueName("bench-ticks");
  await createTopics(s.brokers, [{ topic: input, partitions: PARTITIONS }]);
  say(`producing ${n.toLocaleString("en-US")} ticks to ${PARTITIONS} partitions…`);
  const ends = await produceTicks(kafka, input, n);
  const expected = (await ohlc1m.batchRecords(generateTickLines({ n, products: 3, seed: 7, outOfOrderMs: 500 }))).records.length;
  const used = [...ends.values()].filter((e) => e > 1).length;

  const configs = [
    { key: "alo", processing: "at-least-once", redis: true },
    { key: "eos", processing: "exactly-once", redis: true },
    { key: "alo-noredis", processing: "at-least-once", redis: false },
    { key: "alo-thread", processing: "at-least-once", redis: true, worker: false },
  ] as const;
  let raw = 0;
  let rawParse = 0;
  const best = new Map<string, StepRun>();
  // Made (or found) before the rounds: a first-use pip install is never inside a round.
  const qsPython = await quixStreamsPython(say);
  let qs: QuixStreamsRun | undefined;
  const qsRates: number[] = [];
  // Interleaved rounds spread the noise of a shared machine over every configuration alike.
  for (let round = 1; round <= repeat; round++) {
    say(`round ${round}/${repeat}: raw kafkajs consumer…`);
    const r = await rawConsume(kafka, input, ends);
    if (r.messages < n) throw new Error(`bench ${name}: the raw consumer read ${r.messages} of ${n} messages`);
    raw = Math.max(raw, r.rate);
    const rp = await rawConsume(kafka, input, ends, true);
    rawParse = Math.max(rawParse, rp.rate);
    say(`  ${Math.round(r.rate)} ticks/s; with JSON.parse ${Math.round(rp.rate)} ticks/s`);
    for (const c of configs) {
      say(`round ${round}/${repeat}: runStep ${c.processing}${c.redis ? " + redis" : ", no redis"}${"worker" in c ? ", in its own thread" : ""}…`);
      const run = await stepRun(kafka, s, input, n, expected, c.processing, c.redis, !("worker" in c));
      say(`  ${Math.round(run.processing)} ticks/s after ${run.startupS.toFixed(2)} s of join + restore (${Math.round(run.inclusive)} ticks/s inclusive)`);
      const prev = best.get(c.key);
      if (!prev || run.processing > prev.processing) best.set(c.key, run);
    }
    if ("python" in qsPython) {
      say(`round ${round}/${repeat}: Quix Streams ${QUIXSTREAMS_VERSION}…`);
      const q = await quixStreamsRun(qsPython.python, s.brokers, input, n, PARTITIONS, ohlc1m.window.grace);
      // The step closes each product's last window at the eof marker; Quix Streams' .final() never does.
      if (q.reduced !== n || q.windows > expected || q.windows < expected - 3 || q.written !== q.windows) {
        throw new Error(`bench ${name}: Quix Streams windowed ${q.reduced} of ${n} ticks into ${q.windows} windows (${q.written} written), against our ${expected}`);
      }
      say(`  ${Math.round(q.rate)} ticks/s, ${q.windows} windows (${Math.round(q.inclusive)} ticks/s inclusive)`);
      qsRates.push(q.rate);
      if (!qs || q.rate > qs.rate) qs = q;
    }
  }
  const alo = best.get("alo")!;
  const eos = best.get("eos")!;
  const noRedis = best.get("alo-noredis")!;
  const thread = best.get("alo-thread")!;
  const rawBase = { name: "raw kafkajs consumer", value: raw };
  const data = `${(n / 1000).toFixed(0)}k ticks, ${PARTITIONS} partitions (3 products fill ${used})`;
  const rate = (nameOf: string, value: number, baseline: { name: string; value: number }, note: string, target?: number): Row => ({
    suite: name,
    name: nameOf,
    value,
    unit: "ticks/s",
    baseline,
    ratio: value / baseline.value,
    ...(target === undefined ? {} : { target, ok: value / baseline.value >= target }),
    note,
  });
  return [
    { suite: name, name: "raw kafkajs consumer, eachBatch", value: raw, unit: "ticks/s", note: `${data}; the step's fetch settings (8 MiB/partition, 500 ms max wait, 4 partitions at once); from joined to last batch, best of ${repeat}` },
    rate(
      "runStep ohlc1m, at-least-once + redis",
      alo.processing,
      rawBase,
      `${data}; in a worker thread as quixlab run runs it; from joined+restored until Kafka acknowledged the outputs of every tick (excludes ${alo.startupS.toFixed(2)} s of join, worker start and changelog restore), best of ${repeat}`,
      0.8,
    ),
    rate(
      "runStep ohlc1m, at-least-once + redis, in its own thread",
      thread.processing,
      rawBase,
      "no worker thread (runStep without featureRef, or QUIXLAB_WORKER=0); on this 2-core host the broker competes with the step's threads",
    ),
    rate("runStep ohlc1m, at-least-once + redis, incl. join", alo.inclusive, rawBase, "from the runStep() call until every tick's outputs were acknowledged"),
    rate("runStep ohlc1m, at-least-once + redis, vs parse", alo.processing, { name: "raw consumer + JSON.parse", value: rawParse }, "context: a consumer that only parses each tick's JSON"),
    ...quixStreamsRows(qs, qsPython, alo, expected, data, qsRates),
    rate("runStep ohlc1m, exactly-once + redis", eos.processing, { name: "at-least-once", value: alo.processing }, `cost of transactions; excludes ${eos.startupS.toFixed(2)} s of join + restore`),
    rate("runStep ohlc1m, at-least-once, no redis", noRedis.processing, { name: "with redis", value: alo.processing }, `ratio - 1 is what the Redis writes cost (near 1: lost in run-to-run noise); excludes ${noRedis.startupS.toFixed(2)} s of join + restore`),
  ];
}

/** The peer's row and ours against it (#18: at least 10x), or one row saying why it was skipped. */
function quixStreamsRows(qs: QuixStreamsRun | undefined, py: Venv, alo: StepRun, expected: number, data: string, rounds: number[]): Row[] {
  const peer = `quixstreams ${QUIXSTREAMS_VERSION} tumbling_window(1m).reduce().final()`;
  if (!qs) return [skippedRow(name, peer, "ticks/s", "skipped" in py ? py.skipped : "not run")];
  const ratio = alo.processing / qs.rate;
  const windows = `${qs.windows} windows against our ${expected} (each product's last window stays open without a later tick)`;
  return [
    {
      suite: name,
      name: peer,
      value: qs.rate,
      unit: "ticks/s",
      note: `${data}; the same input topic and broker; event time from \`time\`, grace ${ohlc1m.window.grace} ms, OHLCV + count reducer, at-least-once, its defaults otherwise; from its first message to its last tick, best of ${rounds.length} (rounds: ${rounds.map((r) => Math.round(r)).join(", ")}; ${Math.round(qs.inclusive)} ticks/s from process start); ${windows}`,
    },
    { suite: name, name: "runStep ohlc1m, at-least-once + redis, vs quixstreams", value: alo.processing, unit: "ticks/s", baseline: { name: `quixstreams ${QUIXSTREAMS_VERSION}`, value: qs.rate }, ratio, target: 10, ok: ratio >= 10, note: "the step row above against the Quix Streams row above (best of the rounds each), on the same ticks in the same run" },
  ];
}

const LATENCY_REF = `${fileURLToPath(new URL("./latency-feature.ts", import.meta.url))}#benchLatency1s`;

/** The latency rates (ticks/s) and the p99 each must stay under (#18), unless QUIXLAB_BENCH_RATES names others. */
const LATENCY_BUDGET_MS: Record<number, number> = { 10000: 50, 50000: 100 };

/**
 * The step's tick→window latency at each rate of QUIXLAB_BENCH_RATES (default 2,000, 10,000 and 50,000 ticks/s),
 * each beside a raw consumer's over the same ticks, and a budget row where #18 sets one.
 */
export async function latencyRows(s: Services): Promise<Row[]> {
  const rows: Row[] = [];
  for (const rate of latencyRates()) rows.push(...(await latencyAt(s, rate)));
  return rows;
}

/** QUIXLAB_BENCH_RATES (ticks/s), default 2,000, 10,000 and 50,000. */
function latencyRates(): number[] {
  return (process.env.QUIXLAB_BENCH_RATES ?? process.env.QUIXLAB_BENCH_RATE ?? "2000,10000,50000").split(",").map(Number);
}

/** The rate measured again with the broker's log on disk. */
const DISK_RATE = 10_000;

/**
 * 10k ticks/s once more on a broker whose log is on disk (the OS temp dir), for comparison with the tmpfs rows
 * (bench/README.md): no budget row. Run after the suite's own services have stopped, so no idle broker shares the
 * cores; only when those were on tmpfs, 10k was among the rates, and QUIXLAB_BENCH_LATENCY_DISK is not 0.
 */
export async function diskLatencyRows(mainFs: string): Promise<Row[]> {
  const disk = diskBrokerDir();
  if (!latencyRates().includes(DISK_RATE) || mainFs !== "tmpfs" || disk.fs === "tmpfs" || process.env.QUIXLAB_BENCH_LATENCY_DISK === "0") return [];
  return withServices(`${name} (broker log on ${disk.fs})`, (d) => latencyAt(d, DISK_RATE, { label: `broker log on ${d.brokerFs}` }), disk);
}

/** One rate's rows; with `label` (a variant of the setup, named in the rows), no budget row. */
async function latencyAt(s: Services, rate: number, o: { label?: string } = {}): Promise<Row[]> {
  const seconds = Number(process.env.QUIXLAB_BENCH_LATENCY_S ?? 30);
  // The rate is produced this long before the measured seconds: a fresh step's first windows (cold JIT, first
  // fetch and sends) are reported apart, not in the steady state's percentiles.
  const warmup = Number(process.env.QUIXLAB_BENCH_LATENCY_WARMUP_S ?? 5);
  const products = 8;
  const feature: Feature = benchLatency1s;
  // In a worker thread as `quixlab run` runs it (QUIXLAB_BENCH_LATENCY_WORKER=0: in the step's own thread).
  const worker = process.env.QUIXLAB_BENCH_LATENCY_WORKER !== "0";
  const input = uniqueName("bench-latency-ticks");
  const output = uniqueName("bench-latency-out");
  await createTopics(s.brokers, [
    { topic: input, partitions: PARTITIONS },
    { topic: output, partitions: PARTITIONS },
  ]);
  // The baseline: how long Kafka alone takes from a message's timestamp to delivery, measured alongside the step.
  // It and the producer run in threads of their own, so neither shares an event loop with the step's consumer.
  const raw = loadThread({ role: "consume", brokers: s.brokers, topic: input, groupId: uniqueName("bench-raw-latency"), partitions: PARTITIONS, rate, seconds: warmup + seconds });
  let delivered = 0;
  raw.on("message", (m: { delivered?: number }) => {
    if (m.delivered !== undefined) delivered = m.delivered;
  });
  let producers: Worker[] = [];
  let step: StepHandle | undefined;
  try {
    await within(nextMessage(raw, "joined"), 60_000, "the raw consumer's join");
    step = await runStep(feature, {
      brokers: s.brokers,
      inputTopic: input,
      outputTopic: output,
      consumerGroup: uniqueName("bench-step-latency"),
      redis: s.redis.url,
      ...(worker ? { featureRef: LATENCY_REF, worker } : {}),
    });
    await within(step.ready, 60_000, "the step's join and restore");
    say(`latency: ${rate} ticks/s for ${seconds} s over ${products} products…`);
    const of = Math.min(products, Math.ceil(rate / 200_000));
    producers = Array.from({ length: of }, (_, index) => loadThread({ role: "produce", brokers: s.brokers, topic: input, rate: rate / of, seconds: warmup + seconds, products, share: { of, index } }));
    let measureFrom = Number.POSITIVE_INFINITY;
    let cold: StepMetrics["latencyMs"] | undefined;
    const mark = setTimeout(() => {
      cold = step!.metrics().latencyMs;
      measureFrom = Date.now();
      raw.postMessage("measure");
    }, warmup * 1000);
    const counts = await within(Promise.all(producers.map((w) => nextMessage<{ sent: number }>(w, "sent"))), (warmup + seconds + 60) * 1000, "the paced producers").finally(() => clearTimeout(mark));
    const sent = counts.reduce((n, c) => n + c.sent, 0);
    const offered = sent / (warmup + seconds);
    const h = step;
    await waitFor(async () => delivered >= sent && h.metrics().consumed >= sent, { timeoutMs: 60_000, intervalMs: 25, what: "the step and the raw consumer to catch up" });
    const transport = nextMessage<{ p50: number; p99: number }>(raw, "p99");
    raw.postMessage("stop");
    const base = await within(transport, 30_000, "the raw consumer's percentiles");
    const { latencyMs } = step.metrics({ latencySince: measureFrom });
    if (latencyMs.p50 === null || latencyMs.p99 === null || latencyMs.samples < seconds) {
      throw new Error(`bench ${name}: the step reported ${latencyMs.samples} latency samples for ${seconds} s of 1 s windows`);
    }
    const at = `@ ${rate.toLocaleString("en-US")} ticks/s${o.label ? `, ${o.label}` : ""}`;
    const coldNote = cold?.p99 == null ? "" : `, after ${warmup} s of warm-up (its ${cold.samples} windows: p99 ${cold.p99} ms, not counted)`;
    const note = `${seconds} s${coldNote} (${Math.round(offered).toLocaleString("en-US")} ticks/s produced), ${products} products, 1 s tumbling, 100 ms grace; ${latencyMs.samples} windows; Kafka timestamp → window acknowledged (at-least-once + redis${worker ? ", worker thread" : ", in the step's thread"}); broker log on ${s.brokerFs}; ratio = step / raw consumer (lower is better)`;
    const row = (q: "p50" | "p99", value: number, base: number): Row => ({
      suite: name,
      name: `latency ${q} tick→window ${at}`,
      value,
      unit: "ms",
      baseline: { name: `raw consumer ${q}`, value: base },
      ...(base > 0 ? { ratio: value / base } : {}),
      note,
    });
    const rawP99 = base.p99;
    const rows = [row("p50", latencyMs.p50, base.p50), row("p99", latencyMs.p99, rawP99)];
    const budget = o.label ? undefined : LATENCY_BUDGET_MS[rate];
    if (budget !== undefined) {
      // The budget is absolute; as a ratio (budget / p99, higher is better) it takes the runner's `target`.
      const ratio = budget / latencyMs.p99;
      rows.push({
        suite: name,
        name: `latency p99 tick→window ${at}, within ${budget} ms`,
        value: latencyMs.p99,
        unit: "ms",
        baseline: { name: "budget", value: budget },
        ratio,
        target: 1,
        ok: ratio >= 1,
        note: `#18: p99 under ${budget} ms at ${rate.toLocaleString("en-US")} ticks/s; ratio = budget / p99 (>= 1 meets it); the raw consumer's p99 in the same run: ${rawP99} ms; broker log on ${s.brokerFs} (bench/broker-dir.ts)`,
      });
    }
    return rows;
  } finally {
    await Promise.all(producers.map((w) => w.terminate()));
    await step?.stop().catch(() => undefined);
    await raw.terminate();
  }
}

/** Start the services, run the throughput and latency benches, stop the services; then the latency on disk. */
export async function run(): Promise<Row[]> {
  let fs = "";
  const rows = await withServices(name, async (s) => {
    fs = s.brokerFs;
    const kafka = kafkaClient(s.brokers, { clientId: "quixlab-bench" });
    return [...(await throughputRows(kafka, s)), ...(await latencyRows(s))];
  });
  return [...rows, ...(await diskLatencyRows(fs))];
}
