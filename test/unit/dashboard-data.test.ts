/** The dashboard's pure core: rates from counter deltas, a source's health, freshness, flow order, the open window. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatAge, formatInterval } from "../../cli/ui/dashboard/format.js";
import type { Candle } from "../../src/chart/candles.js";
import { chartCapacity } from "../../src/chart/terminal.js";
import { flowRanks, orderByFlow } from "../../src/pipeline/dashboard-graph.js";
import { advanceRates, ageMs, isSource, reportedWindowEnd, sourceView } from "../../src/pipeline/dashboard-rates.js";
import { inProgressOf } from "../../src/pipeline/dashboard-store.js";
import { initialMetrics, type StepMetrics } from "../../src/stream/metrics.js";

function metrics(over: Partial<StepMetrics>): StepMetrics {
  const id = { step: "s", replica: "0", feature: "ohlc1m", version: "v", processing: "at-least-once", redis: "up" } as const;
  return { ...initialMetrics({ ...id, inputTopic: "ticks", outputTopic: "candles", consumerGroup: "s" }, 0), state: "running", heartbeatAt: 1_000, ...over };
}

const node = (name: string, inputs: string[], outputs: string[], role: "source" | "step" = "step") => ({ name, role, inputs, outputs });

describe("rates", () => {
  it("rates late, rejected and updates per second from the deltas between two reports", () => {
    const a = advanceRates(undefined, { s: [metrics({ consumed: 1_000, emitted: 10, rejected: 4, late: 2, updates: 900, heartbeatAt: 10_000 })] });
    const b = advanceRates(a.sample, { s: [metrics({ consumed: 21_000, emitted: 12, rejected: 10, late: 3, updates: 18_900, heartbeatAt: 12_000 })] });
    assert.deepEqual(b.rates.s, { consumed: 10_000, emitted: 1, rejected: 3, late: 0.5, updates: 9_000 });
  });

  it("sums replicas, and treats a missing counter (an older runtime without `updates`) as 0", () => {
    const old = (r: string, consumed: number, at: number) => {
      const m = metrics({ replica: r, consumed, heartbeatAt: at });
      delete (m as Partial<StepMetrics>).updates;
      return m;
    };
    const a = advanceRates(undefined, { s: [old("0", 0, 1_000), old("1", 0, 1_000)] });
    const b = advanceRates(a.sample, { s: [old("0", 500, 2_000), old("1", 100, 2_000)] });
    assert.equal(b.rates.s!.consumed, 600);
    assert.equal(b.rates.s!.updates, 0);
  });
});

describe("sources", () => {
  it("is a source when its metrics say so, or when it writes topics and reads none", () => {
    assert.equal(isSource({ inputs: [], outputs: ["ticks"] }, []), true);
    assert.equal(isSource({ inputs: ["ticks"], outputs: ["c"] }, []), false);
    assert.equal(isSource({ inputs: ["ticks"], outputs: ["c"] }, [metrics({ kind: "source" })]), true);
    assert.equal(isSource({ inputs: [], outputs: ["c"] }, [metrics({ kind: "step" })]), false);
  });

  it("combines the replicas' feed reports: connected only if all are, counts summed, the newest message", () => {
    const src = (connected: boolean, reconnects: number, lastMessageAt: number | null) => ({ type: "coinbase", endpoint: "ws://x", products: ["ETH-USD", "BTC-USD"], connected, reconnects, duplicates: 1, lastMessageAt });
    const v = sourceView([metrics({ kind: "source", source: src(true, 1, 5_000) }), metrics({ replica: "1", kind: "source", source: src(false, 2, 7_000) })]);
    assert.deepEqual(v, { type: "coinbase", endpoint: "ws://x", products: ["ETH-USD", "BTC-USD"], connected: false, reconnects: 3, duplicates: 2, lastMessageAt: 7_000 });
    assert.deepEqual(sourceView([metrics({ kind: "source" })]), { type: null, endpoint: null, products: [], connected: null, reconnects: 0, duplicates: 0, lastMessageAt: null });
  });
});

describe("freshness", () => {
  it("is now − the largest last window end the replicas report; unknown until one is written", () => {
    assert.equal(reportedWindowEnd([metrics({ lastWindowEnd: 60_000 }), metrics({ replica: "1", lastWindowEnd: 120_000 })]), 120_000);
    assert.equal(reportedWindowEnd([metrics({ lastWindowEnd: null })]), null);
    const old = metrics({});
    delete (old as Partial<StepMetrics>).lastWindowEnd;
    assert.equal(reportedWindowEnd([old]), undefined, "an older runtime: the dashboard falls back to the store");
    assert.equal(ageMs(125_000, 120_000), 5_000);
    assert.equal(ageMs(100_000, 120_000), 0, "a window ending after the wall clock is fresh, not negative");
    assert.equal(ageMs(1, null), null);
  });

  it("formats ages and intervals for narrow columns", () => {
    assert.deepEqual([null, 400, 42_000, 90_000, 5 * 3_600_000, 3 * 86_400_000, 2.5 * 365.25 * 86_400_000].map(formatAge), ["-", "0.4s", "42s", "1m", "5h", "3d", "2.5y"]);
    assert.deepEqual([1_000, 60_000, 3_600_000, 86_400_000, 1_500].map(formatInterval), ["1s", "1m", "1h", "1d", "1500ms"]);
  });
});

describe("flow order", () => {
  it("puts sources first, then the steps reading their topics, then downstream, keeping descriptor order within a rank", () => {
    const steps = [node("alerts", ["ema"], []), node("ema", ["candles"], ["ema"]), node("candles", ["ticks"], ["candles"]), node("vwap", ["ticks"], ["vwap"]), node("replay", [], ["ticks"], "source")];
    assert.deepEqual(
      orderByFlow(steps).map((s) => [s.name, s.rank]),
      [["replay", 0], ["candles", 1], ["vwap", 1], ["ema", 2], ["alerts", 3]],
    );
  });

  it("ranks a step reading a topic nobody writes as if an outside source fed it, and survives a cycle", () => {
    assert.deepEqual(flowRanks([node("a", ["external"], ["x"]), node("b", ["x"], [])]), { a: 1, b: 2 });
    const ranks = flowRanks([node("a", ["y"], ["x"]), node("b", ["x"], ["y"])]);
    assert.ok(ranks.a! <= 2 && ranks.b! <= 2, JSON.stringify(ranks));
    assert.deepEqual(flowRanks([node("self", ["t"], ["t"])]), { self: 1 });
  });
});

describe("the in-progress candle", () => {
  const c = (start: number, extra: Record<string, unknown> = {}) => JSON.stringify({ key: "K", start, end: start + 60_000, open: 1, high: 2, low: 0.5, close: 1.5, volume: 1, count: 3, ...extra });
  const finals: Candle[] = [JSON.parse(c(0)) as Candle, JSON.parse(c(60_000)) as Candle];

  it("is the latest hash when it holds an update (final false) newer than every final window", () => {
    const live = inProgressOf([c(120_000, { final: false }), "false"], finals);
    assert.equal(live?.start, 120_000);
    assert.equal((live as Record<string, unknown>).final, undefined, "the flag is not part of the candle");
  });

  it("is nothing for a final window, for data without the flag, or for an update not newer than the last final", () => {
    assert.equal(inProgressOf([c(120_000), "true"], finals), null);
    assert.equal(inProgressOf([c(120_000), null], finals), null, "older data lacks the field: it is final");
    assert.equal(inProgressOf([c(60_000, { final: false }), "false"], finals), null);
    assert.equal(inProgressOf([null, null], finals), null);
    assert.equal(inProgressOf(["not json", "false"], finals), null);
    assert.equal(inProgressOf([c(0, { final: false }), null], [])?.start, 0, "the json's own flag is enough");
  });

  it("fetches as many candles as the chart shows: at 80 columns over an hour of 1-minute candles", () => {
    assert.equal(chartCapacity(80), 68);
    assert.ok(chartCapacity(80) >= 30);
  });
});
