import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { distinctWindows } from "../../src/replay/parity.js";
import { buildReport, type ReplayFacts, reportJson } from "../../src/replay/report.js";

const bar = (key: string, start: number, high = 2) => ({ key, start, end: start + 60_000, open: 1, high, low: 0.5, close: 1.5, volume: 3, count: 2 });

function facts(over: Partial<ReplayFacts> = {}): ReplayFacts {
  return {
    feature: { ref: "f.ts#x", name: "x", version: "v1" },
    ticksFile: "ticks.jsonl",
    batch: {
      records: [bar("A", 0), bar("A", 60_000)],
      rejected: 25,
      rejections: Array.from({ length: 25 }, (_, i) => ({ line: i + 1, reason: "bad-json", raw: "{", ...(i === 0 ? { detail: "not JSON", field: "price" } : {}) })),
      late: 0,
    },
    lateTicks: [],
    streamed: [bar("A", 60_000), bar("A", 0), bar("A", 0)],
    streamWindows: 2,
    rejectedInStream: 25,
    lateInStream: 0,
    produced: 1_000,
    produceMs: 400,
    processMs: 0,
    latency: { p50: 1.5, p99: 9, samples: 2 },
    broker: { provider: "local", brokers: ["127.0.0.1:9092"], startupMs: 2000 },
    redis: { provider: "none", url: null, windowsStored: null },
    partitions: 3,
    speed: "max",
    chaos: { requested: 2, kills: 2, restarts: 2 },
    topics: { input: "i", output: "o", dlq: "i.dlq", late: "o.late", kept: false },
    out: null,
    durationMs: 100,
    ...over,
  };
}

describe("buildReport", () => {
  it("compares the stream with the batch and carries the counts", () => {
    const r = buildReport(facts());
    assert.equal(r.parity.ok, true);
    assert.equal(r.parity.duplicates, 1);
    assert.deepEqual(r.windows, { batch: 2, stream: 2 });
    assert.equal(r.ticks, 1_000);
    assert.deepEqual(r.throughput, { producedPerSec: 2_500, processedPerSec: 1_000_000, produceMs: 400, processMs: 0 });
    assert.deepEqual(r.latency, { p50Ms: 1.5, p99Ms: 9, samples: 2 });
    assert.equal(r.rejections.length, 20, "the first 20 rejections");
    assert.deepEqual(r.rejections[0], { line: 1, reason: "not JSON", field: "price" });
    assert.deepEqual(r.rejections[1], { line: 2, reason: "bad-json", field: undefined });
    assert.equal(r.explainedByLate, false);
  });

  it("says when late ticks explain every difference, and has no latency without metrics", () => {
    const r = buildReport(facts({ streamed: [bar("A", 0), bar("A", 60_000, 3)], latency: undefined, lateTicks: [{ key: "A", time: 61_000 }] }));
    assert.equal(r.parity.ok, false);
    assert.equal(r.explainedByLate, true);
    assert.deepEqual(r.latency, { p50Ms: null, p99Ms: null, samples: 0 });
  });

  it("keeps the report's key order and the --json shape", () => {
    const r = buildReport(facts());
    assert.deepEqual(Object.keys(r), [
      "feature", "ticksFile", "parity", "rejected", "rejectedInStream", "rejections", "late", "lateInStream", "explainedByLate", "ticks",
      "windows", "throughput", "latency", "broker", "redis", "partitions", "speed", "chaos", "topics", "out", "durationMs",
    ]);
    assert.deepEqual(Object.keys(reportJson(r)), [
      "parity", "rejected", "late", "ticks", "throughput", "latency", "explainedByLate", "feature", "ticksFile", "windows", "rejectedInStream",
      "lateInStream", "rejections", "mismatches", "missingWindows", "extraWindows", "broker", "redis", "partitions", "speed", "chaos", "topics", "out", "durationMs",
    ]);
  });
});

describe("distinctWindows", () => {
  it("keeps each window once (the last copy) in key, start, end order", () => {
    const out = distinctWindows([bar("B", 0), bar("A", 60_000), bar("A", 0, 1), bar("A", 0, 5)]);
    assert.deepEqual(out, [bar("A", 0, 5), bar("A", 60_000), bar("B", 0)]);
  });
});
