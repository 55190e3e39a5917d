import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { defineFeature } from "../../src/feature/define.js";
import { ohlcv } from "../../src/feature/ohlcv.js";
import { ohlc, ohlc1m, ohlc60s } from "../../src/feature/shipped/ohlc.js";
import type { WindowRecord } from "../../src/feature/types.js";
import { chunkMessages } from "../../src/kafka/index.js";
import { EofTracker, eofHeaders, isEof, readEofMarker } from "../../src/stream/control.js";
import { PartitionProcessor, type Pending } from "../../src/stream/partition.js";
import { decodeMessage, type InMessage, type OutMessage } from "../../src/stream/serde.js";
import { generateTicks } from "../../src/tick/generate.js";
import { sliding, tumbling } from "../../src/window/spec.js";

const topics = { input: "in", output: "out", dlq: "in.dlq", late: "out.late" };
const t0 = Date.UTC(2023, 5, 9, 12);

function msg(offset: number, value: string | Buffer | null, headers?: InMessage["headers"]): InMessage {
  return { offset: String(offset), key: null, value: typeof value === "string" ? Buffer.from(value) : value, timestamp: String(t0 + offset), headers };
}

const tick = (product: string, ms: number, price = 10, size = 1) =>
  JSON.stringify({ type: "ticker", product_id: product, price: String(price), last_size: String(size), time: new Date(ms).toISOString() });

const byWindow = (a: WindowRecord, b: WindowRecord) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.start - b.start);
const header = (m: OutMessage, h: string) => m.headers?.[h]?.toString();

/** Feed lines through processors, checkpointing (take) every `every` messages and restoring from the snapshot. */
function stream(feature: typeof ohlc1m, lines: string[], every = Infinity, outputPartitions = 2) {
  const opts = { feature, topics, partition: 0, inputPartitions: 1, outputPartitions, position: 0 };
  let proc = new PartitionProcessor(opts);
  const all: Pending[] = [];
  lines.forEach((line, i) => {
    proc.process(msg(i, line));
    if ((i + 1) % every === 0) {
      const p = proc.take();
      all.push(p);
      // A restart: a new processor continues from the checkpoint, as after a crash or a rebalance.
      proc = new PartitionProcessor({ ...opts, position: p.position, snapshot: JSON.parse(JSON.stringify(p.snapshot)) });
    }
  });
  proc.process(msg(lines.length, null, eofHeaders()));
  all.push(proc.take());
  return {
    windows: all.flatMap((p) => p.windows),
    messages: all.flatMap((p) => p.messages),
    position: all.at(-1)!.position,
    counts: all.reduce((s, p) => ({ rejected: s.rejected + p.counts.rejected, late: s.late + p.counts.late, eof: s.eof + p.counts.eof }), { rejected: 0, late: 0, eof: 0 }),
  };
}

