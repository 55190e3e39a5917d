/**
 * Live-feed behaviour of the step (#15) on a real broker and Redis started by this suite:
 *  - idle close: QUIXLAB_BENCH_IDLE_WINDOWS (default 4) successive 5 s windows, each with one tick of each of 4 quiet
 *    products early in it and nothing after; a feature tumbling 5 s, grace 1 s, idle 2 s. Reported: the time from
 *    each window's end to its record arriving at a reader of the output topic (p50 and max), against the bound
 *    idle + grace. Without idle the same windows would wait for the products' next ticks (never, here).
 *  - early results: QUIXLAB_BENCH_UPDATE_TICKS (default 200,000) ticks through ohlc1m with and without
 *    emit "update" (in the worker, Redis on), timed from `ready` until every tick's outputs are acknowledged; the
 *    ratio is what writing one update per tick costs.
 */
import { fileURLToPath } from "node:url";
import type { Kafka } from "kafkajs";
import { createTopics, uniqueName } from "../src/kafka/index.js";
import { kafkaClient } from "../src/kafka/client.js";
import type { Feature } from "../src/feature/types.js";
import { runStep, type StepHandle } from "../src/stream/step.js";
import { waitFor } from "../src/util/net.js";
import { ohlc1m } from "../src/feature/shipped/ohlc.js";
import { ohlc1mUpdates, quiet5s } from "./live-features.js";
import { produceTicks, type Services, withServices } from "./stream.js";
import type { Row } from "./types.js";

export const name = "live";

const say = (line: string) => process.stderr.write(`bench ${name}: ${line}\n`);
const FEATURES = fileURLToPath(new URL("./live-features.ts", import.meta.url));
const OHLC1M_REF = `${fileURLToPath(new URL("../src/feature/shipped/ohlc.ts", import.meta.url))}#ohlc1m`;

const percentile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.max(0, Math.ceil(q * xs.length) - 1))]!;

async function idleRows(kafka: Kafka, s: Services): Promise<Row[]> {
  const windows = Number(process.env.QUIXLAB_BENCH_IDLE_WINDOWS ?? 4);
  const input = uniqueName("bench-live-in");
  const output = uniqueName("bench-live-out");
  await createTopics(s.brokers, [{ topic: input, partitions: 1 }, { topic: output, partitions: 1 }]);
  const arrived = new Map<string, number>();
  const reader = kafka.consumer({ groupId: uniqueName("bench-live-reader"), maxWaitTimeInMs: 20 });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  let step: StepHandle | undefined;
  try {
    step = await runStep(quiet5s, { brokers: s.brokers, inputTopic: input, outputTopic: output, consumerGroup: uniqueName("bench-live"), redis: s.redis.url, featureRef: `${FEATURES}#quiet5s` });
    await step.ready;
    await Promise.all([reader.connect(), producer.connect()]);
    await reader.subscribe({ topic: output, fromBeginning: true });
    await reader.run({
      eachMessage: async ({ message }) => {
        const w = message.value ? (JSON.parse(message.value.toString()) as { key?: string; end?: number }) : {};
        if (typeof w.end === "number") arrived.set(`${w.key}|${w.end}`, Date.now());
      },
    });
    const delays: number[] = [];
    for (let i = 0; i < windows; i++) {
      // Early in a window, so the products have been quiet for idle (2 s) well before end + grace.
      let now = Date.now();
      if (now % 5_000 > 1_500) {
        await new Promise((r) => setTimeout(r, 5_000 - (now % 5_000) + 100));
        now = Date.now();
      }
      const end = Math.floor(now / 5_000) * 5_000 + 5_000;
      const products = ["Q1-USD", "Q2-USD", "Q3-USD", "Q4-USD"];
      await producer.send({
        topic: input,
        acks: -1,
        messages: products.map((p) => ({ key: p, value: JSON.stringify({ type: "ticker", product_id: p, price: "10", last_size: "1", time: new Date(now).toISOString() }) })),
      });
      await waitFor(async () => products.every((p) => arrived.has(`${p}|${end}`)), { timeoutMs: 20_000, intervalMs: 10, what: `the quiet windows ending ${end}` });
      for (const p of products) delays.push(arrived.get(`${p}|${end}`)! - end);
    }
    say(`window end -> record at a reader, idle 2 s, grace 1 s: ${delays.join(", ")} ms`);
    const bound = 3_000;
    return [
      { suite: name, name: "idle close: window end -> emitted, p50 (idle 2s, grace 1s)", value: percentile(delays, 0.5), unit: "ms", note: `${delays.length} quiet windows; bound idle + grace = ${bound} ms` },
      { suite: name, name: "idle close: window end -> emitted, max", value: Math.max(...delays), unit: "ms", ok: Math.max(...delays) <= bound, note: `<= ${bound} ms (idle + grace)` },
    ];
  } finally {
    await step?.stop().catch(() => undefined);
    await reader.disconnect().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
  }
}

async function timed(s: Services, feature: Feature, ref: string, input: string, ticks: number): Promise<number> {
  const output = uniqueName("bench-live-upd");
  const step = await runStep(feature, { brokers: s.brokers, inputTopic: input, outputTopic: output, consumerGroup: uniqueName("bench-live-upd"), redis: s.redis.url, featureRef: ref });
  try {
    await step.ready;
    const t0 = performance.now();
    await waitFor(async () => step.metrics().consumed >= ticks, { timeoutMs: 600_000, intervalMs: 2, what: `${feature.name} consuming ${ticks} ticks` });
    return ticks / ((performance.now() - t0) / 1000);
  } finally {
    await step.stop();
  }
}

async function updateRows(kafka: Kafka, s: Services): Promise<Row[]> {
  const n = Number(process.env.QUIXLAB_BENCH_UPDATE_TICKS ?? 200_000);
  const input = uniqueName("bench-live-ticks");
  await createTopics(s.brokers, [{ topic: input, partitions: 4 }]);
  await produceTicks(kafka, input, n);
  const plain = await timed(s, ohlc1m, OHLC1M_REF, input, n + 4);
  const updates = await timed(s, ohlc1mUpdates, `${FEATURES}#ohlc1mUpdates`, input, n + 4);
  return [
    {
      suite: name,
      name: 'ohlc1m with emit "update" (one update per tick), worker, Redis',
      value: updates,
      unit: "ticks/s",
      baseline: { name: "without updates", value: plain },
      ratio: updates / plain,
      note: `${n.toLocaleString("en-US")} ticks, 4 partitions`,
    },
  ];
}

export async function run(): Promise<Row[]> {
  return withServices(name, async (s) => {
    const kafka = kafkaClient(s.brokers);
    return [...(await idleRows(kafka, s)), ...(await updateRows(kafka, s))];
  });
}
