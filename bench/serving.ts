/**
 * Serving the seeds' model (#17), on a broker and a redis-server this suite starts (provider local) and stops:
 *  - vector read under a running step: Redis holds 30 d of ohlc1h, 2 d of ohlc1m and 1 h of ohlc60s for 3 products
 *    (batch records of generated ticks ending now, written with putWindows, default retention and watermarks, as a
 *    replay of the three steps would leave them); then runStep ohlc60s (worker thread, at-least-once + Redis) is fed
 *    QUIXLAB_BENCH_RATE ticks/s (default 2,000) stamped with the wall clock for the same 3 products, and while it
 *    writes, featureVector reads "ohlc1h:30d,ohlc1m:today,ohlc60s:latest" QUIXLAB_BENCH_READS times (default 3,000),
 *    interleaved in blocks with a naive read of the same vector: MGET of the three watermarks, then three
 *    ZRANGEBYSCORE, four sequential round trips without Lua (not atomic), parsed and selected by the same rule.
 *    Every read of both must hold a full vector (ohlc1h and ohlc1m non-empty, ohlc60s set), or the suite throws.
 *  - training-set build: trainingSet (nested) over a generated file (QUIXLAB_BENCH_TRAIN_N ticks, default 200,000,
 *    3 products, 100 ms apart: 5.6 h) at QUIXLAB_BENCH_TRAIN_TIMES times per key (default 1,000), in rows/s, against
 *    test/integration/pandas/vector_oracle.py (read, validate, compute the three features, apply the rule per row,
 *    write JSON lines) on the same file and times, timed as a process. Both must give the same rows and windows.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { Redis } from "ioredis";
import { Partitioners, type Producer } from "kafkajs";
import { startBroker } from "../src/broker/index.js";
import type { BrokerHandle } from "../src/broker/types.js";
import { ohlc1h, ohlc1m, ohlc60s } from "../src/feature/shipped/ohlc.js";
import type { Feature, WindowRecord } from "../src/feature/types.js";
import { kafkaClient } from "../src/kafka/client.js";
import { createTopics, uniqueName } from "../src/kafka/index.js";
import { type RedisHandle, startRedis } from "../src/redis/provider.js";
import { featureVector } from "../src/serving/online.js";
import { type FeatureVector, selectWindows, type VectorValue } from "../src/serving/rule.js";
import { parseVectorSpec, type VectorSpec } from "../src/serving/spec.js";
import { trainingSet } from "../src/serving/training.js";
import { onlineRedis, parseWatermark, putWindows, watermarkKey, windowsKey } from "../src/store/online.js";
import { defaultRetentionMs } from "../src/store/retention.js";
import { runStep, type StepHandle } from "../src/stream/index.js";
import { generateTicks, writeTicksFile } from "../src/tick/generate.js";
import { waitFor } from "../src/util/net.js";
import { benchBrokerDir } from "./broker-dir.js";
import type { Row } from "./types.js";

export const name = "serving";

const say = (line: string) => process.stderr.write(`bench ${name}: ${line}\n`);
const exec = promisify(execFile);
const here = fileURLToPath(new URL(".", import.meta.url));
const ORACLE = join(here, "..", "test", "integration", "pandas", "vector_oracle.py");
const OHLC60S_REF = `${fileURLToPath(new URL("../src/feature/shipped/ohlc.ts", import.meta.url))}#ohlc60s`;
const SPEC_TEXT = "ohlc1h:30d,ohlc1m:today,ohlc60s:latest";
const PRODUCTS = ["BTC-USD", "ETH-USD", "SOL-USD"];
const FEATURES: Record<string, Feature> = { ohlc1h, ohlc1m, ohlc60s } as unknown as Record<string, Feature>;
const PARTITIONS = 4;
const DAY = 86_400_000;

const percentile = (sorted: readonly number[], q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;

/** The per-feature window counts of a vector, or an error naming what is empty: a broken read must not look fast. */
function fullCounts(v: FeatureVector | undefined, how: string): number[] {
  if (!v) throw new Error(`bench ${name}: ${how} found no watermark of the key`);
  return Object.entries(v.features).map(([f, x]) => {
    const n = x === null ? 0 : Array.isArray(x) ? x.length : 1;
    if (n === 0) throw new Error(`bench ${name}: ${how} returned an empty ${f} for ${v.key} at ${String(v.asOf)}`);
    return n;
  });
}

