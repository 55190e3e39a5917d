/**
 * The replay source (`quixlab source replay`, a child process) into the session's real Kafka: 1x keeps the
 * recording's gaps (measured as the consumer's wall time of arrival), the Kafka timestamp is the event time, the
 * value is the line as in the file; --loop goes on with each pass shifted by the recording's span; max speed;
 * --eof marks the end of input on every partition.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createTopics, readTopics, topicOffsets } from "../../src/kafka/index.js";
import { waitFor } from "../../src/util/net.js";
import { testServices, uniqueName } from "../harness/services.js";
import { readTopicUntil, startSourceChild } from "./source-helpers.js";

const T0 = Date.parse("2024-03-01T10:00:00.000Z");

function tickLine(product: string, ms: number, i: number): string {
  const time = new Date(ms).toISOString().replace(/Z$/, "123Z");
  return JSON.stringify({ type: "ticker", sequence: 1000 + i, product_id: product, price: (100 + i).toFixed(2), time, trade_id: 500 + i, last_size: "0.5" });
}

describe("quixlab source replay", { timeout: 120_000 }, () => {
  let brokers: string[];
  let dir: string;
  before(async () => {
    ({ brokers } = await testServices());
    dir = mkdtempSync(join(tmpdir(), "quixlab-source-replay-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("at 1x keeps the recording's gaps, with event time as the Kafka timestamp and each line as in the file", async (t) => {
    const offsets = [0, 300, 900, 1200, 1800, 2600];
    const lines = offsets.map((o, i) => tickLine(i % 2 ? "ETH-USD" : "BTC-USD", T0 + o, i));
    const file = join(dir, "gaps.jsonl");
    writeFileSync(file, `${lines.join("\n")}\n`);
    const topic = uniqueName(t, "ticks");
    await createTopics(brokers, [{ topic, partitions: 1 }]);
    const arrivals: { at: number; value: string; timestamp: number; key: string | null }[] = [];
    const reader = await readTopics(brokers, {
      groupId: uniqueName(t, "reader"),
      topics: [topic],
      maxWaitTimeInMs: 20,
      onBatch: (b) => {
        const at = Date.now();
        for (const m of b.messages) arrivals.push({ at, value: m.value!.toString(), timestamp: Number(m.timestamp), key: m.key?.toString() ?? null });
      },
    });
    try {
      const c = startSourceChild(["replay", "--ticks", file, "--topic", topic, "--speed", "1x", "--broker", brokers.join(",")], {});
      const [code] = await c.exited;
      assert.equal(code, 0, c.output());
      await waitFor(async () => arrivals.length >= lines.length, { timeoutMs: 20_000, what: "every line" });
    } finally {
      await reader.stop();
    }
    assert.deepEqual(arrivals.map((a) => a.value), lines, "each line as in the file, in order");
    assert.deepEqual(arrivals.map((a) => a.timestamp), offsets.map((o) => T0 + o), "Kafka timestamp = event time");
    assert.deepEqual(arrivals.map((a) => a.key), lines.map((l) => JSON.parse(l).product_id));
    const spacing = arrivals.map((a) => a.at - arrivals[0]!.at);
    for (let i = 1; i < offsets.length; i++) {
      assert.ok(Math.abs(spacing[i]! - offsets[i]!) < 200, `line ${i} arrived ${spacing[i]} ms after the first; the recording says ${offsets[i]} ms (${JSON.stringify(spacing)})`);
    }
  });

  it("--loop goes on after the last line, each pass's times shifted by the recording's span", async (t) => {
    const offsets = [0, 100, 200, 400];
    const lines = offsets.map((o, i) => tickLine("BTC-USD", T0 + o, i));
    const file = join(dir, "loop.jsonl");
    writeFileSync(file, `${lines.join("\n")}\n`);
    const topic = uniqueName(t, "ticks");
    const c = startSourceChild(["replay", "--ticks", file, "--topic", topic, "--speed", "4x", "--loop", "--broker", brokers.join(",")], {});
    // The source creates the topic it writes when it is missing; read it once it is there.
    await waitFor(async () => (await topicOffsets(brokers, topic)).length > 0, { timeoutMs: 20_000, what: `topic ${topic}` });
    const got = await readTopicUntil(brokers, topic, (m) => m.length >= 3 * lines.length, 30_000);
    c.child.kill("SIGTERM");
    assert.equal((await c.exited)[0], 0, c.output());
    const span = 400 + 1;
    for (let pass = 0; pass < 3; pass++) {
      for (let i = 0; i < lines.length; i++) {
        const m = got[pass * lines.length + i]!;
        const want = JSON.parse(lines[i]!);
        const have = JSON.parse(m.value);
        const shifted = T0 + offsets[i]! + pass * span;
        assert.equal(m.timestamp, shifted, `pass ${pass} line ${i}: timestamp shifted by ${pass} spans`);
        assert.equal(have.time, new Date(shifted).toISOString().replace(/Z$/, "123Z"), "time rewritten, sub-millisecond digits kept");
        assert.deepEqual({ ...have, time: want.time }, want, "nothing else changes");
        if (pass === 0) assert.equal(m.value, lines[i], "the first pass is the file as it is");
      }
    }
  });

  it("at max speed sends a long recording at once, then marks the end of input with --eof", async (t) => {
    const lines = Array.from({ length: 3000 }, (_, i) => tickLine(["BTC-USD", "ETH-USD", "SOL-USD"][i % 3]!, T0 + i * 1_000, i));
    const file = join(dir, "hour.jsonl");
    writeFileSync(file, `${lines.join("\n")}\n`);
    const topic = uniqueName(t, "ticks");
    await createTopics(brokers, [{ topic, partitions: 3 }]);
    const started = Date.now();
    const c = startSourceChild(["replay", "--ticks", file, "--topic", topic, "--speed", "max", "--eof", "--broker", brokers.join(","), "--json"], {});
    const [code] = await c.exited;
    assert.equal(code, 0, c.output());
    assert.ok(Date.now() - started < 30_000, "50 minutes of event time in well under a minute");
    const got = await readTopicUntil(brokers, topic, (m) => m.length >= lines.length + 3);
    const eof = got.filter((m) => m.headers["quixlab-control"] === "eof");
    assert.deepEqual(eof.map((m) => m.partition).sort(), [0, 1, 2], "one end-of-input marker per partition");
    const ticks = got.filter((m) => m.headers["quixlab-control"] !== "eof");
    assert.equal(ticks.length, lines.length);
    for (const m of ticks) assert.equal(m.timestamp, Math.floor(Date.parse(JSON.parse(m.value).time)));
    for (const m of eof) assert.ok(m.offset > Math.max(...ticks.filter((x) => x.partition === m.partition).map((x) => x.offset)), "the marker comes after the partition's ticks");
    const last = JSON.parse(c.output().trim().split("\n").find((l) => l.startsWith("{"))!);
    assert.equal(last.kind, "source");
    assert.equal(last.state, "stopped");
    assert.equal(last.emitted, lines.length);
    assert.deepEqual(last.source.products, ["BTC-USD", "ETH-USD", "SOL-USD"]);
  });
});
