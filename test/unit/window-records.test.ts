/**
 * A feature over another feature's records (DESIGN.md "Features over features"): redelivered records are taken
 * once, the input ends on the upstream's eof from every one of its input partitions, both survive a checkpoint;
 * indicators emit one value per input window, checkpoint their running state, and validate what they read.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { defineFeature } from "../../src/feature/define.js";
import { bollinger, ema, rollup, rsi } from "../../src/feature/indicators.js";
import { loadFeatureRef } from "../../src/feature/ref.js";
import { ohlc1m } from "../../src/feature/shipped/ohlc.js";
import type { Tick } from "../../src/tick/types.js";
import type { EngineSnapshot } from "../../src/window/engine.js";
import { restoreEngine } from "../../src/window/engines.js";
import { tumbling } from "../../src/window/spec.js";
import type { WindowRecord } from "../../src/window/types.js";

const M = 60_000;
const T0 = 1_686_312_000_000; // on the hour (so on every minute grid)
const bar = (key: string, i: number, close: number) => ({ key, start: T0 + i * M, end: T0 + (i + 1) * M, open: close, high: close + 1, low: close - 1, close, volume: 1, count: 2 }) as unknown as Tick;

function engineOf(feature: ReturnType<typeof defineFeature>, out: WindowRecord[]) {
  return feature.engine({ emit: (r) => out.push(r) });
}

describe("input from another feature", () => {
  const f = defineFeature({ name: "e3", input: ohlc1m, agg: ema(3) });

  test("a redelivered record (at or before the key's newest start) is dropped; keys are independent", () => {
    const out: WindowRecord[] = [];
    const e = engineOf(f, out);
    for (const [k, i] of [["A", 0], ["A", 1], ["B", 0], ["A", 0], ["A", 1], ["A", 2], ["B", 0]] as const) e.add(bar(k, i, 100 + i));
    assert.deepEqual(out.map((r) => [r.key, (r.start - T0) / M]), [["A", 0], ["A", 1], ["B", 0], ["A", 2]]);
  });

  test("the input ends once every upstream input partition's eof arrived; the markers seen and newest starts are checkpointed", () => {
    const out: WindowRecord[] = [];
    const e = engineOf(f, out);
    e.add(bar("A", 0, 100));
    assert.equal(e.endOfInput!(0, 3), false);
    assert.equal(e.endOfInput!(0, 3), false, "the same partition twice counts once");
    const snap = JSON.parse(JSON.stringify(e.snapshot())) as EngineSnapshot;
    const r = restoreEngine(f, snap, { emit: (x) => out.push(x) });
    r.add(bar("A", 0, 100));
    assert.equal(out.length, 1, "restored, it still knows A's newest start");
    assert.equal(r.endOfInput!(2, 3), false);
    assert.equal(r.endOfInput!(1, 3), true, "all three partitions ended");
    assert.equal(r.endOfInput!(undefined, undefined), true, "a replay's own marker ends it at once");
  });

  test("the version follows the upstream's; an input that is not a feature, or no window and no input, is refused", () => {
    const other = defineFeature({ name: "e3", input: defineFeature({ name: "ohlc1m", window: tumbling("1m", { grace: "3s" }), agg: ohlc1m.aggregator }), agg: ema(3) });
    assert.notEqual(other.version, f.version);
    assert.throws(() => defineFeature({ name: "x", input: {} as never, agg: ema(3) }), /input must be another feature/);
    assert.throws(() => defineFeature({ name: "x", agg: ema(3) } as never), /has no window/);
  });

  test("'#export.input' names the feature an export reads", async () => {
    const up = await loadFeatureRef("src/feature/shipped/indicators.ts#rsi14.input", process.cwd());
    assert.equal(up.name, "ohlc1m");
    await assert.rejects(loadFeatureRef("src/feature/shipped/indicators.ts#rsi14.input.input", process.cwd()), /names no input feature of 'ohlc1m'/);
  });
});

describe("indicators", () => {
  const run = (agg: Parameters<typeof defineFeature>[0]["agg"], closes: number[]) => {
    const out: WindowRecord[] = [];
    const e = engineOf(defineFeature({ name: "i", input: ohlc1m, agg }), out);
    closes.forEach((c, i) => {
      e.add(bar("A", i, c));
    });
    return out;
  };

  test("ema from the first window, rsi from the second, bollinger from the n-th", () => {
    const closes = [10, 11, 12, 11, 13, 14];
    const e = run(ema(3), closes);
    assert.equal(e.length, 6);
    assert.equal(e[0]!.ema, 10);
    assert.ok(Math.abs((e[1]!.ema as number) - 10.5) < 1e-12, "α = 2/(3+1)");
    const r = run(rsi(2), closes);
    assert.equal(r.length, 5);
    assert.equal(r[0]!.rsi, 100, "only a gain so far");
    const b = run(bollinger(3, 2), closes);
    assert.equal(b.length, 4);
    assert.equal(b[0]!.mid, 11);
    assert.ok(Math.abs((b[0]!.upper as number) - (11 + 2 * Math.sqrt(2 / 3))) < 1e-12, "population standard deviation");
  });

  test("rsi is null when nothing moved; an input without the field is refused with the field's name", () => {
    assert.equal(run(rsi(3), [5, 5, 5]).at(-1)!.rsi, null);
    const e = engineOf(defineFeature({ name: "i", input: ohlc1m, agg: ema(3, { field: "vwap" }) }), []);
    assert.throws(() => e.add(bar("A", 0, 1)), /no numeric 'vwap'/);
    assert.throws(() => ema(0), /n must be a whole number/);
  });

  test("the running state is checkpointed: a restored indicator continues exactly", () => {
    const closes = Array.from({ length: 40 }, (_, i) => 100 + Math.sin(i) * 5);
    const f = defineFeature({ name: "i", input: ohlc1m, agg: rsi(14) });
    const whole: WindowRecord[] = [];
    const a = engineOf(f, whole);
    closes.forEach((c, i) => {
      a.add(bar("A", i, c));
    });
    const parts: WindowRecord[] = [];
    const b = engineOf(f, parts);
    closes.slice(0, 17).forEach((c, i) => {
      b.add(bar("A", i, c));
    });
    const c = restoreEngine(f, JSON.parse(JSON.stringify(b.snapshot())), { emit: (x) => parts.push(x) });
    closes.slice(17).forEach((v, i) => {
      c.add(bar("A", i + 17, v));
    });
    assert.deepEqual(parts, whole);
  });

  test("rollup folds OHLCV records: open of the earliest, close of the latest, extremes, sums", () => {
    const out: WindowRecord[] = [];
    const e = engineOf(defineFeature({ name: "r", input: ohlc1m, window: tumbling("3m"), agg: rollup() }), out);
    [10, 12, 11].forEach((c, i) => {
      e.add(bar("A", i, c));
    });
    e.flush();
    assert.deepEqual(out.map(({ open, high, low, close, volume, count }) => ({ open, high, low, close, volume, count })), [{ open: 10, high: 13, low: 9, close: 11, volume: 3, count: 6 }]);
  });
});

describe("input from another feature: what it refuses, and count windows", () => {
  test('closing "partition" over records is refused (batch feeds them key after key)', () => {
    assert.throws(() => defineFeature({ name: "x", input: ohlc1m, window: tumbling("1h"), agg: rollup(), closing: "partition" }), /closing "partition" over another feature's records/);
  });

  test("count windows' records are taken in index order, even when two share a start", () => {
    const out: WindowRecord[] = [];
    const e = defineFeature({ name: "n", input: ohlc1m, agg: ema(2) }).engine({ emit: (r) => out.push(r) });
    const rec = (i: number, start: number, close: number) => ({ key: "A", start, end: start + 1, index: i, close }) as unknown as Tick;
    for (const r of [rec(0, T0, 10), rec(1, T0, 11), rec(1, T0, 11), rec(2, T0 - 5, 12)]) e.add(r);
    assert.deepEqual(out.map((r) => r.start - T0), [0, 0, -5], "index 1 once (a redelivery dropped), index 2 despite an earlier start");
  });
});
