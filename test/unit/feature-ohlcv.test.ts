import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { defineFeature } from "../../src/feature/define.js";
import { type OhlcvState, ohlcv } from "../../src/feature/ohlcv.js";
import type { Tick } from "../../src/tick/types.js";
import { tumbling } from "../../src/window/spec.js";

const T0 = 1_686_313_560_000;
const tick = (time: number, price: number, last_size = 1, product_id = "ETH-USD"): Tick => ({ product_id, time, price, last_size });
const feature = defineFeature({ name: "bars", window: tumbling("1m", { grace: "2s" }), agg: ohlcv() });

async function bars(ticks: Tick[]) {
  // Through the generic engine (an async iterable never takes the columnar path) and the fast path (an array).
  async function* gen() {
    yield* ticks;
  }
  const slow = await feature.batchRecords(gen());
  const fast = await feature.batchRecords(ticks);
  assert.deepEqual(fast, slow, "fast path equals the engine");
  return slow.records;
}

describe("OHLCV aggregator", () => {
  test("open/close ties on event time: first arrival opens, last arrival closes", async () => {
    const [b] = await bars([tick(T0 + 5, 10), tick(T0 + 5, 11), tick(T0 + 9, 12), tick(T0 + 9, 13), tick(T0 + 7, 99)]);
    assert.deepEqual(b, { key: "ETH-USD", start: T0, end: T0 + 60_000, open: 10, high: 99, low: 10, close: 13, volume: 5, count: 5 });
  });

  test("open/close follow event time, not arrival, when ticks arrive out of order", async () => {
    const [b] = await bars([tick(T0 + 500, 20), tick(T0 + 100, 21), tick(T0 + 900, 22), tick(T0 + 800, 23)]);
    assert.deepEqual([b!.open, b!.close, b!.high, b!.low], [21, 22, 23, 20]);
  });

  test("volume is the sum of last_size in arrival order; count counts ticks; zero-size ticks count", async () => {
    const [b] = await bars([tick(T0, 5, 0.1), tick(T0 + 1, 5, 0.2), tick(T0 + 2, 5, 0), tick(T0 + 3, 5, 0.3)]);
    assert.equal(b!.volume, 0.1 + 0.2 + 0 + 0.3);
    assert.equal(b!.count, 4);
  });

  test("record key order is key, start, end, open, high, low, close, volume, count", async () => {
    const [b] = await bars([tick(T0, 1)]);
    assert.deepEqual(Object.keys(b!), ["key", "start", "end", "open", "high", "low", "close", "volume", "count"]);
  });

  test("merge combines partial bars as if the ticks had arrived in sequence", () => {
    const agg = ohlcv();
    const fold = (ts: Tick[]) => ts.reduce((s, t, i) => agg.add(s, t, i), agg.init());
    const a = [tick(T0 + 5, 10), tick(T0 + 9, 11)];
    const b = [tick(T0 + 5, 12), tick(T0 + 9, 13), tick(T0 + 1, 9, 2)];
    const merged = agg.merge!(fold(a), fold(b));
    assert.deepEqual(agg.result(merged), agg.result(fold([...a, ...b])));
    assert.deepEqual(agg.merge!(agg.init(), fold(a)), fold(a));
    const s: OhlcvState = fold(a);
    assert.ok(s.every((v) => Number.isFinite(v)), "state is plain finite numbers (JSON-safe)");
  });

  test("the whole-window form gets rows sorted by (time, arrival)", async () => {
    const seen: number[][] = [];
    const f = defineFeature({
      name: "rows",
      window: tumbling("1m"),
      agg: (rows) => {
        seen.push(rows.map((r) => r.price));
        return { n: rows.length };
      },
    });
    const r = await f.batchRecords([tick(T0 + 5, 1), tick(T0 + 2, 2), tick(T0 + 5, 3), tick(T0 + 2, 4)]);
    assert.deepEqual(seen, [[2, 4, 1, 3]]);
    assert.deepEqual(r.records, [{ key: "ETH-USD", start: T0, end: T0 + 60_000, n: 4 }]);
    const scalar = defineFeature({ name: "count", window: tumbling("1m"), agg: ((rows: readonly Tick[]) => rows.length) as never });
    assert.deepEqual((await scalar.batchRecords([tick(T0, 1)])).records[0], { key: "ETH-USD", start: T0, end: T0 + 60_000, value: 1 });
  });
});
