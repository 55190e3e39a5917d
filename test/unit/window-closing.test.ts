import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, test } from "node:test";
import { defineFeature } from "../../src/feature/define.js";
import { ohlcv } from "../../src/feature/ohlcv.js";
import type { Tick } from "../../src/tick/types.js";
import { partitionOf } from "../../src/util/murmur2.js";
import { WindowEngine } from "../../src/window/engine.js";
import { describeWindow, hopping, tumbling, type WindowBuilder } from "../../src/window/spec.js";
import type { WindowRecord } from "../../src/window/types.js";
import { prng } from "../../src/tick/generate.js";

const S = 1000;
const M = 60_000;
const T0 = 1_686_313_560_000; // on the minute grid

const tick = (product_id: string, time: number, price = 100, last_size = 1): Tick => ({ product_id, time, price, last_size });

function run(window: WindowBuilder, ticks: readonly Tick[], extra: Parameters<typeof defineFeature>[0] extends infer D ? Partial<D> : never = {}) {
  const feature = defineFeature({ name: "t", window, agg: ohlcv(), ...extra });
  const out: WindowRecord[] = [];
  const updates: WindowRecord[] = [];
  const late: Tick[] = [];
  const engine = feature.engine({ emit: (r) => out.push(r), late: (t) => late.push(t), update: (r) => updates.push(r) });
  for (const t of ticks) engine.add(t);
  return { feature, engine, out, updates, late };
}

const rng = prng;

/** Ticks of several products with gaps, jitter inside and beyond a 2 s grace. */
function generated(seed: number, n = 3000): Tick[] {
  const r = rng(seed);
  const products = ["BTC-USD", "ETH-USD", "SOL-USD", "ADA-USD", "DOGE-USD"];
  const out: Tick[] = [];
  let t = T0;
  for (let i = 0; i < n; i++) {
    t += Math.floor(r() * 900);
    if (r() < 0.01) t += Math.floor(r() * 5 * M); // a quiet spell
    const jitter = r() < 0.1 ? Math.floor(r() * 15 * S) : 0;
    const p = products[Math.floor(r() * r() * products.length)]!; // some products far quieter than others
    out.push(tick(p, t - jitter, 100 + Math.round(r() * 1000) / 100, Math.round(r() * 100) / 100));
  }
  return out;
}

/**
 * The oracle, written from DESIGN.md's definition and nothing of the engine: a tick is late when its earliest
 * window's end + grace is at or before the watermark of the ticks that arrived before it (the key's, or its
 * partition's); every other tick belongs to its windows. Empty windows are not emitted.
 */
function oracle(ticks: readonly Tick[], size: number, step: number, grace: number, watermarkOf: (t: Tick) => string): { windows: Map<string, Tick[]>; late: number } {
  const wm = new Map<string, number>();
  const windows = new Map<string, Tick[]>();
  let late = 0;
  for (const t of ticks) {
    const w = watermarkOf(t);
    const first = Math.floor((t.time - size) / step) * step + step;
    if (wm.has(w) && first + size + grace <= wm.get(w)!) {
      late++;
      continue;
    }
    wm.set(w, Math.max(wm.get(w) ?? t.time, t.time));
    for (let s = first; s <= Math.floor(t.time / step) * step; s += step) {
      const k = `${t.product_id}|${s}`;
      if (!windows.has(k)) windows.set(k, []);
      windows.get(k)!.push(t);
    }
  }
  return { windows, late };
}

const summary = (rs: readonly WindowRecord[]) => rs.map((r) => `${r.key}|${r.start}|${r.count}|${r.volume}`).sort();
const oracleSummary = (o: ReturnType<typeof oracle>) =>
  [...o.windows].map(([k, ts]) => `${k}|${ts.length}|${ts.reduce((a, t) => a + t.last_size, 0)}`).sort();

