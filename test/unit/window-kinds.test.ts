/**
 * Sliding, session and count windows (DESIGN.md "More window kinds") against oracles written from the definitions
 * alone, on generated ticks with jitter inside grace; then late handling, merging, checkpoint/restore, versions,
 * early results and the options each kind refuses.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { defineFeature } from "../../src/feature/define.js";
import { ohlcv } from "../../src/feature/ohlcv.js";
import type { Tick } from "../../src/tick/types.js";
import type { EngineSnapshot } from "../../src/window/engine.js";
import { restoreEngine } from "../../src/window/engines.js";
import { countWindow, describeWindow, session, sliding, type WindowBuilder } from "../../src/window/spec.js";
import type { WindowRecord } from "../../src/window/types.js";
import { prng } from "../../src/tick/generate.js";

const S = 1000;
const T0 = 1_686_313_560_000;
const PRODUCTS = ["BTC-USD", "ETH-USD", "SOL-USD"];

const tick = (product_id: string, time: number, price = 100, last_size = 1): Tick => ({ product_id, time, price, last_size });

const rng = prng;

/** Ticks with repeated timestamps, quiet spells (new sessions) and out-of-order arrivals within `jitter` ms. */
function generated(seed: number, n: number, jitter: number): Tick[] {
  const r = rng(seed);
  const out: Tick[] = [];
  let t = T0;
  for (let i = 0; i < n; i++) {
    if (r() > 0.2) t += Math.floor(r() * 700); // one tick in five shares the previous time
    if (r() < 0.02) t += 20 * S + Math.floor(r() * 60 * S);
    const p = PRODUCTS[Math.floor(r() * PRODUCTS.length)]!;
    out.push(tick(p, t - (r() < 0.2 ? Math.floor(r() * jitter) : 0), 100 + Math.round(r() * 1000) / 100, Math.round(r() * 100) / 100));
  }
  return out;
}

function run(window: WindowBuilder, ticks: readonly Tick[], emit?: "update") {
  const feature = defineFeature({ name: "k", window, agg: ohlcv(), ...(emit ? { emit } : {}) });
  const out: WindowRecord[] = [];
  const late: Tick[] = [];
  const updates: WindowRecord[] = [];
  const engine = feature.engine({ emit: (r) => out.push(r), late: (t) => late.push(t), update: (r) => updates.push(r) });
  for (const t of ticks) engine.add(t);
  engine.flush();
  return { feature, engine, out, late, updates };
}

/** OHLCV of ticks given in arrival order, by the DESIGN rule (stable sort by time; first/last arrival wins ties). */
function bar(ts: readonly Tick[]) {
  const s = ts.map((t, i) => [t, i] as const).sort((a, b) => a[0].time - b[0].time || a[1] - b[1]).map((x) => x[0]);
  return { open: s[0]!.price, high: Math.max(...s.map((t) => t.price)), low: Math.min(...s.map((t) => t.price)), close: s.at(-1)!.price, volume: s.reduce((v, t) => v + t.last_size, 0), count: s.length };
}

const byKey = (ticks: readonly Tick[]) => PRODUCTS.map((p) => [p, ticks.filter((t) => t.product_id === p)] as const);
const sortedByTime = (ts: readonly Tick[]) => ts.map((t, i) => [t, i] as const).sort((a, b) => a[0].time - b[0].time || a[1] - b[1]).map((x) => x[0]);

function sameRecords(actual: readonly WindowRecord[], expected: readonly WindowRecord[]): void {
  const id = (r: WindowRecord) => `${r.key} ${r.start} ${r.end} ${(r as { index?: number }).index ?? ""}`;
  const a = [...actual].sort((x, y) => (id(x) < id(y) ? -1 : 1));
  const e = [...expected].sort((x, y) => (id(x) < id(y) ? -1 : 1));
  assert.deepEqual(a.map(id), e.map(id), "the same windows");
  for (let i = 0; i < e.length; i++) {
    const { volume: va, ...ra } = a[i] as WindowRecord & { volume: number };
    const { volume: ve, ...re } = e[i] as WindowRecord & { volume: number };
    assert.deepEqual(ra, re, id(e[i]!));
    assert.ok(Math.abs(va - ve) <= 1e-9 * Math.max(1, Math.abs(ve)), `${id(e[i]!)}: volume ${va} vs ${ve}`);
  }
}

