import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { InBatch, InMessage } from "../../src/kafka/index.js";
import { OutputTally } from "../../src/replay/collector.js";
import { replayNames } from "../../src/replay/plan.js";
import { eofHeaders, forwardedEof } from "../../src/stream/control.js";

const { topics } = replayNames("f", () => "r");
const win = (start: number) => ({ key: "ETH-USD", start, end: start + 60_000, open: 1, high: 2, low: 0.5, close: 1.5, volume: 3, count: 2 });
const msg = (offset: number, value: string | null, headers?: InMessage["headers"]): InMessage => ({
  offset: String(offset),
  key: null,
  value: value === null ? null : Buffer.from(value),
  timestamp: "0",
  headers,
});
const batch = (topic: string, partition: number, messages: InMessage[]): InBatch => ({ topic, partition, messages, highWatermark: "0" });
const eof = (offset: number, source: number, of: number) => {
  const m = forwardedEof(source, of);
  return msg(offset, m.value, m.headers);
};
const dead = (offset: number, sourcePartition: number, sourceOffset: number) =>
  msg(offset, "bad", { "quixlab-source-partition": Buffer.from(String(sourcePartition)), "quixlab-source-offset": Buffer.from(String(sourceOffset)) });

describe("OutputTally", () => {
  it("collects windows until every output partition carried every input partition's marker", () => {
    const t = new OutputTally(topics, 2);
    t.add(batch(topics.output, 0, [msg(0, JSON.stringify(win(0))), eof(1, 0, 2), eof(2, 1, 2)]));
    assert.equal(t.complete, false);
    t.add(batch(topics.output, 1, [msg(0, JSON.stringify(win(60_000))), eof(1, 0, 2)]));
    assert.equal(t.complete, false);
    t.add(batch(topics.output, 1, [eof(2, 1, 2)]));
    assert.equal(t.complete, true);
    assert.deepEqual(t.windows, [win(0), win(60_000)]);
    assert.equal(t.delivered(topics.output, 1), 3);
  });

  it("skips a batch read again (the reader rejoined after an outage and started over)", () => {
    const t = new OutputTally(topics, 1);
    t.add(batch(topics.output, 0, [msg(0, JSON.stringify(win(0))), msg(1, JSON.stringify(win(60_000)))]));
    t.add(batch(topics.output, 0, [msg(0, JSON.stringify(win(0))), msg(1, JSON.stringify(win(60_000))), msg(2, JSON.stringify(win(120_000)))]));
    assert.deepEqual(t.windows, [win(0), win(60_000), win(120_000)]);
    // A step that wrote a window twice (redelivery after a crash) is still seen twice: parity counts it.
    t.add(batch(topics.output, 0, [msg(3, JSON.stringify(win(120_000)))]));
    assert.equal(t.windows.length, 4);
  });

  it("ignores markers that are not forwarded ones and empty values", () => {
    const t = new OutputTally(topics, 1);
    t.add(batch(topics.output, 0, [msg(0, null, eofHeaders()), msg(1, null)]));
    assert.deepEqual(t.windows, []);
    assert.equal(t.complete, false);
  });

  it("counts dead letters and late ticks once per source offset", () => {
    const t = new OutputTally(topics, 1);
    t.add(batch(topics.dlq, 0, [dead(0, 0, 5), dead(1, 0, 9), dead(2, 0, 5)]));
    t.add(batch(topics.late, 1, [dead(0, 1, 3)]));
    assert.equal(t.rejected.size, 2);
    assert.equal(t.late.size, 1);
  });

  it("moves past offsets of batches it never saw (transaction markers)", () => {
    const t = new OutputTally(topics, 1);
    t.add(batch(topics.dlq, 0, [dead(0, 0, 1)]));
    assert.equal(t.delivered(topics.dlq, 0), 1);
    t.reached(topics.dlq, 0, 1);
    assert.equal(t.delivered(topics.dlq, 0), 2);
    t.reached(topics.dlq, 0, 0);
    assert.equal(t.delivered(topics.dlq, 0), 2, "never goes back");
  });
});
