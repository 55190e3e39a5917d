import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { InputError } from "../../src/errors/index.js";
import { defineFeature, isFeature } from "../../src/feature/define.js";
import { ohlcv } from "../../src/feature/ohlcv.js";
import { loadFeatureRef } from "../../src/feature/ref.js";
import { ohlc, ohlc1h, ohlc1m, ohlc60s } from "../../src/feature/shipped/ohlc.js";
import { hopping, tumbling } from "../../src/window/spec.js";

const root = fileURLToPath(new URL("../..", import.meta.url));

describe("defineFeature", () => {
  test("the seed's three features: windows and the 2 s default grace", () => {
    assert.deepEqual({ ...ohlc1h.window }, { kind: "tumbling", size: 3_600_000, step: 3_600_000, origin: "epoch", grace: 2000 });
    assert.deepEqual({ ...ohlc1m.window }, { kind: "tumbling", size: 60_000, step: 60_000, origin: "epoch", grace: 2000 });
    assert.deepEqual({ ...ohlc60s.window }, { kind: "hopping", size: 60_000, step: 1000, origin: "epoch", grace: 2000 });
    assert.equal(ohlc({ size: "1m", grace: "5s" }).window.grace, 5000);
    assert.equal(ohlc({ size: "60s", step: "1s" }).name, "ohlc_1m_every_1s");
  });

  test("version: stable for the same definition, different when anything that shapes state changes", () => {
    const def = { name: "f", window: tumbling("1m", { grace: "2s" }), agg: ohlcv(), params: { a: 1, b: "x" } };
    const v = defineFeature(def).version;
    assert.match(v, /^[0-9a-f]{12}$/);
    assert.equal(defineFeature({ ...def, params: { b: "x", a: 1 } }).version, v, "param order does not matter");
    assert.equal(ohlc({ size: "1m", name: "ohlc1m" }).version, ohlc1m.version);
    for (const other of [
      { ...def, name: "g" },
      { ...def, window: tumbling("1m", { grace: "3s" }) },
      { ...def, window: tumbling("1m", { grace: "2s", origin: "start" }) },
      { ...def, window: hopping("1m", "30s", { grace: "2s" }) },
      { ...def, params: { a: 2, b: "x" } },
      { ...def, agg: { ...ohlcv(), version: "ohlcv-2" } },
    ]) {
      assert.notEqual(defineFeature(other).version, v, JSON.stringify(other));
    }
  });

  test("bad definitions fail at construction with a sentence that says what to pass", () => {
    assert.throws(() => defineFeature({ name: "has space", window: tumbling("1m"), agg: ohlcv() }), /feature name/);
    assert.throws(() => defineFeature({ name: "x", window: tumbling("1m"), agg: {} as never }), (e: unknown) => e instanceof InputError && /init, add, result/.test(e.message));
    assert.throws(() => defineFeature({ name: "x", window: "1m" as never, agg: ohlcv() }), /window/);
  });

  test("isFeature is duck-typed (a notebook's library copy is another module instance)", () => {
    assert.ok(isFeature(ohlc1m));
    const copy = { ...ohlc1m, [Symbol.for("quixlab.feature")]: 1 };
    assert.ok(isFeature(copy));
    assert.equal(isFeature({ name: "x", engine() {}, batchRecords() {} }), false);
    assert.equal(isFeature(null), false);
  });

  test("custom key and time functions", async () => {
    const f = defineFeature({
      name: "by_side",
      window: tumbling("1s"),
      agg: ohlcv(),
      key: (t) => `${t.product_id}:${t.side}`,
      time: (t) => t.time + 500,
    });
    const r = await f.batchRecords([
      { product_id: "A", price: 1, last_size: 1, time: 0, side: "buy" },
      { product_id: "A", price: 2, last_size: 1, time: 600, side: "sell" },
    ]);
    assert.deepEqual(
      r.records.map((x) => [x.key, x.start]),
      [
        ["A:buy", 0],
        ["A:sell", 1000],
      ],
    );
  });
});

describe("loadFeatureRef", () => {
  test("loads path#export relative to cwd; without '#', the default export", async () => {
    assert.equal((await loadFeatureRef("src/feature/shipped/ohlc.ts#ohlc1m", root)).name, "ohlc1m");
    assert.equal((await loadFeatureRef("features.ts#vwap1m", join(root, "test/fixtures"))).name, "vwap_1m");
    assert.equal((await loadFeatureRef("test/fixtures/features.ts", root)).name, "ohlc_5m");
    assert.equal((await loadFeatureRef("test/fixtures/features.ts#", root)).name, "ohlc_5m");
  });

  test("the shipped features' old path (src/features/ohlc.ts, as DESIGN.md names it) still loads them", async () => {
    assert.equal((await loadFeatureRef("src/features/ohlc.ts#ohlc60s", root)).name, "ohlc60s");
    await assert.rejects(loadFeatureRef("src/features/none.ts#x", root), /feature module not found/);
  });

  const cases: [string, RegExp, RegExp][] = [
    ["test/fixtures/nope.ts#x", /not found/, /path\/to\/module\.ts#exportName/],
    ["test/fixtures/features.ts#missing", /no export named 'missing'/, /features\.ts#vwap1m/],
    ["test/fixtures/features.ts#notAFeature", /'notAFeature' is not a feature/, /features\.ts#default/],
    ["test/fixtures/no-default.ts", /no '#exportName'/, /no-default\.ts#ohlc2m/],
    ["test/fixtures/broken.ts#x", /boom at import/, /imports cleanly/],
    ["#x", /bad feature reference/, /#exportName/],
  ];
  for (const [ref, message, remedy] of cases) {
    test(`'${ref}' → an InputError (exit 2) naming what is wrong`, async () => {
      await assert.rejects(loadFeatureRef(ref, root), (e: unknown) => {
        assert.ok(e instanceof InputError);
        assert.equal(e.exitCode, 2);
        assert.match(e.message, message);
        assert.match(e.remedy ?? "", remedy);
        return true;
      });
    });
  }
});
