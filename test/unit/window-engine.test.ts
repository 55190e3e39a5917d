import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { defineFeature } from "../../src/feature/define.js";
import { ohlcv } from "../../src/feature/ohlcv.js";
import type { Tick } from "../../src/tick/types.js";
import { windowStarts } from "../../src/window/assign.js";
import { type EngineSnapshot, WindowEngine } from "../../src/window/engine.js";
import { hopping, tumbling, type WindowBuilder } from "../../src/window/spec.js";
import type { WindowRecord } from "../../src/window/types.js";

const S = 1000;
const M = 60_000;
const T0 = 1_686_313_560_000; // 2023-06-09T12:26:00Z, on the minute grid

const tick = (product_id: string, time: number, price = 100, last_size = 1): Tick => ({ product_id, time, price, last_size });

function harness(window: WindowBuilder) {
  const feature = defineFeature({ name: "t", window, agg: ohlcv() });
  const emitted: { record: WindowRecord; maxTickTime: number; lastIngestMs?: number }[] = [];
  const late: { tick: Tick; key: string; watermark: number }[] = [];
  const engine = feature.engine({
    emit: (record, info) => emitted.push({ record, ...info }),
    late: (t, info) => late.push({ tick: t, ...info }),
  });
  const windows = () => emitted.map((e) => [e.record.key, e.record.start - T0, e.record.count] as const);
  return { feature, engine, emitted, late, windows };
}

describe("window assignment", () => {
  test("tumbling: [start, start + size), epoch-aligned; a tick on a boundary goes to the later window", () => {
    const w = tumbling("1m").spec;
    assert.deepEqual(windowStarts(T0, w), [T0]);
    assert.deepEqual(windowStarts(T0 - 1, w), [T0 - M]);
    assert.deepEqual(windowStarts(T0 + M - 1, w), [T0]);
    assert.deepEqual(windowStarts(T0 + M, w), [T0 + M]);
  });

  test("hopping 60 s / 1 s: every tick is in 60 windows, on the step grid", () => {
    const w = hopping("60s", "1s").spec;
    const t = T0 + 12_345;
    const starts = windowStarts(t, w);
    assert.equal(starts.length, 60);
    assert.equal(starts[0], T0 + 12_345 - 59_345);
    assert.equal(starts.at(-1), T0 + 12_000);
    assert.ok(starts.every((s) => s % 1000 === 0 && s <= t && t < s + M));
    // On a boundary: the window starting there includes it, the one ending there does not.
    const edge = windowStarts(T0, w);
    assert.equal(edge.length, 60);
    assert.deepEqual([edge[0], edge.at(-1)], [T0 - 59_000, T0]);
    // A size that is not a multiple of the step.
    assert.equal(windowStarts(T0 + 200, hopping("2500ms", "1s").spec).length, 3);
    assert.equal(windowStarts(T0 + 700, hopping("2500ms", "1s").spec).length, 2);
  });

  test("origin: the grid can be shifted (origin start uses each key's first tick)", () => {
    const w = tumbling("1m").spec;
    assert.deepEqual(windowStarts(T0 + 70_000, w, T0 + 5000), [T0 + 65_000]);
    assert.deepEqual(windowStarts(T0 + 4999, w, T0 + 5000), [T0 + 5000 - M]);
  });
});