describe("Kafka's default partitioner", () => {
  test("partitionOf equals kafkajs' DefaultPartitioner (murmur2) for many keys and partition counts", () => {
    const { Partitioners } = createRequire(import.meta.url)("kafkajs") as typeof import("kafkajs");
    const keys = ["BTC-USD", "ETH-USD", "SOL-USD", "", "a", "ab", "abc", "abcd", "abcde", "ÄÖÜ-€", ...Array.from({ length: 300 }, (_, i) => `P-${i}-${"x".repeat(i % 7)}`)];
    for (const n of [1, 2, 3, 4, 7, 12]) {
      const partitioner = Partitioners.DefaultPartitioner();
      const partitionMetadata = Array.from({ length: n }, (_, i) => ({ partitionId: i, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));
      for (const key of keys) {
        const expected = partitioner({ topic: "t", partitionMetadata, message: { key, value: null } });
        assert.equal(partitionOf(key, n), expected, `key '${key}' on ${n} partitions`);
      }
    }
  });
});

describe('closing: "partition"', () => {
  test("a quiet key's window closes once another key on the partition passes its end + grace", () => {
    const ticks = [tick("A", T0 + 1 * S), tick("B", T0 + 2 * S), tick("B", T0 + M + 3 * S)];
    const byKey = run(tumbling("1m", { grace: "2s" }), ticks);
    assert.deepEqual(byKey.out.map((r) => r.key), ["B"], "by key: A waits for A's next tick");
    const byPart = run(tumbling("1m", { grace: "2s", closing: "partition" }), ticks);
    assert.deepEqual(byPart.out.map((r) => r.key).sort(), ["A", "B"]);
    // A tick of A for the closed minute is late now, though A itself never moved on.
    assert.equal(byPart.engine.add(tick("A", T0 + 30 * S)), "late");
  });

  test("batch with N partitions equals the oracle (one watermark per partition) on generated ticks, for 1, 3 and 4", async () => {
    const ticks = generated(7);
    for (const n of [1, 3, 4]) {
      const f = defineFeature({ name: "p", window: tumbling("1m", { grace: "2s", closing: "partition" }), agg: ohlcv() });
      const b = await f.batchRecords(ticks, { partitions: n });
      const o = oracle(ticks, M, M, 2 * S, (t) => String(partitionOf(t.product_id, n)));
      assert.deepEqual(summary(b.records), oracleSummary(o), `${n} partitions`);
      assert.equal(b.late, o.late);
      assert.ok(o.late > 0, `the generated ticks have late ones (${n} partitions)`);
    }
    // And "key" closing is the per-key oracle.
    const k = await defineFeature({ name: "k", window: tumbling("1m", { grace: "2s" }), agg: ohlcv() }).batchRecords(ticks);
    assert.deepEqual(summary(k.records), oracleSummary(oracle(ticks, M, M, 2 * S, (t) => t.product_id)));
  });

  test("hopping windows close by the partition too, and a snapshot continues exactly", () => {
    const ticks = generated(11, 800);
    const window = hopping("60s", "10s", { grace: "2s", closing: "partition" });
    const whole = run(window, ticks);
    whole.engine.flush();
    const f = defineFeature({ name: "t", window, agg: ohlcv() });
    const out: WindowRecord[] = [];
    const events = { emit: (r: WindowRecord) => out.push(r) };
    let e = f.engine(events);
    ticks.forEach((t, i) => {
      e.add(t);
      if (i % 97 === 0) e = WindowEngine.restore(f, JSON.parse(JSON.stringify(e.snapshot())), events);
    });
    e.flush();
    assert.deepEqual(summary(out), summary(whole.out));
    assert.deepEqual(summary(whole.out), oracleSummary(oracle(ticks, M, 10 * S, 2 * S, () => "p")));
  });
});

describe("idle (wall clock)", () => {
  test("a key quiet for `idle` closes its windows whose end + grace passed on the wall clock; later ticks for them are late", () => {
    const now = Date.now();
    const end = Math.floor(now / M) * M + M; // the end of the live tick's minute
    const r = run(tumbling("1m", { grace: "2s", idle: "2s" }), [tick("A", now)]);
    assert.equal(r.engine.closeIdle(now), 0, "the tick arrived just now: not idle yet");
    assert.equal(r.engine.closeIdle(end + 2 * S), 1, "quiet for ≥ 2 s and end + grace passed");
    assert.deepEqual(r.out.map((x) => [x.key, x.end]), [["A", end]]);
    assert.equal(r.engine.add(tick("A", now)), "late");
    // A window whose end + grace is still ahead of the wall clock stays open, however long the key is quiet.
    const open = run(tumbling("1m", { grace: "10s", idle: "2s" }), [tick("B", now)]);
    assert.equal(open.engine.closeIdle(end + 5 * S), 0);
    assert.equal(open.engine.openWindows(), 1);
  });

  test("a tick that arrives more than `idle` behind the wall clock (a recording, a backlog) or a restored key never starts the idle clock", () => {
    const now = Date.now();
    const old = Math.floor(now / M) * M - 2 * M;
    const replayed = run(tumbling("1m", { grace: "2s", idle: "2s" }), [tick("A", old + 5 * S)]);
    assert.equal(replayed.engine.closeIdle(now + M), 0, "a recorded tick says nothing about the wall clock");
    assert.equal(replayed.engine.add(tick("A", old + 10 * S)), "ok", "so the recording goes on without late ticks");
    const live = run(tumbling("1m", { grace: "2s", idle: "2s" }), [tick("B", now)]);
    const restored = WindowEngine.restore(live.feature, live.engine.snapshot(), { emit: () => {} });
    assert.equal(restored.closeIdle(now + 2 * M), 0, "restored: quiet until a live tick arrives");
    restored.add(tick("B", now));
    assert.equal(restored.closeIdle(now + 2 * M), 1);
  });

  test("without idle, closeIdle does nothing; batch never calls it", () => {
    const r = run(tumbling("1m"), [tick("A", T0)]);
    assert.equal(r.engine.closeIdle(Date.now() + M), 0);
    assert.equal(r.engine.openWindows(), 1);
  });
});

describe('emit: "update"', () => {
  test("one update per tick per open window it falls in; the final records are those without updates", () => {
    const ticks = generated(3, 600);
    const plain = run(hopping("60s", "10s", { grace: "2s" }), ticks);
    const upd = run(hopping("60s", "10s", { grace: "2s", emit: "update" }), ticks);
    plain.engine.flush();
    upd.engine.flush();
    assert.deepEqual(upd.out, plain.out);
    const onTime = ticks.length - upd.late.length;
    assert.equal(upd.updates.length, onTime * 6, "6 windows of 60 s every 10 s hold each tick");
    // Each update is the window's value so far: its count grows one tick at a time.
    const first = upd.updates.filter((u) => u.key === upd.updates[0]!.key && u.start === upd.updates[0]!.start);
    assert.deepEqual(first.map((u) => u.count), first.map((_, i) => i + 1));
    assert.equal(plain.feature.version, upd.feature.version, "early results do not change the state's version");
  });

  test("`every` keeps at most one update per window per `every` of event time", () => {
    const ticks = Array.from({ length: 50 }, (_, i) => tick("A", T0 + i * 200)); // 10 s of ticks, 5 per second
    const r = run(tumbling("1m").emit("update", { every: "1s" }), ticks);
    assert.equal(r.updates.length, 10);
    assert.throws(() => tumbling("1m", { every: "1s" }), /every/);
  });
});

describe('fill: "carry"', () => {
  test("every missing window between a key's first and last is emitted with the previous close, volume 0, count 0", async () => {
    const ticks = [tick("A", T0, 10), tick("A", T0 + 10 * S, 12), tick("A", T0 + 4 * M + S, 9), tick("B", T0 + 2 * M, 50)];
    const f = defineFeature({ name: "f", window: tumbling("1m"), agg: ohlcv(), fill: "carry" });
    const { records } = await f.batchRecords(ticks);
    assert.deepEqual(
      records.map((r) => [r.key, (r.start - T0) / M, r.open, r.close, r.volume, r.count]),
      [
        ["A", 0, 10, 12, 2, 2],
        ["A", 1, 12, 12, 0, 0],
        ["A", 2, 12, 12, 0, 0],
        ["A", 3, 12, 12, 0, 0],
        ["A", 4, 9, 9, 1, 1],
        ["B", 2, 50, 50, 1, 1],
      ],
    );
    assert.notEqual(f.version, defineFeature({ name: "f", window: tumbling("1m"), agg: ohlcv() }).version, "fill changes the state's version");
  });

  test("batch equals a stream of snapshots and restores, on ticks with gaps, tumbling and hopping", async () => {
    const ticks = generated(5, 1500);
    for (const window of [tumbling("1m", { grace: "2s", fill: "carry" }), hopping("60s", "20s", { grace: "2s", fill: "carry" })]) {
      const f = defineFeature({ name: "f", window, agg: ohlcv() });
      const { records } = await f.batchRecords(ticks);
      const out: WindowRecord[] = [];
      const events = { emit: (r: WindowRecord) => out.push(r) };
      let e = f.engine(events);
      ticks.forEach((t, i) => {
        e.add(t);
        if (i % 131 === 0) e = WindowEngine.restore(f, JSON.parse(JSON.stringify(e.snapshot())), events);
      });
      e.flush();
      assert.deepEqual(summary(out), summary(records), describeWindow(f.window));
      // No holes: per key, consecutive starts are one step apart.
      const step = f.window.step;
      for (const key of new Set(records.map((r) => r.key))) {
        const starts = records.filter((r) => r.key === key).map((r) => r.start);
        for (let i = 1; i < starts.length; i++) assert.equal(starts[i]! - starts[i - 1]!, step, `${key} at ${starts[i]}`);
      }
      assert.ok(records.some((r) => r.count === 0), "the gaps were filled");
    }
  });

  test("an aggregator without fill() is refused with a remedy", () => {
    const agg = { init: () => 0, add: (s: number) => s + 1, result: (s: number) => ({ n: s }) };
    const f = defineFeature({ name: "x", window: tumbling("1m"), agg, fill: "carry" });
    assert.throws(() => f.engine({ emit: () => undefined }), /fill\(previous\)/);
  });
});

describe("window options", () => {
  test("validated with the field named, described, and only closing/fill change the version", () => {
    assert.throws(() => tumbling("1m", { closing: "wall" as "key" }), /closing 'wall'/);
    assert.throws(() => tumbling("1m", { fill: "zero" as "none" }), /fill 'zero'/);
    assert.throws(() => tumbling("1m", { emit: "often" as "final" }), /emit 'often'/);
    assert.equal(describeWindow(tumbling("1m", { grace: "2s", closing: "partition", idle: "2s", fill: "carry" }).spec), "tumbling 1m (grace 2s, closing partition, idle 2s, fill carry)");
    const v = (w: WindowBuilder) => defineFeature({ name: "v", window: w, agg: ohlcv() }).version;
    assert.equal(v(tumbling("1m")), v(tumbling("1m", { closing: "key", fill: "none", emit: "final" })), "defaults leave the version as before");
    assert.equal(v(tumbling("1m")), v(tumbling("1m").idle("2s")));
    assert.notEqual(v(tumbling("1m")), v(tumbling("1m").closing("partition")));
    assert.deepEqual(Object.keys(tumbling("1m").spec), ["kind", "size", "step", "origin", "grace"]);
  });
});
