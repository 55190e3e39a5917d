/**
 * Early results on an `every` cadence (emit "update"), across a checkpoint: the throttle (when each open window
 * last sent an update) is part of the engine's state, so a step restarted from a snapshot sends exactly the
 * updates an uninterrupted one sends.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { defineFeature } from "../../src/feature/define.js";
import { ohlcv } from "../../src/feature/ohlcv.js";
import { prng } from "../../src/tick/generate.js";
import type { Tick } from "../../src/tick/types.js";
import type { EngineSnapshot } from "../../src/window/engine.js";
import { restoreEngine } from "../../src/window/engines.js";
import { countWindow, hopping, session, sliding, tumbling, type WindowBuilder } from "../../src/window/spec.js";
import type { WindowRecord } from "../../src/window/types.js";

const T0 = 1_686_313_560_000;

/**
 * Ticks of two keys a few hundred ms apart, one in three at the time of the one before (a sliding window's updates
 * are throttled per event time), some out of order within grace, and a quiet spell now and then.
 */
function ticks(seed: number, n: number): Tick[] {
  const r = prng(seed);
  const out: Tick[] = [];
  let t = T0;
  for (let i = 0; i < n; i++) {
    if (r() > 1 / 3) t += Math.floor(r() * 400);
    if (r() < 0.01) t += 30_000;
    const late = r() < 0.05 ? Math.floor(r() * 1_500) : 0;
    out.push({ product_id: r() < 0.5 ? "A" : "B", time: t - late, price: 100 + Math.round(r() * 100) / 10, last_size: 1 });
  }
  return out;
}

describe('emit "update" with `every`, across a snapshot and restore', () => {
  const kinds: [string, WindowBuilder][] = [
    ["tumbling", tumbling("1m", { grace: "2s", emit: "update", every: "5s" })],
    ["hopping", hopping("60s", "20s", { grace: "2s", emit: "update", every: "5s" })],
    ["sliding", sliding("10s", { grace: "2s", emit: "update", every: "1s" })],
    ["session", session("5s", { grace: "2s", emit: "update", every: "2s" })],
    ["count", countWindow(40, { emit: "update", every: "2s" })],
  ];
  for (const [name, window] of kinds) {
    test(`${name}: a restored engine sends the updates and windows of an uninterrupted one`, () => {
      const feature = defineFeature({ name: "e", window, agg: ohlcv() });
      const input = ticks(7, 3_000);
      const run = (cuts: readonly number[]) => {
        const out: { final: boolean; r: WindowRecord }[] = [];
        const events = { emit: (r: WindowRecord) => out.push({ final: true, r }), update: (r: WindowRecord) => out.push({ final: false, r }) };
        let e = feature.engine(events);
        input.forEach((t, i) => {
          if (cuts.includes(i)) e = restoreEngine(feature, JSON.parse(JSON.stringify(e.snapshot())) as EngineSnapshot, events);
          e.add(t);
        });
        e.flush();
        return out;
      };
      const whole = run([]);
      const updates = whole.filter((x) => !x.final).length;
      assert.ok(updates > 20 && updates < input.length * 0.9, `${updates} updates: the cadence throttles them`);
      for (const cuts of [[1_500], [17, 911, 1_802, 2_999]]) assert.deepEqual(run(cuts), whole, `restored at ${cuts.join(", ")}`);
    });
  }
});