describe("sliding(size)", () => {
  test("one window per distinct time τ over (τ − size, τ], as pandas rolling(closed='right') keeping each time's last row", () => {
    const ticks = generated(1, 4000, 1500);
    const size = 10 * S;
    const { out, late } = run(sliding(size, { grace: 2 * S }), ticks);
    assert.equal(late.length, 0, "jitter inside grace: nothing late");
    const expected: WindowRecord[] = [];
    for (const [p, ts] of byKey(ticks)) {
      for (const tau of [...new Set(ts.map((t) => t.time))].sort((a, b) => a - b)) {
        expected.push({ key: p, start: tau - size, end: tau, ...bar(ts.filter((t) => t.time > tau - size && t.time <= tau)) });
      }
    }
    sameRecords(out, expected);
  });

  test("a tick whose own window is final is late and joins no window; a tick inside grace joins every open window", () => {
    const ticks = [tick("A", T0), tick("A", T0 + 5 * S), tick("A", T0 + 4 * S, 120), tick("A", T0 + 1 * S, 90)];
    const { out, late } = run(sliding(3 * S, { grace: 2 * S }), ticks);
    assert.deepEqual(late.map((t) => t.time), [T0 + 1 * S], "T0+1s + 2s grace <= watermark T0+5s");
    assert.deepEqual(out.map((r) => [r.end - T0, r.count, r.high]), [[0, 1, 100], [4 * S, 1, 120], [5 * S, 2, 120]]);
  });

  test("without the aggregator's merge (a whole-window function) the result is the same", () => {
    const ticks = generated(2, 1500, 1000);
    const fn = defineFeature({ name: "k", window: sliding("8s", { grace: "2s" }), agg: (rows) => ({ n: rows.length, first: rows[0]!.price, last: rows.at(-1)!.price }) });
    const viaRows: WindowRecord[] = [];
    const e = fn.engine({ emit: (r) => viaRows.push(r) });
    for (const t of ticks) e.add(t);
    e.flush();
    const merged = run(sliding("8s", { grace: "2s" }), ticks).out;
    assert.deepEqual(viaRows.map((r) => [r.key, r.end, r.n, r.first, r.last]), merged.map((r) => [r.key, r.end, r.count, r.open, r.close]));
  });
});

describe("session(gap)", () => {
  test("splits a key's ticks where consecutive times differ by gap or more; [first, last + gap)", () => {
    const ticks = generated(3, 4000, 1500);
    const gap = 5 * S;
    const { out, late } = run(session(gap, { grace: 2 * S }), ticks);
    assert.equal(late.length, 0);
    const expected: WindowRecord[] = [];
    for (const [p, ts] of byKey(ticks)) {
      const sorted = sortedByTime(ts);
      let cur: Tick[] = [];
      const close = () => {
        if (!cur.length) return;
        const arrival = ts.filter((t) => cur.includes(t));
        expected.push({ key: p, start: cur[0]!.time, end: cur.at(-1)!.time + gap, ...bar(arrival) });
        cur = [];
      };
      for (const t of sorted) {
        if (cur.length && t.time - cur.at(-1)!.time >= gap) close();
        cur.push(t);
      }
      close();
    }
    assert.ok(expected.length > 20, `${expected.length} sessions`);
    sameRecords(out, expected);
  });

  test("a late tick bridges two open sessions into one; once final a session never changes", () => {
    const g = 10 * S;
    const ticks = [tick("A", T0, 100), tick("A", T0 + 15 * S, 110), tick("A", T0 + 7 * S, 105), tick("A", T0 + 40 * S, 120), tick("A", T0 + 32 * S, 130)];
    const { out, late } = run(session(g, { grace: 20 * S }), ticks);
    // T0+7s is within 10 s of both open sessions: they merge into [T0, T0+25s). T0+32s arrives late (after
    // T0+40s) but within grace: it joins the open session of T0+40s (8 s apart), not the merged one (17 s apart).
    assert.equal(late.length, 0);
    assert.deepEqual(out.map((r) => [r.start - T0, r.end - T0, r.count, r.open, r.close]), [[0, 25 * S, 3, 100, 110], [32 * S, 50 * S, 2, 130, 120]]);
    const strict = run(session(g, { grace: 0 }), [tick("A", T0), tick("A", T0 + 30 * S), tick("A", T0 + 5 * S), tick("A", T0 + 12 * S)]).late;
    assert.deepEqual(strict.map((t) => t.time - T0), [5 * S, 12 * S], "touching a final session (or before it) is late");
  });

  test("needs the aggregator's merge, and says so", () => {
    const agg = { init: () => 0, add: (s: number) => s + 1, result: (s: number) => ({ n: s }) };
    const f = defineFeature({ name: "nomerge", window: session("5s"), agg });
    assert.throws(() => f.engine({ emit: () => {} }), /session windows combine partial results.*merge/);
  });
});

