/** Shared by the stream*.test.ts integration tests: produce ticks, read topics back, compare windows. */
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { type Admin, type IHeaders, type Kafka, type Producer as KafkaProducer, Partitioners } from "kafkajs";
import type { Producer } from "../../src/kafka/index.js";
import { kafkaClient } from "../../src/kafka/client.js";
import type { WindowRecord } from "../../src/feature/types.js";
import { getKeys, getRange } from "../../src/store/online.js";
import { EofTracker, isEof, produceEof } from "../../src/stream/control.js";
import { testServices, uniqueName } from "../harness/services.js";

/** The key a replayer would use: the product, when the line has one. */
function keyOf(line: string): string | null {
  try {
    const id = (JSON.parse(line) as { product_id?: unknown }).product_id;
    return typeof id === "string" && id ? id : null;
  } catch {
    return null;
  }
}

/** A kafkajs producer of a test as quixlab's Producer (what produceEof takes), acks=all. */
export function asProducer(p: KafkaProducer): Producer {
  return {
    async send(messages) {
      for (const topic of new Set(messages.map((m) => m.topic))) {
        await p.send({ topic, acks: -1, messages: messages.filter((m) => m.topic === topic).map(({ topic: _, ...m }) => m) });
      }
    },
    disconnect: () => p.disconnect(),
  };
}

/** Produce lines keyed by product (in order, in requests of 1,000), optionally followed by eof markers. */
export async function produceLines(kafka: Kafka, topic: string, lines: readonly (string | Buffer | null)[], eofPartitions?: number): Promise<void> {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    for (let i = 0; i < lines.length; i += 1_000) {
      const messages = lines.slice(i, i + 1_000).map((v) => ({ key: typeof v === "string" ? keyOf(v) : null, value: v }));
      await producer.send({ topic, acks: -1, messages });
    }
    if (eofPartitions) await produceEof(asProducer(producer), topic, eofPartitions);
  } finally {
    await producer.disconnect();
  }
}

export interface Read {
  topic: string;
  partition: number;
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
}

/** Every committed message of `topic` up to its current end (high watermarks taken at the call). */
export async function readToEnd(kafka: Kafka, topic: string): Promise<Read[]> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map((await admin.fetchTopicOffsets(topic)).filter((o) => Number(o.high) > Number(o.low)).map((o) => [o.partition, Number(o.high)]));
  await admin.disconnect();
  const out: Read[] = [];
  if (ends.size === 0) return out;
  const consumer = kafka.consumer({ groupId: `reader-${topic}-${Math.random().toString(36).slice(2)}`, maxWaitTimeInMs: 100 });
  const remaining = new Set(ends.keys());
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    if (Number(payload.lastOffset) >= (ends.get(payload.partition) ?? 0) - 1) remaining.delete(payload.partition);
    if (remaining.size === 0) finish();
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      out.push({ topic, partition, offset: Number(message.offset), key: message.key, value: message.value, headers: message.headers ?? {} });
    },
  });
  await Promise.race([done, new Promise((_, rej) => setTimeout(() => rej(new Error(`reading ${topic} to its end timed out`)), 60_000).unref())]);
  await consumer.disconnect();
  return out.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}

/**
 * Read an output topic until every output partition has carried every input partition's eof marker; returns the
 * window records (control messages skipped), in topic order per partition.
 */
export async function readOutputUntilEof(kafka: Kafka, topic: string, outputPartitions: number, timeoutMs = 120_000): Promise<WindowRecord[]> {
  const consumer = kafka.consumer({ groupId: `reader-${topic}-${Math.random().toString(36).slice(2)}`, maxWaitTimeInMs: 100 });
  const tracker = new EofTracker(outputPartitions);
  const records: WindowRecord[] = [];
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      if (tracker.add(partition, message.headers)) {
        if (tracker.complete) finish();
        return;
      }
      if (!isEof(message.headers)) records.push(JSON.parse(String(message.value)) as WindowRecord);
    },
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([done, new Promise((_, rej) => (timer = setTimeout(() => rej(new Error(`no complete output on ${topic} within ${timeoutMs} ms`)), timeoutMs)))]);
  } finally {
    clearTimeout(timer);
    await consumer.disconnect();
  }
  return records;
}