describe("stream partition processing", () => {
  it("emits exactly the batch windows, with checkpoints and restores in between", async () => {
    const lines = generateTicks({ n: 6_000, seed: 11, gaps: true, outOfOrderMs: 1_500, malformedRate: 0.01 });
    for (const feature of [ohlc1m, ohlc60s]) {
      const batch = await feature.batchRecords(lines);
      for (const every of [Infinity, 997]) {
        const s = stream(feature, lines, every);
        assert.deepEqual([...s.windows].sort(byWindow), batch.records, `${feature.name}, checkpoint every ${every}`);
        assert.equal(s.counts.rejected, batch.rejected);
        assert.equal(s.counts.late, batch.late);
        assert.equal(s.position, lines.length + 1, "position is past the eof marker");
        const outputs = s.messages.filter((m) => m.topic === "out" && !isEof(m.headers));
        assert.equal(outputs.length, batch.records.length);
        assert.deepEqual(JSON.parse(String(outputs[0]!.value)), s.windows[0]);
        assert.equal(outputs[0]!.key, s.windows[0]!.key);
        assert.equal(header(outputs[0]!, "quixlab-feature"), feature.name);
        assert.equal(header(outputs[0]!, "quixlab-feature-version"), feature.version);
      }
    }
  });

  it("sends rejects to the dead-letter topic with the original bytes, the reason and the source offset", () => {
    const huge = Buffer.alloc(100_000, 0x61);
    const badUtf8 = Buffer.from([0xff, 0xfe, 0x7b]);
    const lines: (string | Buffer | null)[] = [tick("ETH-USD", t0), "{not json", null, huge, badUtf8, JSON.stringify({ type: "ticker", product_id: "ETH-USD", price: "-1", last_size: "1", time: "2023-06-09T12:00:00Z" }), "[1,2]"];
    const proc = new PartitionProcessor({ feature: ohlc1m, topics, partition: 3, inputPartitions: 4, outputPartitions: 1, position: 0 });
    lines.forEach((v, i) => {
      proc.process({ ...msg(i, v), key: Buffer.from("k") });
    });
    const p = proc.take();
    const dlq = p.messages.filter((m) => m.topic === "in.dlq");
    assert.equal(p.counts.rejected, 6);
    assert.deepEqual(
      dlq.map((m) => header(m, "quixlab-reason")),
      ["bad JSON", "empty value", "too large", "bad JSON", "non-positive", "not an object"],
    );
    assert.deepEqual(dlq[0]!.value, Buffer.from("{not json"), "original bytes");
    assert.equal(dlq[1]!.value, null);
    assert.deepEqual(dlq[3]!.value, badUtf8);
    assert.equal(header(dlq[4]!, "quixlab-field"), "price");
    assert.equal(header(dlq[0]!, "quixlab-source-topic"), "in");
    assert.equal(header(dlq[0]!, "quixlab-source-partition"), "3");
    assert.equal(header(dlq[0]!, "quixlab-source-offset"), "1");
    assert.deepEqual(dlq[0]!.key, Buffer.from("k"));
    assert.equal(p.position, lines.length);
  });

  it("cuts oversized dead letters so they fit the broker", () => {
    const proc = new PartitionProcessor({ feature: ohlc1m, topics, partition: 0, inputPartitions: 1, outputPartitions: 1, position: 0, maxValueBytes: 2_000_000 });
    proc.process(msg(0, Buffer.alloc(900_000, 0x7b)));
    const [dl] = proc.take().messages;
    assert.equal(header(dl!, "quixlab-reason"), "bad JSON");
    assert.equal(header(dl!, "quixlab-truncated"), "900000");
    assert.equal((dl!.value as Buffer).length, 256 * 1024);
  });

  it("sends a tick beyond grace to the late topic, with the key's watermark", () => {
    const f = ohlc({ size: "1m", grace: "2s", name: "late_test" });
    const proc = new PartitionProcessor({ feature: f, topics, partition: 0, inputPartitions: 1, outputPartitions: 1, position: 0 });
    const raw = tick("BTC-USD", t0 + 10_000);
    [tick("BTC-USD", t0 + 10_000), tick("BTC-USD", t0 + 62_500), raw, tick("BTC-USD", t0 + 61_000)].forEach((l, i) => {
      proc.process(msg(i, l));
    });
    const p = proc.take();
    assert.equal(p.counts.late, 1);
    const late = p.messages.filter((m) => m.topic === "out.late");
    assert.equal(late.length, 1);
    assert.deepEqual(late[0]!.value, Buffer.from(raw), "the tick as received");
    assert.equal(late[0]!.key, "BTC-USD");
    assert.equal(header(late[0]!, "quixlab-reason"), "late");
    assert.equal(header(late[0]!, "quixlab-watermark"), String(t0 + 62_500));
    assert.equal(header(late[0]!, "quixlab-source-offset"), "2");
    assert.deepEqual(p.windows.map((w) => [w.start, w.count]), [[t0, 1]], "the first window closed, without the late tick");
  });

  it("on eof flushes every open window and marks every output partition", () => {
    const proc = new PartitionProcessor({ feature: ohlc1m, topics, partition: 2, inputPartitions: 4, outputPartitions: 3, position: 0 });
    proc.process(msg(0, tick("A-USD", t0)));
    proc.process(msg(1, tick("B-USD", t0 + 1)));
    proc.process(msg(2, null, eofHeaders()));
    const p = proc.take();
    assert.equal(p.counts.eof, 1);
    assert.equal(proc.openWindows(), 0);
    assert.deepEqual(p.windows.map((w) => w.key), ["A-USD", "B-USD"]);
    const markers = p.messages.filter((m) => isEof(m.headers));
    assert.deepEqual(markers.map((m) => m.partition), [0, 1, 2]);
    assert.deepEqual(readEofMarker(markers[0]!.headers), { sourcePartition: 2, sourcePartitions: 4 });
    assert.ok(p.messages.indexOf(markers[0]!) > p.messages.findIndex((m) => !isEof(m.headers)), "markers follow the windows");
  });

  it("decodes control messages before anything else and never throws", () => {
    assert.deepEqual(decodeMessage({ value: Buffer.from("x"), headers: { "quixlab-control": Buffer.from("eof") } }), { kind: "eof" });
    assert.equal(decodeMessage({ value: Buffer.from("x"), headers: { "quixlab-control": Buffer.from("other") } }).kind, "reject");
    assert.equal(decodeMessage({ value: Buffer.from("123") }).kind, "reject");
    assert.equal(decodeMessage({ value: Buffer.from('{"type":"ticker","product_id":5}') }).kind, "reject");
    assert.equal(decodeMessage({ value: Buffer.from(tick("X-USD", t0)) }).kind, "tick");
  });

  it("knows an output is complete only when every output partition has every input partition's marker", () => {
    const marker = (p: number) => ({ "quixlab-control": "eof", "quixlab-source-partition": String(p), "quixlab-source-partitions": "2" });
    const t = new EofTracker(2);
    assert.equal(t.add(0, { "quixlab-feature": "x" }), false);
    t.add(0, marker(0));
    t.add(0, marker(1));
    t.add(1, marker(1));
    assert.equal(t.complete, false);
    t.add(1, marker(1));
    assert.equal(t.complete, false, "a repeated marker (redelivery) does not count twice");
    t.add(1, marker(0));
    assert.equal(t.complete, true);
  });

  it("measures latency from the ingest header when a replay stamped one, else from the message timestamp", () => {
    const feature = ohlc({ size: "1s", grace: "0s", name: "ingest_1s" });
    const proc = new PartitionProcessor({ feature, topics, partition: 0, inputPartitions: 1, outputPartitions: 1, position: 0 });
    const at = (offset: number, ms: number, headers?: InMessage["headers"]) => proc.process(msg(offset, tick("X-USD", ms), headers));
    // Each tick closes the window before it, so each trigger is the ingest time of the tick that closed one.
    at(0, t0);
    at(1, t0 + 1_000, { "quixlab-ingest-ms": Buffer.from("1700000000123") });
    at(2, t0 + 2_000, { "quixlab-ingest-ms": "1700000000456" });
    at(3, t0 + 3_000);
    at(4, t0 + 4_000, { "quixlab-ingest-ms": [Buffer.from("1"), Buffer.from("1700000000789")] });
    const before = Date.now();
    at(5, t0 + 5_000, { "quixlab-ingest-ms": Buffer.from("12x") });
    const p = proc.take();
    assert.equal(p.windows.length, 5);
    assert.deepEqual(p.triggers.slice(0, 4), [1700000000123, 1700000000456, t0 + 3, 1700000000789]);
    assert.ok(p.triggers[4]! >= before, "a header that is not a number: the wall clock, as before");
  });

  it("splits what a checkpoint produces into requests the broker accepts, keeping order", () => {
    const big = (i: number): OutMessage => ({ topic: i % 2 ? "a" : "b", key: String(i), value: Buffer.alloc(200_000), headers: { h: "x" } });
    const msgs = Array.from({ length: 7 }, (_, i) => big(i));
    const chunks = chunkMessages(msgs, 512 * 1024);
    assert.deepEqual(chunks.map((c) => c.length), [2, 2, 2, 1]);
    assert.deepEqual(chunks.flat(), msgs, "same messages, same order");
    assert.deepEqual(chunkMessages([big(0), big(1)], 1).map((c) => c.length), [1, 1], "a message larger than the limit still goes, alone");
    assert.deepEqual(chunkMessages([]), []);
  });
});