describe("WindowEngine", () => {
  test("a window is emitted once the key's watermark reaches end + grace, not before", () => {
    const h = harness(tumbling("1m", { grace: "2s" }));
    h.engine.add(tick("A", T0 + 10 * S));
    h.engine.add(tick("A", T0 + M + 1999));
    assert.equal(h.emitted.length, 0, "watermark end + 1999 ms < end + grace");
    h.engine.add(tick("A", T0 + M + 2000));
    assert.deepEqual(h.windows(), [["A", 0, 1]]);
    assert.equal(h.emitted[0]!.record.end, T0 + M);
    assert.equal(h.engine.openWindows(), 1);
  });

  test("grace: a tick up to grace behind the watermark still merges; past it, it is late (counted, reported, not merged)", () => {
    const h = harness(tumbling("1m", { grace: "2s" }));
    h.engine.add(tick("A", T0 + 10 * S, 100));
    h.engine.add(tick("A", T0 + M + 1500, 101));
    assert.equal(h.engine.add(tick("A", T0 + 59 * S, 90)), "ok", "within grace: window still open");
    h.engine.add(tick("A", T0 + M + 2500, 102));
    assert.equal(h.engine.add(tick("A", T0 + 30 * S, 1)), "late");
    assert.equal(h.engine.lateCount(), 1);
    assert.deepEqual(h.late.map((l) => [l.key, l.watermark, l.tick.price]), [["A", T0 + M + 2500, 1]]);
    h.engine.flush();
    const first = h.emitted[0]!.record;
    assert.deepEqual([first.count, first.low, first.close], [2, 90, 90], "the late tick did not touch the final window");
  });

  test("a late tick is late even when its window never held a tick (empty final window)", () => {
    const h = harness(tumbling("1m"));
    h.engine.add(tick("A", T0 + 5 * M));
    assert.equal(h.engine.add(tick("A", T0 + 2 * M)), "late");
  });

  test("watermarks are per key: one key's progress never finalises another's windows", () => {
    const h = harness(tumbling("1m", { grace: "2s" }));
    h.engine.add(tick("A", T0));
    h.engine.add(tick("B", T0 + 10 * M));
    assert.equal(h.emitted.length, 0);
    assert.equal(h.engine.add(tick("A", T0 + 30 * S)), "ok", "A is not late because of B");
    h.engine.add(tick("A", T0 + M + 2 * S));
    assert.deepEqual(h.windows(), [["A", 0, 2]]);
  });

  test("empty windows are never emitted; flush closes every open window in (key, start) order", () => {
    const h = harness(tumbling("1m"));
    h.engine.add(tick("B", T0 + 5 * M));
    h.engine.add(tick("A", T0));
    h.engine.add(tick("A", T0 + 3 * M + 1));
    h.engine.add(tick("C", T0 + M));
    h.engine.add(tick("A", T0 + 3 * M + 2));
    assert.deepEqual(h.windows(), [["A", 0, 1]]);
    h.engine.flush();
    assert.deepEqual(h.windows(), [
      ["A", 0, 1],
      ["A", 3 * M, 2],
      ["B", 5 * M, 1],
      ["C", M, 1],
    ]);
    assert.equal(h.engine.openWindows(), 0);
  });

  test("within one add, windows become final in start order", () => {
    const h = harness(tumbling("1m", { grace: "3m" }));
    h.engine.add(tick("A", T0 + 2 * M + 1));
    h.engine.add(tick("A", T0 + 1));
    h.engine.add(tick("A", T0 + M + 1));
    h.engine.add(tick("A", T0 + 10 * M));
    assert.deepEqual(h.windows().map((w) => w[1]), [0, M, 2 * M]);
  });

  test("hopping 60 s / 1 s: one tick lands in 60 windows, each emitted once final", () => {
    const h = harness(hopping("60s", "1s", { grace: "2s" }));
    h.engine.add(tick("A", T0 + 500));
    assert.equal(h.engine.openWindows(), 60);
    h.engine.add(tick("A", T0 + 500 + 10 * S));
    h.engine.flush();
    const withFirst = h.emitted.filter((e) => e.record.start <= T0 + 500 && T0 + 500 < e.record.end);
    assert.equal(withFirst.length, 60);
    assert.equal(new Set(h.emitted.map((e) => e.record.start)).size, h.emitted.length);
    assert.ok(h.emitted.every((e) => (e.record.count as number) >= 1));
  });

  test("hopping: a tick is late only when its earliest window is final", () => {
    const h = harness(hopping("10s", "1s", { grace: "1s" }));
    h.engine.add(tick("A", T0 + 20 * S));
    // Earliest window of 10.5 s is [1 s, 11 s): final (11 s + 1 s grace <= 20 s) although [10 s, 20 s) is open.
    assert.equal(h.engine.add(tick("A", T0 + 10_500)), "late");
    // Earliest window of 19.5 s is [10 s, 20 s): 20 s + 1 s grace > 20 s, still open.
    assert.equal(h.engine.add(tick("A", T0 + 19_500)), "ok");
    assert.equal(h.engine.lateCount(), 1);
  });

  test("origin start: the grid starts at each key's first tick", () => {
    const h = harness(tumbling("1m", { origin: "start" }));
    h.engine.add(tick("A", T0 + 7 * S));
    h.engine.add(tick("B", T0 + 13 * S));
    h.engine.add(tick("A", T0 + 66 * S));
    h.engine.add(tick("A", T0 + 67 * S));
    h.engine.flush();
    assert.deepEqual(h.windows(), [
      ["A", 7 * S, 2],
      ["A", 67 * S, 1],
      ["B", 13 * S, 1],
    ]);
    const epoch = harness(tumbling("1m"));
    for (const t of [7, 66, 67]) epoch.engine.add(tick("A", T0 + t * S));
    epoch.engine.flush();
    assert.deepEqual(epoch.windows(), [
      ["A", 0, 1],
      ["A", M, 2],
    ]);
  });

  test("emit info: the window's max event time and the ingest time of the add that closed it", () => {
    const h = harness(tumbling("1m"));
    h.engine.add(tick("A", T0 + 5 * S), 111);
    h.engine.add(tick("A", T0 + 3 * S), 222);
    h.engine.add(tick("A", T0 + M), 333);
    assert.deepEqual([h.emitted[0]!.maxTickTime, h.emitted[0]!.lastIngestMs], [T0 + 5 * S, 333]);
  });

  test("snapshot/restore mid-stream gives exactly the uninterrupted result; the snapshot is JSON and a copy", () => {
    const ticks: Tick[] = [];
    let x = 7;
    for (let i = 0; i < 3000; i++) {
      x = (x * 48271) % 2147483647;
      ticks.push(tick(["A", "B", "C"][x % 3]!, T0 + i * 97 - (x % 1500), 100 + (x % 50), (x % 7) / 3));
    }
    const whole = harness(hopping("10s", "2s", { grace: "1s" }));
    for (const t of ticks) whole.engine.add(t);
    whole.engine.flush();

    const first = harness(hopping("10s", "2s", { grace: "1s" }));
    for (const t of ticks.slice(0, 1234)) first.engine.add(t);
    const snap = first.engine.snapshot();
    const text = JSON.stringify(snap);
    const emittedBefore = first.emitted.map((e) => e.record);
    first.engine.add(ticks[1234]!);
    assert.equal(JSON.stringify(snap), text, "later adds do not change a taken snapshot");
    const rest: WindowRecord[] = [];
    const restored = WindowEngine.restore(first.feature, JSON.parse(text) as EngineSnapshot, { emit: (r) => rest.push(r) });
    for (const t of ticks.slice(1234)) restored.add(t);
    restored.flush();
    assert.deepEqual([...emittedBefore, ...rest], whole.emitted.map((e) => e.record));
    assert.equal(restored.lateCount(), whole.engine.lateCount());
    assert.ok(whole.engine.lateCount() > 0, "the data has late ticks");
  });

  test("restore refuses a snapshot from a different feature version", () => {
    const a = harness(tumbling("1m", { grace: "2s" }));
    a.engine.add(tick("A", T0));
    const b = harness(tumbling("1m", { grace: "3s" }));
    assert.notEqual(a.feature.version, b.feature.version);
    assert.throws(() => WindowEngine.restore(b.feature, a.engine.snapshot(), { emit() {} }), /does not match/);
  });

  test("runs from a plain EngineSpec (no Feature): the spec's key and time pick a tick's key and event time", () => {
    const records: WindowRecord[] = [];
    const spec = {
      name: "bare",
      version: "v1",
      window: tumbling("1m").spec,
      aggregator: ohlcv(),
      key: (t: Tick) => t.product_id.toLowerCase(),
      time: (t: Tick) => t.time + 30 * S,
    };
    const engine = new WindowEngine(spec, { emit: (r) => records.push(r) });
    engine.add(tick("A", T0 + 29 * S));
    engine.add(tick("A", T0 + 31 * S));
    engine.flush();
    assert.deepEqual(
      records.map((r) => [r.key, r.start - T0, r.count]),
      [
        ["a", 0, 1],
        ["a", M, 1],
      ],
    );
    assert.deepEqual([engine.snapshot().feature, engine.snapshot().version], ["bare", "v1"]);
    assert.throws(() => WindowEngine.restore({ ...spec, version: "v2" }, engine.snapshot(), { emit() {} }), /does not match/);
  });

  test("OHLCV snapshots keep small numeric state, not rows", () => {
    const h = harness(tumbling("1h"));
    for (let i = 0; i < 1000; i++) h.engine.add(tick("A", T0 + i));
    const snap = h.engine.snapshot();
    assert.ok(JSON.stringify(snap).length < 400, JSON.stringify(snap));
  });
});
