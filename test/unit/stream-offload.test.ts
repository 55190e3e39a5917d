import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KafkaMessage } from "kafkajs";
import { ohlc60s } from "../../src/feature/shipped/ohlc.js";
import { eofHeaders, INGEST_HEADER } from "../../src/stream/control.js";
import { packBatch, processPacked } from "../../src/stream/packed.js";
import { PartitionProcessor, type Pending } from "../../src/stream/partition.js";
import { generateTicks } from "../../src/tick/generate.js";

const topics = { input: "in", output: "out", dlq: "in.dlq", late: "out.late" };
const t0 = Date.UTC(2023, 5, 9, 12);

/**
 * Messages as kafkajs hands them: keys and values are views into one fetch response buffer. A few are not (as if
 * decompressed elsewhere), some have no key or no value, some carry an ingest header, and each batch ends with an
 * eof marker on the last one.
 */
function kafkaMessages(lines: (string | null)[], first: number, gaps = false): KafkaMessage[] {
  const parts: Buffer[] = [];
  const spans: { key: [number, number] | null; value: [number, number] | null }[] = [];
  let at = 0;
  const put = (b: Buffer): [number, number] => {
    parts.push(Buffer.from("~~"), b);
    at += 2 + b.length;
    return [at - b.length, b.length];
  };
  lines.forEach((line, i) => {
    const key = i % 7 === 3 ? null : put(Buffer.from(`K${i % 3}`));
    spans.push({ key, value: line === null ? null : put(Buffer.from(line)) });
  });
  const response = Buffer.concat(parts);
  return lines.map((line, i) => {
    const s = spans[i]!;
    const view = (span: [number, number] | null) => (span ? response.subarray(span[0], span[0] + span[1]) : null);
    const elsewhere = i % 11 === 5 && line !== null;
    const headers: KafkaMessage["headers"] = i === lines.length - 1 ? eofHeaders() : i % 5 === 0 ? { [INGEST_HEADER]: Buffer.from(String(t0 + 40 + i)) } : {};
    return {
      // Increasing, as in a partition, with a gap every 13 messages (compaction, transaction markers).
      offset: String(first + i + (gaps ? Math.floor(i / 13) : 0)),
      key: view(s.key),
      value: elsewhere ? Buffer.from(line) : view(s.value),
      timestamp: String(t0 + i),
      headers,
      attributes: 0,
      size: 0,
    } as KafkaMessage;
  });
}

const processor = () => new PartitionProcessor({ feature: ohlc60s, topics, partition: 2, inputPartitions: 4, outputPartitions: 3, position: 100 });

/** The same batch through process() (the step's own thread) and through the packed form (the worker). */
function both(messages: KafkaMessage[], end: number): { direct: Pending; packed: Pending } {
  const a = processor();
  for (const m of messages) a.process(m);
  a.position = end;
  const b = processor();
  processPacked(packBatch(2, messages, end), b, () => undefined);
  b.position = end;
  return { direct: a.take(), packed: b.take() };
}

/** Comparable form: Buffers as text, so a view and a copy of the same bytes are equal. */
function plain(p: Pending): unknown {
  return JSON.parse(JSON.stringify({ ...p, triggers: p.triggers.length }, (_k, v) => (v?.type === "Buffer" ? Buffer.from(v.data).toString("latin1") : v)));
}

describe("stream offload (decoding and windowing in a worker thread)", () => {
  it("a packed batch gives what the messages give: windows, dead letters, late ticks, eof, state, position", () => {
    const ticks: (string | null)[] = generateTicks({ n: 4_000, seed: 5, gaps: true, outOfOrderMs: 2_500, malformedRate: 0.02 });
    ticks.splice(100, 0, null, "", Buffer.from([0xc3, 0x28]).toString("latin1"));
    for (const gaps of [false, true]) {
      const { direct, packed } = both(kafkaMessages(ticks, 100, gaps), 100 + 2 * ticks.length);
      assert.ok(direct.counts.rejected > 50 && direct.counts.emitted > 100 && direct.counts.eof === 1, "the batch has every kind of message");
      assert.ok(direct.messages.some((m) => m.topic === "out.late"), "and late ticks");
      assert.deepEqual(plain(packed), plain(direct), gaps ? "offsets with gaps" : "consecutive offsets");
      // Latency triggers come from the same ingest times (header or timestamp).
      assert.deepEqual(packed.triggers, direct.triggers);
    }
  });

  it("dead letters keep the original key and bytes, also for values outside the shared buffer", () => {
    const lines = ["not json", '{"type":"ticker"}', "also bad", "x"];
    const { packed } = both(kafkaMessages(lines, 0), 10);
    const dlq = packed.messages.filter((m) => m.topic === "in.dlq");
    assert.deepEqual(
      dlq.map((m) => [m.key?.toString() ?? null, m.value?.toString(), m.headers?.["quixlab-source-offset"]]),
      [
        ["K0", "not json", "0"],
        ["K1", '{"type":"ticker"}', "1"],
        ["K2", "also bad", "2"],
      ],
    );
  });

  it("packs an empty batch and a batch of null values", () => {
    const empty = packBatch(0, [], 7);
    assert.equal(empty.count, 0);
    assert.equal(empty.bytes.byteLength, 0);
    const { direct, packed } = both(kafkaMessages([null, null, null], 0), 3);
    assert.equal(packed.counts.rejected, 2, "two empty values; the last message is the eof marker");
    assert.deepEqual(plain(packed), plain(direct));
  });
});