describe("watermarks for the online store", () => {
  it("each key whose watermark moved carries it (with the windows it made final), and eof after the flush", () => {
    const proc = new PartitionProcessor({ feature: ohlc1m, topics, partition: 0, inputPartitions: 1, outputPartitions: 1, position: 0 });
    const lines = [tick("A", t0), tick("B", t0 + 1_000), tick("A", t0 + 62_500), tick("B", t0 + 30_000)];
    for (const [i, l] of lines.entries()) proc.process(msg(i, l));
    const p = proc.take();
    assert.deepEqual(p.windows.map((w) => w.key), ["A"], "A's first minute closed at its watermark");
    assert.deepEqual(p.watermarks, [["A", t0 + 62_500], ["B", t0 + 30_000]], "every key whose watermark moved; A's closed its minute");
    proc.process(msg(lines.length, null, eofHeaders()));
    const end = proc.take();
    assert.deepEqual(end.watermarks.sort(), [["A", `eof@${t0 + 62_500}`], ["B", `eof@${t0 + 30_000}`]], "eof, with each key's latest event time");
    assert.deepEqual(proc.take().watermarks, [], "nothing new: no watermark to store");
  });

  it('under closing "partition", eof carries each key\'s own latest event time, and a key stays ended while others go on', () => {
    for (const window of [tumbling("1m", { grace: "2s", closing: "partition" }), sliding("1m", { grace: "2s", closing: "partition" })]) {
      const feature = defineFeature({ name: "p", window, agg: ohlcv() });
      const proc = new PartitionProcessor({ feature, topics, partition: 0, inputPartitions: 1, outputPartitions: 1, position: 0 });
      const lines = [tick("A", t0), tick("B", t0 + 1_000), tick("A", t0 + 62_500), tick("B", t0 + 30_000)];
      for (const [i, l] of lines.entries()) proc.process(msg(i, l));
      assert.deepEqual(proc.take().watermarks.sort(), [["A", t0 + 62_500], ["B", t0 + 62_500]], `${window.spec.kind}: both closed by the partition's watermark`);
      proc.process(msg(lines.length, null, eofHeaders()));
      // Batch measures a key's ranges at eof from its latest tick: B's is t0 + 30 s, not the partition's t0 + 62.5 s.
      assert.deepEqual(proc.take().watermarks.sort(), [["A", `eof@${t0 + 62_500}`], ["B", `eof@${t0 + 30_000}`]], window.spec.kind);
      // A new run with ticks of A only: A's watermark moves on, B (no tick of its own) stays ended.
      proc.process(msg(lines.length + 1, tick("A", t0 + 200_000)));
      const next = proc.take();
      assert.deepEqual(next.watermarks, [["A", t0 + 200_000]], `${window.spec.kind}: only A moved`);
      // So does a step restarted from that checkpoint: B's end is part of it.
      const again = new PartitionProcessor({ feature, topics, partition: 0, inputPartitions: 1, outputPartitions: 1, position: next.position, snapshot: JSON.parse(JSON.stringify(next.snapshot)) });
      again.process(msg(lines.length + 2, tick("A", t0 + 300_000)));
      assert.deepEqual(again.take().watermarks, [["A", t0 + 300_000]], `${window.spec.kind}: only A moved, after a restart`);
    }
  });
});
