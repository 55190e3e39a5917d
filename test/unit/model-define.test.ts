import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { defineModel } from "../../src/index.js";
import { predictionOf, triggerTime } from "../../src/model/define.js";

describe("defineModel", () => {
  const predict = () => 1;
  it("defaults the trigger to the spec's first 'today' feature and closes at end + grace", () => {
    const m = defineModel({ name: "m", features: "ohlc1h:30d,ohlc1m:today,ohlc60s:latest", predict });
    assert.equal(m.trigger.name, "ohlc1m");
    assert.equal(triggerTime(m, { end: 60_000 }), 60_000 + m.trigger.window.grace);
    assert.match(m.version, /^model-1:[0-9a-f]{12}$/);
  });
  it("changes version with predict's source", () => {
    const a = defineModel({ name: "m", features: "ohlc1m:today", predict: () => 1 });
    const b = defineModel({ name: "m", features: "ohlc1m:today", predict: () => 2 });
    assert.notEqual(a.version, b.version);
  });
  it("refuses a bad name, a trigger outside the spec, an unknown feature and no predict", () => {
    assert.throws(() => defineModel({ name: "1x", features: "ohlc1m:today", predict }), /bad model name/);
    assert.throws(() => defineModel({ name: "m", features: "ohlc1m:today", trigger: "ohlc1h", predict }), /trigger 'ohlc1h' is not a feature of its vector/);
    assert.throws(() => defineModel({ name: "m", features: "vwap:today", predict }), /unknown feature 'vwap'/);
    assert.throws(() => defineModel({ name: "m", features: "ohlc1m:today" } as never), /no predict function/);
  });
  it("a prediction is a finite number or null; anything else is an error naming the key", () => {
    const m = defineModel({ name: "m", features: "ohlc1m:today", predict: (v) => (v.key === "A" ? Number.NaN : null) });
    const w = { start: 0, end: 60_000 };
    assert.equal(predictionOf(m, { key: "B", asOf: 62_000, features: {} }, w), undefined);
    assert.throws(() => predictionOf(m, { key: "A", asOf: 62_000, features: {} }, w), /predicted NaN for A/);
  });
});