/** Batch records of `f` over ticks spanning `spanMs` up to `endMs`, `perProductMs` apart per product. */
async function recordsOf(f: Feature, endMs: number, spanMs: number, perProductMs: number, seed: number): Promise<WindowRecord[]> {
  const n = Math.floor(spanMs / perProductMs) * PRODUCTS.length;
  const ticks = generateTicks({ n, products: PRODUCTS, seed, startMs: endMs - spanMs, intervalMs: perProductMs / PRODUCTS.length });
  return (await f.batchRecords(ticks)).records as WindowRecord[];
}

/** Write what three steps replayed up to `endMs` would leave: final windows in end order, retention, watermarks. */
async function fillStore(redis: Redis, endMs: number): Promise<string> {
  const parts: [Feature, number, number][] = [
    [ohlc1h, 30 * DAY, 60_000],
    [ohlc1m, 2 * DAY, 10_000],
    [ohlc60s, 3_600_000, 1_000],
  ];
  const kept: string[] = [];
  for (const [f, span, every] of parts) {
    const records = (await recordsOf(f, endMs, span, every, 42)).filter((r) => r.end + f.window.grace <= endMs).sort((a, b) => a.end - b.end);
    const retentionMs = defaultRetentionMs(f.window);
    for (let at = 0; at < records.length; at += 1_000) {
      const last = at + 1_000 >= records.length;
      await putWindows(redis, f.name, records.slice(at, at + 1_000), { retentionMs, ...(last ? { watermarks: PRODUCTS.map((p) => [p, endMs] as const) } : {}) });
    }
    let n = 0;
    for (const p of PRODUCTS) n += await redis.zcard(windowsKey(f.name, p));
    kept.push(`${f.name} ${n}`);
  }
  return kept.join(", ");
}

/**
 * The same vector read naively: MGET of the three watermarks, then one ZRANGEBYSCORE per feature (start in
 * [from, asOf)), each awaited in turn, then featureVector's own parse and rule. Not atomic: a step may write between
 * the round trips.
 */
async function naiveVector(redis: Redis, key: string, spec: VectorSpec): Promise<FeatureVector | undefined> {
  const marks = (await redis.mget(spec.map((p) => watermarkKey(p.feature, key)))).map(parseWatermark);
  if (marks.some((m) => m === undefined)) return undefined;
  // Mid-stream: the oldest watermark (no eof here; the fill's keys never end).
  const asOf = Math.min(...marks.map((m) => (m === "eof" ? Number.POSITIVE_INFINITY : (m as number))));
  const features: Record<string, VectorValue> = {};
  for (const { feature, range } of spec) {
    const w = FEATURES[feature]!.window;
    const from = range.kind === "today" ? Math.floor(asOf / DAY) * DAY : range.kind === "since" ? asOf - range.ms : asOf - w.size - w.grace - w.step;
    const members = await redis.zrangebyscore(windowsKey(feature, key), from, `(${asOf}`);
    features[feature] = selectWindows(
      members.map((m) => JSON.parse(m) as WindowRecord),
      asOf,
      range,
      w.grace,
    );
  }
  return { key, asOf, features };
}

/** Ticks at `rate` per second over PRODUCTS, event time = wall clock, until `stop()`; resolves to the count sent. */
function pacedTicks(producer: Producer, topic: string, rate: number): { stop: () => void; sent: () => number; done: Promise<number> } {
  let stopped = false;
  let sent = 0;
  const done = (async () => {
    const start = Date.now();
    let price = 100;
    while (!stopped) {
      const due = Math.floor(((Date.now() - start) * rate) / 1000);
      const messages: { key: string; value: string }[] = [];
      for (; sent < due; sent++) {
        const product = PRODUCTS[sent % PRODUCTS.length]!;
        price = Math.max(1, price * (1 + (Math.random() - 0.5) * 0.002));
        messages.push({ key: product, value: JSON.stringify({ type: "ticker", product_id: product, price: price.toFixed(2), last_size: "0.5", time: new Date().toISOString() }) });
      }
      if (messages.length) await producer.send({ topic, acks: -1, messages });
      // Pacing, not waiting for a condition: the next slice of ticks is due in 10 ms.
      await new Promise((r) => setTimeout(r, 10));
    }
    return sent;
  })();
  return { stop: () => (stopped = true), sent: () => sent, done };
}

