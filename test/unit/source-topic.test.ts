/** The Coinbase source's start-up read of its output topic, driven through a stand-in for Kafka (no broker). */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ReadTopicsOptions } from "../../src/kafka/index.js";
import { producedPositions, type SeedKafka } from "../../src/source/topic.js";

const ticker = (tradeId: number) => Buffer.from(JSON.stringify({ type: "ticker", product_id: "BTC-USD", sequence: tradeId * 10, trade_id: tradeId, time: "2021-04-17T16:43:30.244075Z" }));

/** A topic of 1000 messages whose reader hands over the first two and then nothing more: a read that would run to its timeout. */
function slowTopic() {
  const calls = { adminClosed: 0, readerStopped: 0, deletedGroups: [] as string[] };
  let delivered!: () => void;
  const firstBatch = new Promise<void>((r) => (delivered = r));
  const kafka: SeedKafka = {
    openAdmin: async () => ({
      topicOffsets: async () => [{ partition: 0, low: 0, high: 1000 }],
      disconnect: async () => void calls.adminClosed++,
    }),
    readTopics: async (_target, o: ReadTopicsOptions) => {
      setImmediate(async () => {
        await o.onBatch({ topic: o.topics[0]!, partition: 0, highWatermark: "1000", messages: [0, 1].map((i) => ({ offset: String(i), key: null, value: ticker(100 + i), timestamp: "0" })) });
        delivered();
      });
      return { stop: async () => void calls.readerStopped++ };
    },
    deleteGroups: async (_target, groups) => void calls.deletedGroups.push(...groups),
  };
  return { kafka, calls, firstBatch };
}

describe("source start-up read", () => {
  it("stops reading when the source is stopped, keeping what it read, and leaves the reader and its group cleaned up", async () => {
    const { kafka, calls, firstBatch } = slowTopic();
    const stop = new AbortController();
    const lines: string[] = [];
    const read = producedPositions(["127.0.0.1:1"], "ticks", { log: (l) => lines.push(l), signal: stop.signal, kafka });
    await firstBatch;
    stop.abort();
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([read, new Promise<"pending">((res) => (timer = setTimeout(() => res("pending"), 1_000)))]);
    clearTimeout(timer);
    assert.notEqual(r, "pending", "the read waits for its 120 s timeout instead of the stop");
    if (r === "pending") return;
    assert.equal(r.messages, 2);
    assert.equal(r.dedup.accept("BTC-USD", { tradeId: 101 }), false, "what was read is seeded");
    assert.deepEqual([calls.adminClosed, calls.readerStopped], [1, 1]);
    assert.equal(calls.deletedGroups.length, 1);
    assert.match(calls.deletedGroups[0]!, /^quixlab-source-seed-ticks-/);
    assert.ok(lines.some((l) => /stopped while reading what ticks holds \(2 messages read\)/.test(l)), lines.join("\n"));
  });

  it("does not connect at all when the source is already stopped", async () => {
    const { kafka, calls } = slowTopic();
    let opened = 0;
    const counting: SeedKafka = {
      ...kafka,
      openAdmin: (t) => {
        opened++;
        return kafka.openAdmin(t);
      },
    };
    const r = await producedPositions(["127.0.0.1:1"], "ticks", { log: () => undefined, signal: AbortSignal.abort(), kafka: counting });
    assert.deepEqual([r.messages, opened, calls.readerStopped], [0, 0, 0]);
  });
});
