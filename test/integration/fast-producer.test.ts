/**
 * The fast producer (src/kafka/fast-producer.ts) on a real broker: what it writes, read back with kafkajs, is what
 * kafkajs' own idempotent producer writes for the same messages (keys, values, headers, timestamps, partitions by
 * murmur2, order per partition), with many requests in flight; and through a SIGKILL of the broker (a broker of
 * the test's own) mid-produce, every record lands exactly once, in order.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { startBroker } from "../../src/broker/index.js";
import { openFastProducer } from "../../src/kafka/fast-producer.js";
import { createTopics, type InMessage, type OutMessage, openProducer, readTopics } from "../../src/kafka/index.js";
import { waitFor } from "../../src/util/net.js";
import { testBrokers, uniqueName } from "../harness/services.js";

const HEADER = "quixlab-ingest-ms";
const enc = (s: string) => Buffer.from(s);

/** `n` messages: keys k0..k6, every 13th key-less (to partition 0, as replay sends bad lines), values of varied size. */
function messages(topic: string, n: number): OutMessage[] {
  return Array.from({ length: n }, (_, i) => {
    const key = i % 13 === 5 ? null : `k${i % 7}`;
    return {
      topic,
      key,
      ...(key === null ? { partition: 0 } : {}),
      value: `{"i":${i},"pad":"${"x".repeat(i % 300)}"}`,
      timestamp: String(1_686_312_000_000 + i * 7 - (i % 3) * 1000),
      headers: { [HEADER]: String(1_800_000_000_000 + i) },
    };
  });
}

type Row = { key: string | null; value: string; timestamp: string; header: string };

/**
 * Every message of `topic` once `expected` arrived: per partition, in offset order. Keyed by offset: a reader that
 * rebalances reads some offsets again (nothing is committed), which is the reader's repeat, not the producer's.
 */
async function readAll(brokers: string[], topic: string, expected: number): Promise<Map<number, Row[]>> {
  const byOffset = new Map<number, Map<number, Row>>();
  let seen = 0;
  const row = (m: InMessage): Row => ({ key: m.key === null ? null : m.key.toString(), value: String(m.value), timestamp: m.timestamp, header: String(m.headers?.[HEADER]) });
  const reader = await readTopics(brokers, {
    groupId: uniqueName(topic, "reader"),
    topics: [topic],
    onBatch: (batch) => {
      const rows = byOffset.get(batch.partition) ?? new Map<number, Row>();
      byOffset.set(batch.partition, rows);
      for (const m of batch.messages) {
        if (!rows.has(Number(m.offset))) seen++;
        rows.set(Number(m.offset), row(m));
      }
    },
  });
  try {
    await waitFor(async () => seen >= expected, { timeoutMs: 90_000, intervalMs: 50, what: `${expected} messages in ${topic}` });
    // Nothing more than expected (a duplicate would show here).
    await new Promise((r) => setTimeout(r, 500));
  } finally {
    await reader.stop();
  }
  return new Map([...byOffset].map(([p, rows]) => [p, [...rows].sort((a, b) => a[0] - b[0]).map(([, r]) => r)]));
}

/** Send with a fast producer; `gate` (if it returns a promise) holds the next append until it settles. */
async function fastSend(brokers: string[], topic: string, msgs: OutMessage[], opts: Parameters<typeof openFastProducer>[2] = {}, gate?: () => Promise<void> | undefined) {
  const p = await openFastProducer(brokers, topic, opts);
  try {
    for (const m of msgs) {
      await gate?.();
      const key = m.key === null ? null : enc(String(m.key));
      const value = enc(String(m.value));
      p.append(key === null ? 0 : p.partitionOf(key), Number(m.timestamp), key, value, 0, value.length, [[enc(HEADER), enc(String(m.headers![HEADER]))]]);
      await p.room();
    }
    return await p.drain();
  } finally {
    p.close();
  }
}

describe("fast producer", { timeout: 300_000 }, () => {
  it("writes what kafkajs' producer writes: same partitions, order, keys, values, headers, timestamps", async (t) => {
    const brokers = await testBrokers();
    const N = 20_000;
    const viaKafkajs = uniqueName(t, "kafkajs");
    const viaFast = uniqueName(t, "fast");
    await createTopics(brokers, [
      { topic: viaKafkajs, partitions: 3 },
      { topic: viaFast, partitions: 3 },
    ]);
    const producer = await openProducer(brokers, { clientId: uniqueName(t, "producer") });
    try {
      await producer.send(messages(viaKafkajs, N));
    } finally {
      await producer.disconnect();
    }
    // Small batches: many requests, five in flight.
    assert.equal(await fastSend(brokers, viaFast, messages(viaFast, N), { batchBytes: 16 * 1024 }), N);
    const [expected, got] = await Promise.all([readAll(brokers, viaKafkajs, N), readAll(brokers, viaFast, N)]);
    assert.deepEqual([...got.keys()].sort(), [...expected.keys()].sort(), "the same partitions");
    for (const [partition, rows] of expected) assert.deepEqual(got.get(partition), rows, `partition ${partition}`);
  });

  it("through a broker SIGKILLed and restarted mid-produce, every record lands once, in order", async (t) => {
    const broker = await startBroker({ provider: "local" });
    t.after(() => broker.stop());
    const topic = uniqueName(t, "restart");
    await createTopics(broker.brokers, [{ topic, partitions: 3 }]);
    const N = 150_000;
    let killed: Promise<void> | undefined;
    let outage: Promise<void> | undefined;
    const log: string[] = [];
    const onAck = (acked: number) => {
      if (outage || acked < N / 3) return;
      // The rest is appended once the broker is gone: it is sent into the outage, and again after it.
      killed = broker.kill!("SIGKILL");
      outage = killed.then(async () => {
        await new Promise((r) => setTimeout(r, 1_000));
        await broker.restart!();
      });
    };
    const opts = { batchBytes: 32 * 1024, maxBufferedBytes: 4 * 1024 * 1024, onAck, log: (l: string) => log.push(l) };
    const sent = await fastSend(broker.brokers, topic, messages(topic, N), opts, () => killed);
    await outage;
    assert.ok(outage, "the broker was killed mid-produce");
    assert.ok(log.some((l) => l.includes("sending again")), `the producer sent again after the outage:\n${log.slice(0, 10).join("\n")}`);
    assert.equal(sent, N);
    const got = await readAll(broker.brokers, topic, N);
    const all = [...got.values()].flat();
    assert.equal(all.length, N, "nothing lost, nothing repeated");
    assert.equal(new Set(all.map((r) => r.value)).size, N, "each record at one offset only");
    for (const [partition, rows] of got) {
      const ids = rows.map((r) => (JSON.parse(r.value) as { i: number }).i);
      assert.deepEqual(ids, [...ids].sort((a, b) => a - b), `partition ${partition} in order`);
    }
  });
});
