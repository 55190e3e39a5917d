/**
 * The latency bench's load, each in a thread of its own so neither shares an event loop with the step's consumer
 * (at 50k ticks/s, encoding the ticks and decoding them for the raw consumer took most of one core, and whatever
 * shared the thread with them measured the queue behind them):
 *  - "produce": ticks at a fixed rate for a while, event time = wall time, keyed by product, through the fast
 *    producer; posts `{ sent }`. (With kafkajs, one request in flight, a thread made about 27k ticks/s on the
 *    2-core bench host, late and in bursts, and two of them took most of a core from the step.)
 *  - "consume": the raw kafkajs consumer, the baseline (Kafka timestamp → delivered); posts `{ joined }`, then
 *    `{ delivered }` every 50 ms, and `{ p50, p99, delivered }` when sent "stop" (over the messages delivered since
 *    it was sent "measure", the end of the warm-up, when it was).
 */
import { parentPort, Worker, workerData } from "node:worker_threads";
import { kafkaClient } from "../src/kafka/client.js";
import { type FastProducer, openFastProducer } from "../src/kafka/fast-producer.js";
import { Reservoir } from "../src/stream/metrics.js";

export interface LoadData {
  role: "produce" | "consume";
  brokers: string[];
  topic: string;
  groupId?: string;
  partitions?: number;
  rate?: number;
  seconds?: number;
  products?: number;
  /** This producer's share: products ≡ index (mod of). */
  share?: { of: number; index: number };
}

// Registers tsx in the thread, then loads this module there (as the step's worker does, src/stream/offload.ts).
const BOOT = `
const { workerData, parentPort } = require("node:worker_threads");
(async () => {
  const { register } = await import(workerData.tsx);
  register();
  await import(workerData.entry);
})().catch((e) => parentPort.postMessage({ error: String((e && e.stack) || e) }));
`;

/** Start a load thread. */
export function loadThread(data: LoadData): Worker {
  return new Worker(BOOT, { eval: true, workerData: { ...data, entry: import.meta.url, tsx: import.meta.resolve("tsx/esm/api") } });
}

/** The next message of `w` that has `key` (rejects on a thread's error or exit). */
export function nextMessage<T>(w: Worker, key: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: Record<string, unknown>) => {
      if ("error" in m) return done(() => reject(new Error(`bench load thread: ${m.error}`)));
      if (key in m) done(() => resolve(m as T));
    };
    const onExit = (code: number) => done(() => reject(new Error(`bench load thread exited (${code}) before '${key}'`)));
    const done = (f: () => void) => {
      w.off("message", onMessage);
      w.off("exit", onExit);
      f();
    };
    w.on("message", onMessage);
    w.on("exit", onExit);
  });
}

/**
 * Produce ticks at `rate` per second for `seconds`, stamped with the wall clock, over `products` keys, through the
 * fast producer (src/kafka/fast-producer.ts): it needs a fraction of kafkajs' CPU per tick and never waits for an
 * acknowledgement before the next slice, so the load neither starves the step of the 2 cores nor arrives in bursts.
 */
async function paced(producer: FastProducer, rate: number, seconds: number, products: number, share: { of: number; index: number }): Promise<number> {
  // This thread's products: every `of`-th, so each product's ticks keep one producer's order.
  const mine = Array.from({ length: products }, (_, p) => `P${p}-USD`).filter((_, p) => p % share.of === share.index);
  const keys = mine.map((m) => Buffer.from(m));
  const partitions = keys.map((k) => producer.partitionOf(k));
  const start = Date.now();
  let sent = 0;
  let price = 100;
  for (;;) {
    const elapsed = Date.now() - start;
    if (elapsed >= seconds * 1000) {
      await producer.drain();
      return sent;
    }
    const due = Math.floor((elapsed * rate) / 1000);
    for (; sent < due; sent++) {
      const i = sent % mine.length;
      price = Math.max(1, price * (1 + (Math.random() - 0.5) * 0.002));
      const now = Date.now();
      const value = Buffer.from(JSON.stringify({ type: "ticker", product_id: mine[i], price: price.toFixed(2), last_size: "0.5", time: new Date(now).toISOString() }));
      producer.append(partitions[i]!, now, keys[i]!, value, 0, value.length, []);
    }
    producer.flush();
    await producer.room();
    // Pacing, not waiting for a condition: the next slice of ticks is due in 10 ms.
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function produce(d: LoadData): Promise<void> {
  const producer = await openFastProducer(d.brokers, d.topic, { clientId: "quixlab-bench-load" });
  try {
    parentPort!.postMessage({ sent: await paced(producer, d.rate!, d.seconds!, d.products!, d.share ?? { of: 1, index: 0 }) });
  } finally {
    producer.close();
  }
}

async function consume(d: LoadData): Promise<void> {
  // Every delivery of the measured seconds (50k ticks/s for 30 s is 1.5M): the reservoir keeps only the newest.
  const capacity = Math.max(1 << 20, Math.ceil((d.rate ?? 0) * (d.seconds ?? 0) * 1.2));
  let transport = new Reservoir(capacity);
  let delivered = 0;
  const consumer = kafkaClient(d.brokers, { clientId: "quixlab-bench-load" }).consumer({ groupId: d.groupId!, maxWaitTimeInMs: 500, maxBytesPerPartition: 8 << 20 });
  await consumer.connect();
  await consumer.subscribe({ topic: d.topic, fromBeginning: true });
  await consumer.run({
    partitionsConsumedConcurrently: d.partitions,
    eachBatch: async ({ batch }) => {
      const now = Date.now();
      for (const m of batch.messages) transport.add(now - Number(m.timestamp), now);
      delivered += batch.messages.length;
    },
  });
  parentPort!.postMessage({ joined: true });
  const timer = setInterval(() => parentPort!.postMessage({ delivered }), 50);
  parentPort!.on("message", async (cmd: unknown) => {
    // "measure": the warm-up is over, what was delivered before it does not count (as for the step's latency).
    if (cmd === "measure") {
      transport = new Reservoir(capacity);
      return;
    }
    clearInterval(timer);
    parentPort!.postMessage({ p50: transport.percentile(0.5), p99: transport.percentile(0.99), delivered });
    await consumer.disconnect().catch(() => undefined);
    parentPort!.close();
  });
}

if (parentPort && (workerData as LoadData | undefined)?.role) {
  const d = workerData as LoadData;
  (d.role === "produce" ? produce(d) : consume(d)).catch((e) => parentPort!.postMessage({ error: String((e as Error).stack ?? e) }));
}
