import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { changelogTopic, checkpointKey, checkpointMessage, parseCheckpoint } from "../../src/stream/changelog.js";
import { Reservoir, type StepMetrics, writeMetricsFile } from "../../src/stream/metrics.js";

describe("stream metrics and checkpoints", () => {
  it("keeps a bounded reservoir of recent latencies with nearest-rank percentiles", () => {
    const r = new Reservoir(100);
    assert.equal(r.percentile(0.5), null);
    for (let i = 1; i <= 100; i++) r.add(i);
    assert.equal(r.percentile(0.5), 50);
    assert.equal(r.percentile(0.99), 99);
    for (let i = 0; i < 100; i++) r.add(1000);
    assert.equal(r.count, 100, "bounded");
    assert.equal(r.percentile(0.5), 1000, "old samples were replaced");
  });

  it("writes the metrics file atomically as JSON", () => {
    const dir = mkdtempSync(join(tmpdir(), "quixlab-metrics-"));
    const file = join(dir, "m.json");
    try {
      writeMetricsFile(file, { step: "s", consumed: 3 } as StepMetrics);
      assert.deepEqual(JSON.parse(readFileSync(file, "utf8")), { step: "s", consumed: 3 });
      assert.deepEqual(readdirSync(dir), ["m.json"], "no temporary file left behind");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("keys checkpoints by topic, partition and feature version, and parses only real ones", () => {
    assert.equal(changelogTopic("g", "ohlc1m"), "g.ohlc1m.changelog");
    const c = { format: 1 as const, feature: "f", version: "v1", topic: "t", partition: 5, offset: 42, engine: { format: 1 as const, feature: "f", version: "v1", seq: 0, late: 0, keys: [] }, at: 1 };
    const m = checkpointMessage("cl", 4, c);
    assert.equal(m.partition, 1, "partition 5 of the input lands on changelog partition 5 % 4");
    assert.equal(m.key, checkpointKey("t", 5, "v1"));
    assert.deepEqual(parseCheckpoint(Buffer.from(String(m.value))), c);
    assert.equal(parseCheckpoint(Buffer.from("{}")), undefined);
    assert.equal(parseCheckpoint(Buffer.from("nope")), undefined);
    assert.equal(parseCheckpoint(null), undefined);
  });
});