async function vectorRows(brokers: string[], redisUrl: string): Promise<Row[]> {
  const reads = Number(process.env.QUIXLAB_BENCH_READS ?? 3_000);
  const rate = Number(process.env.QUIXLAB_BENCH_RATE ?? 2_000);
  const spec = parseVectorSpec(SPEC_TEXT);
  const redis = onlineRedis(redisUrl);
  const kafka = kafkaClient(brokers, { clientId: "quixlab-bench" });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
  const input = uniqueName("bench-serving-ticks");
  const output = uniqueName("bench-serving-out");
  let step: StepHandle | undefined;
  let feed: ReturnType<typeof pacedTicks> | undefined;
  try {
    await new Promise((r) => redis.once("ready", r));
    await redis.flushall();
    const filledAt = Date.now();
    say("filling Redis: 30 d of ohlc1h, 2 d of ohlc1m, 1 h of ohlc60s, 3 products…");
    const kept = await fillStore(redis, filledAt);
    say(`  kept ${kept}`);
    await createTopics(brokers, [
      { topic: input, partitions: PARTITIONS },
      { topic: output, partitions: PARTITIONS },
    ]);
    step = await runStep(ohlc60s, { brokers, inputTopic: input, outputTopic: output, consumerGroup: uniqueName("bench-serving-step"), redis: redisUrl, featureRef: OHLC60S_REF, worker: true });
    await step.ready;
    await producer.connect();
    feed = pacedTicks(producer, input, rate);
    // Reads start once the step is writing: its watermark for every product has moved past the fill's.
    await waitFor(async () => (await redis.mget(PRODUCTS.map((p) => watermarkKey("ohlc60s", p)))).every((w) => Number(w) > filledAt), {
      timeoutMs: 60_000,
      intervalMs: 50,
      what: "the ohlc60s step's first watermarks",
    });
    const ours: number[] = [];
    const naive: number[] = [];
    let counts: number[] = [];
    const consumedBefore = step.metrics().consumed;
    const t0 = performance.now();
    const block = 100;
    // Warm-up (script load, connection), then interleaved blocks so both reads see the same load.
    for (let i = 0; i < 50; i++) {
      fullCounts(await featureVector(redis, PRODUCTS[i % 3]!, spec, FEATURES), "featureVector");
      fullCounts(await naiveVector(redis, PRODUCTS[i % 3]!, spec), "the naive read");
    }
    say(`vector read: ${reads} featureVector + ${reads} naive reads while the step takes ${rate} ticks/s…`);
    for (let i = 0; i < reads; i += block) {
      for (let j = i; j < Math.min(reads, i + block); j++) {
        const key = PRODUCTS[j % 3]!;
        const t = performance.now();
        const v = await featureVector(redis, key, spec, FEATURES);
        ours.push(performance.now() - t);
        counts = fullCounts(v, "featureVector");
      }
      for (let j = i; j < Math.min(reads, i + block); j++) {
        const key = PRODUCTS[j % 3]!;
        const t = performance.now();
        const v = await naiveVector(redis, key, spec);
        naive.push(performance.now() - t);
        fullCounts(v, "the naive read");
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    const consumed = step.metrics().consumed - consumedBefore;
    feed.stop();
    await feed.done;
    if (consumed < rate * seconds * 0.5) throw new Error(`bench ${name}: the step consumed ${consumed} ticks in ${seconds.toFixed(1)} s of reads, under half of ${rate}/s`);
    ours.sort((a, b) => a - b);
    naive.sort((a, b) => a - b);
    say(`  p50 ${percentile(ours, 0.5).toFixed(3)} / ${percentile(naive, 0.5).toFixed(3)} ms, p99 ${percentile(ours, 0.99).toFixed(3)} / ${percentile(naive, 0.99).toFixed(3)} ms; step took ${Math.round(consumed / seconds)} ticks/s`);
    const note = `${SPEC_TEXT}, ${reads} reads over 3 products (windows per vector ${counts.join("/")}; store: ${kept}) while runStep ohlc60s (worker, at-least-once + Redis) took ${Math.round(consumed / seconds).toLocaleString("en-US")} ticks/s; baseline: MGET of the 3 watermarks + 3 ZRANGEBYSCORE, 4 sequential round trips, no Lua, not atomic, same parse and rule; ratio = ours / naive (lower is better)`;
    const row = (q: "p50" | "p99", frac: number): Row => {
      const value = percentile(ours, frac);
      const base = percentile(naive, frac);
      return { suite: name, name: `featureVector ${q} under a running step`, value, unit: "ms", baseline: { name: `naive 4 round trips ${q}`, value: base }, ratio: value / base, note };
    };
    return [row("p50", 0.5), row("p99", 0.99)];
  } finally {
    feed?.stop();
    await feed?.done.catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    await step?.stop().catch(() => undefined);
    await redis.quit().catch(() => undefined);
  }
}

/** Rows and windows per feature of JSON-lines vectors (the oracle's output) or of trainingSet's vectors. */
function tally(vectors: Iterable<FeatureVector>): { rows: number; windows: Record<string, number> } {
  let rows = 0;
  const windows: Record<string, number> = {};
  for (const v of vectors) {
    rows++;
    for (const [f, x] of Object.entries(v.features)) windows[f] = (windows[f] ?? 0) + (x === null ? 0 : Array.isArray(x) ? x.length : 1);
  }
  return { rows, windows };
}

async function trainingRows(): Promise<Row[]> {
  const n = Number(process.env.QUIXLAB_BENCH_TRAIN_N ?? 200_000);
  const perKey = Number(process.env.QUIXLAB_BENCH_TRAIN_TIMES ?? 1_000);
  const dir = mkdtempSync(join(tmpdir(), "quixlab-bench-serving-"));
  try {
    const file = join(dir, "ticks.jsonl");
    const startMs = Date.UTC(2023, 5, 9, 12);
    const intervalMs = 100;
    await writeTicksFile(file, { n, products: PRODUCTS, seed: 42, startMs, intervalMs, outOfOrderMs: 500 });
    const spanMs = n * intervalMs;
    // Spread over the file, from its first minute to a minute past its end (the last times see every window final).
    const times = Array.from({ length: perKey }, (_, i) => startMs + 60_000 + Math.floor((i * spanMs) / (perKey - 1)));
    say(`training set: ${n.toLocaleString("en-US")} ticks, ${perKey} times × ${PRODUCTS.length} keys…`);
    const t = performance.now();
    const vectors = await trainingSet(file, SPEC_TEXT, times, { nested: true });
    const ourS = (performance.now() - t) / 1000;
    const ours = tally(vectors);
    const out = join(dir, "oracle.jsonl");
    const tp = performance.now();
    await exec("sh", ["-c", 'python3 "$0" "$1" --spec "$2" --times "$3" > "$4"', ORACLE, file, SPEC_TEXT, times.join(","), out], { maxBuffer: 1 << 20 });
    const pandasS = (performance.now() - tp) / 1000;
    const lines = readFileSync(out, "utf8").split("\n").filter(Boolean);
    const theirs = tally(lines.map((l) => JSON.parse(l) as FeatureVector));
    if (ours.rows !== perKey * PRODUCTS.length || JSON.stringify(ours) !== JSON.stringify(theirs)) {
      throw new Error(`bench ${name}: trainingSet gave ${JSON.stringify(ours)}, the pandas oracle ${JSON.stringify(theirs)}`);
    }
    const rate = ours.rows / ourS;
    const base = ours.rows / pandasS;
    say(`  ${ours.rows} rows in ${ourS.toFixed(2)} s (pandas ${pandasS.toFixed(2)} s); windows ${JSON.stringify(ours.windows)}`);
    return [
      {
        suite: name,
        name: "trainingSet build (nested), from the file",
        value: rate,
        unit: "rows/s",
        baseline: { name: "pandas vector_oracle.py", value: base },
        ratio: rate / base,
        note: `${SPEC_TEXT}; ${(n / 1000).toFixed(0)}k ticks (3 products, ${(spanMs / 3_600_000).toFixed(1)} h) × ${perKey} times per key = ${ours.rows} rows; both read the file, compute the three features and apply the rule; pandas timed as a process (python start-up and JSON output included); same rows and windows per feature (${Object.values(ours.windows).join("/")})`,
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Start a local broker and redis-server of our own, run the vector read under a step, stop both; then the training set. */
export async function run(): Promise<Row[]> {
  let broker: BrokerHandle | undefined;
  let redis: RedisHandle | undefined;
  const rows: Row[] = [];
  try {
    broker = await startBroker({ provider: "local", log: say, parentDir: benchBrokerDir().parentDir });
    redis = await startRedis({ provider: "local", log: say });
    rows.push(...(await vectorRows(broker.brokers, redis.url!)));
  } finally {
    await redis?.stop().catch((e) => say(`stopping redis: ${(e as Error).message}`));
    await broker?.stop().catch((e) => say(`stopping kafka: ${(e as Error).message}`));
  }
  rows.push(...(await trainingRows()));
  return rows;
}