export const windowKey = (r: Pick<WindowRecord, "key" | "start">) => `${r.key}\u0000${r.start}`;
export const byWindow = (a: WindowRecord, b: WindowRecord) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.start - b.start);

/** Deduplicate by (key, start), asserting every repeat is identical (at-least-once redelivery, never a change). */
export function dedupe(records: readonly WindowRecord[]): WindowRecord[] {
  const seen = new Map<string, WindowRecord>();
  for (const r of records) {
    const prev = seen.get(windowKey(r));
    if (prev) assert.deepEqual(r, prev, `window ${r.key}@${r.start} was emitted twice with different values`);
    else seen.set(windowKey(r), r);
  }
  return [...seen.values()].sort(byWindow);
}

/** Every window the online store holds for `feature`, sorted. */
export async function storedWindows(redis: Redis, feature: string): Promise<WindowRecord[]> {
  const out: WindowRecord[] = [];
  for (const key of await getKeys(redis, feature)) out.push(...(await getRange(redis, feature, key)));
  return out.sort(byWindow);
}

/** Thrown by a probe to stop waiting at once (e.g. the process it waits on died). */
export class GiveUp extends Error {}

/**
 * Wait until `probe` holds, polling a real condition every 25 ms (no fixed sleeps in tests). A probe's errors are
 * retried (a service may still be starting), except GiveUp, which ends the wait at once.
 */
export async function until<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (e) {
      if (e instanceof GiveUp) throw e;
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Sum of the high watermarks of a topic (how much was written to it). */
export async function topicEnd(admin: Admin, topic: string): Promise<number> {
  return (await admin.fetchTopicOffsets(topic)).reduce((s, o) => s + Number(o.high), 0);
}

/** The session's Kafka and Redis, with the clients a suite checks them through. */
export interface StreamSession {
  brokers: string[];
  redisUrl: string;
  kafka: Kafka;
  admin: Admin;
  redis: Redis;
  /** Disconnect the clients (the services belong to the harness). */
  close(): Promise<void>;
}

/** Connect to the test session's services: call in a suite's `before`, and `close()` in its `after`. */
export async function streamSession(): Promise<StreamSession> {
  const { brokers, redisUrl } = await testServices();
  const kafka = kafkaClient(brokers);
  const admin = kafka.admin();
  await admin.connect();
  const redis = new Redis(redisUrl);
  return {
    brokers,
    redisUrl,
    kafka,
    admin,
    redis,
    async close() {
      await admin.disconnect();
      await redis.quit();
    },
  };
}

/** One test's own names (feature, input and output topics, group), with the input topic created. */
export async function streamCase(
  admin: Admin,
  t: { name: string },
  processing: string,
  partitions: number,
): Promise<{ name: string; input: string; output: string; group: string }> {
  // A feature name is a Redis key prefix: keep it to plain characters.
  const name = uniqueName(t, processing).replace(/[^A-Za-z0-9._-]/g, "");
  const input = uniqueName(t, "in");
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic: input, numPartitions: partitions }] });
  return { name, input, output: uniqueName(t, "out"), group: uniqueName(t, "group") };
}

/**
 * The stream wrote exactly the `expected` windows: each once under exactly-once (read_committed), identical
 * repeats allowed under at-least-once; and the online store holds the same windows for `feature`.
 */
export async function assertStreamedWindows(
  streamed: readonly WindowRecord[],
  expected: readonly WindowRecord[],
  processing: "at-least-once" | "exactly-once",
  redis: Redis,
  feature: string,
): Promise<void> {
  if (processing === "exactly-once") {
    assert.equal(streamed.length, expected.length, "read_committed: every window exactly once");
    assert.deepEqual([...streamed].sort(byWindow), expected);
  } else {
    assert.deepEqual(dedupe(streamed), expected, "deduplicated by (key, start), the uninterrupted run's windows");
  }
  assert.deepEqual(await storedWindows(redis, feature), expected, "Redis holds the same windows");
}