describe("countWindow(n)", () => {
  test("n ticks at a time in arrival order, start = earliest, end = latest + 1, index per key; the short last one at flush", () => {
    const ticks = generated(4, 1000, 3000);
    const { out, late } = run(countWindow(7), ticks);
    assert.equal(late.length, 0, "nothing is ever late");
    const expected: WindowRecord[] = [];
    for (const [p, ts] of byKey(ticks)) {
      for (let i = 0; i * 7 < ts.length; i++) {
        const chunk = ts.slice(i * 7, i * 7 + 7);
        expected.push({ key: p, start: Math.min(...chunk.map((t) => t.time)), end: Math.max(...chunk.map((t) => t.time)) + 1, index: i, ...bar(chunk) });
      }
    }
    sameRecords(out, expected);
    assert.ok(out.some((r) => r.count < 7), "a shorter last window");
  });

  test("refuses grace, closing and idle; sliding and session refuse fill; describeWindow names every kind", () => {
    assert.throws(() => countWindow(0), (e: Error & { remedy?: string }) => /bad window: count 0/.test(e.message) && /countWindow\(n\) takes a whole number/.test(e.remedy ?? ""));
    assert.throws(() => defineFeature({ name: "c", window: countWindow(5), agg: ohlcv(), idle: "2s" }), /grace, closing or idle on a count window/);
    assert.throws(() => sliding("1m").grace("1s").fill("carry"), /fill "carry" on a sliding window/);
    assert.throws(() => session("1m").origin("start"), /origin "start" on a session window/);
    assert.equal(describeWindow(sliding("60s", { grace: "2s" }).spec), "sliding 1m (grace 2s)");
    assert.equal(describeWindow(session("30s").spec), "session gap 30s (grace 0ms)");
    assert.equal(describeWindow(countWindow(100).spec), "count 100 ticks");
  });
});

describe("every kind", () => {
  const kinds: [string, WindowBuilder][] = [
    ["sliding", sliding("10s", { grace: "2s" })],
    ["session", session("5s", { grace: "2s" })],
    ["count", countWindow(9)],
  ];
  for (const [name, window] of kinds) {
    test(`${name}: snapshot/restore at any point (through JSON) continues exactly; another parameter refuses the state`, () => {
      const ticks = generated(5, 2500, 1500);
      const whole = run(window, ticks).out;
      for (const cut of [1, 333, 1250, 2499]) {
        const first = defineFeature({ name: "k", window, agg: ohlcv() });
        const out: WindowRecord[] = [];
        const a = first.engine({ emit: (r) => out.push(r) });
        for (const t of ticks.slice(0, cut)) a.add(t);
        const snap = JSON.parse(JSON.stringify(a.snapshot())) as EngineSnapshot;
        const b = restoreEngine(first, snap, { emit: (r) => out.push(r) });
        assert.equal(b.openWindows(), a.openWindows(), "open windows counted alike");
        for (const t of ticks.slice(cut)) b.add(t);
        b.flush();
        assert.deepEqual(out, whole, `cut at ${cut}`);
      }
      const other = defineFeature({ name: "k", window: name === "count" ? countWindow(10) : name === "session" ? session("6s", { grace: "2s" }) : sliding("11s", { grace: "2s" }), agg: ohlcv() });
      const snap = run(window, ticks.slice(0, 100)).engine.snapshot();
      assert.throws(() => restoreEngine(other, snap, { emit: () => {} }), /does not match feature/);
    });

    test(`${name}: emit "update" leaves the final records as they were, and each update is an open window's value`, () => {
      const ticks = generated(6, 1500, 1500);
      const plain = run(window, ticks);
      const upd = run(window, ticks, "update");
      assert.deepEqual(upd.out, plain.out);
      // One per tick, but for the tick that completes a count window (the window is final then, not open).
      assert.ok(upd.updates.length >= ticks.length - plain.out.length, `${upd.updates.length} updates for ${ticks.length} ticks`);
    });
  }
});
