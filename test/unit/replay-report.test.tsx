/** @jsxRuntime automatic */
/** @jsxImportSource react */
// (tsx applies tsconfig.json only to src/ and cli/, so the test names its JSX runtime itself.)
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { render } from "ink-testing-library";
import { compareWindows } from "../../src/replay/parity.js";
import { type ReplayReport, reportJson, reportText } from "../../src/replay/report.js";
import { ParityReport } from "../../cli/ui/replay/ParityReport.js";
import { ReplayView } from "../../cli/ui/replay/ReplayView.js";

const bar = (start: number, high = 2) => ({ key: "ETH-USD", start, end: start + 60_000, open: 1, high, low: 0.5, close: 1.5, volume: 3, count: 2 });

function report(streamHigh: number): ReplayReport {
  const expected = [bar(0), bar(60_000)];
  const parity = compareWindows(expected, [bar(0), bar(60_000, streamHigh)]);
  return {
    feature: { ref: "f.ts#x", name: "x", version: "v1" },
    ticksFile: "ticks.jsonl",
    parity,
    rejected: 1,
    rejectedInStream: 1,
    rejections: [{ line: 7, reason: "price must be > 0, got \"-1\"", field: "price" }],
    late: 0,
    lateInStream: 0,
    explainedByLate: false,
    ticks: 10,
    windows: { batch: 2, stream: 2 },
    throughput: { producedPerSec: 1000, processedPerSec: 900, produceMs: 10, processMs: 11 },
    latency: { p50Ms: 1.5, p99Ms: 9, samples: 2 },
    broker: { provider: "local", brokers: ["127.0.0.1:9092"], startupMs: 2000 },
    redis: { provider: "local", url: "redis://127.0.0.1:6379", windowsStored: 2 },
    partitions: 3,
    speed: "max",
    chaos: { requested: 0, kills: 0, restarts: 0 },
    topics: { input: "i", output: "o", dlq: "i.dlq", late: "o.late", kept: false },
    out: null,
    durationMs: 100,
  };
}

describe("parity report", () => {
  it("Ink: says OK with the counts when parity holds", () => {
    const { lastFrame } = render(<ParityReport report={report(2)} />);
    const f = lastFrame() ?? "";
    assert.match(f, /PARITY OK/);
    assert.match(f, /matched\s+2/);
    assert.match(f, /line 7: price must be > 0/);
    assert.doesNotMatch(f, /mismatched windows/);
  });

  it("Ink: shows the mismatching window side by side with the differing field", () => {
    const { lastFrame } = render(<ParityReport report={report(2.5)} />);
    const f = lastFrame() ?? "";
    assert.match(f, /PARITY FAILED/);
    assert.match(f, /mismatched\s+1/);
    assert.match(f, /ETH-USD \[1970-01-01T00:01:00Z, 1970-01-01T00:02:00Z\)/);
    assert.match(f, /high\s+2\s+│ 2\.5/);
  });

  it("Ink: the live view shows produced and window bars", () => {
    const { lastFrame } = render(
      <ReplayView progress={{ phase: "producing", ticks: 200, produced: 100, windowsExpected: 10, windowsReceived: 0, producedPerSec: 5000, kills: 0 }} />,
    );
    assert.match(lastFrame() ?? "", /produced\s+\[█+░+\]\s+50% 100\/200/);
    assert.match(lastFrame() ?? "", /producing ticks to Kafka/);
  });

  it("plain text (not a TTY): no escape codes, the verdict and the differing field", () => {
    const text = reportText(report(2.5));
    assert.ok(!text.includes("\u001b["), "no escape codes");
    assert.match(text, /^PARITY FAILED/);
    assert.match(text, /high\s+2\s+\| 2\.5/);
  });

  it("JSON: DESIGN.md's fields first", () => {
    const j = reportJson(report(2));
    assert.deepEqual(Object.keys(j).slice(0, 6), ["parity", "rejected", "late", "ticks", "throughput", "latency"]);
    assert.deepEqual(j.parity, { ok: true, expected: 2, matched: 2, mismatched: 0, missing: 0, extra: 0, duplicates: 0 });
  });
});
