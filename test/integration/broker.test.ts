import assert from "node:assert/strict";
import { describe, it, type TestContext } from "node:test";
import { type Consumer, type Kafka, Partitioners } from "kafkajs";
import { createTopics, deleteTopics, topicOffsets } from "../../src/kafka/index.js";
import { kafkaClient } from "../../src/kafka/client.js";
import { testBrokers, uniqueName } from "../harness/services.js";

/**
 * Consume `topic` from the beginning until `done(values)` holds; resolves the values in arrival order.
 * The consumer is disconnected when the test ends, whatever happens.
 */
async function consumeUntil(
  t: TestContext,
  kafka: Kafka,
  topic: string,
  opts: { readUncommitted?: boolean },
  done: (received: { key: string; value: string; partition: number }[]) => boolean,
) {
  const consumer: Consumer = kafka.consumer({ groupId: uniqueName(t, "group"), readUncommitted: opts.readUncommitted ?? false });
  t.after(() => consumer.disconnect());
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const received: { key: string; value: string; partition: number }[] = [];
  await new Promise<void>((resolve, reject) => {
    consumer.on(consumer.events.CRASH, (e) => reject(e.payload.error));
    consumer
      .run({
        eachMessage: async ({ partition, message }) => {
          received.push({ key: String(message.key), value: String(message.value), partition });
          if (done(received)) resolve();
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return received;
}

describe("Kafka broker (real)", () => {
  it("delivers 10,000 keyed messages over 3 partitions, each key in order", { timeout: 180_000 }, async (t) => {
    const brokers = await testBrokers();
    const topic = uniqueName(t, "keyed");
    assert.equal(await createTopics(brokers, [{ topic, partitions: 3 }]), true);
    t.after(() => deleteTopics(brokers, [topic]));
    const kafka = kafkaClient(brokers, { clientId: topic });

    const total = 10_000;
    const keys = Array.from({ length: 25 }, (_, i) => `product-${i}`);
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true });
    await producer.connect();
    const nextSeq = new Map<string, number>();
    for (let start = 0; start < total; start += 1_000) {
      const messages = Array.from({ length: 1_000 }, (_, i) => {
        // Keys interleave irregularly so order per key is not an artefact of sending in key blocks.
        const key = keys[((start + i) * 7 + ((start + i) >> 3)) % keys.length]!;
        const seq = nextSeq.get(key) ?? 0;
        nextSeq.set(key, seq + 1);
        return { key, value: String(seq) };
      });
      await producer.send({ topic, acks: -1, messages });
    }
    await producer.disconnect();

    const offsets = await topicOffsets(brokers, topic);
    assert.equal(offsets.length, 3);
    assert.equal(offsets.reduce((n, o) => n + o.high, 0), total);
    assert.ok(offsets.every((o) => o.high > 0), `every partition holds messages: ${JSON.stringify(offsets)}`);

    const received = await consumeUntil(t, kafka, topic, {}, (r) => r.length >= total);
    assert.equal(received.length, total);
    const byKey = new Map<string, { seqs: number[]; partitions: Set<number> }>();
    for (const m of received) {
      const entry = byKey.get(m.key) ?? { seqs: [], partitions: new Set() };
      entry.seqs.push(Number(m.value));
      entry.partitions.add(m.partition);
      byKey.set(m.key, entry);
    }
    assert.deepEqual([...byKey.keys()].sort(), [...keys].sort());
    for (const [key, { seqs, partitions }] of byKey) {
      assert.equal(partitions.size, 1, `${key} stays on one partition`);
      assert.deepEqual(seqs, Array.from({ length: nextSeq.get(key)! }, (_, i) => i), `${key} arrives in order, no gaps or duplicates`);
    }
  });

  it("hides an aborted transaction from a read_committed consumer", { timeout: 120_000 }, async (t) => {
    const brokers = await testBrokers();
    const topic = uniqueName(t, "tx");
    await createTopics(brokers, [{ topic, partitions: 1 }]);
    t.after(() => deleteTopics(brokers, [topic]));
    const kafka = kafkaClient(brokers, { clientId: topic });

    const producer = kafka.producer({ transactionalId: uniqueName(t, "txid"), idempotent: true, maxInFlightRequests: 1 });
    t.after(() => producer.disconnect());
    await producer.connect();
    const batch = (label: string) => Array.from({ length: 5 }, (_, i) => ({ key: "k", value: `${label}${i}` }));
    for (const [label, outcome] of [["committed-a", "commit"], ["aborted", "abort"], ["committed-b", "commit"]] as const) {
      const tx = await producer.transaction();
      await tx.send({ topic, messages: batch(label) });
      await (outcome === "commit" ? tx.commit() : tx.abort());
    }
    const end = await producer.transaction();
    await end.send({ topic, messages: [{ key: "k", value: "end" }] });
    await end.commit();

    const last = (r: { value: string }[]) => r.at(-1)?.value === "end";
    const committed = (await consumeUntil(t, kafka, topic, { readUncommitted: false }, last)).map((m) => m.value);
    assert.deepEqual(committed, [...batch("committed-a"), ...batch("committed-b"), { value: "end" }].map((m) => m.value));

    // The aborted records really are in the log: a read_uncommitted consumer sees them.
    const everything = (await consumeUntil(t, kafka, topic, { readUncommitted: true }, last)).map((m) => m.value);
    assert.deepEqual(
      everything.filter((v) => v.startsWith("aborted")),
      batch("aborted").map((m) => m.value),
    );
  });
});
