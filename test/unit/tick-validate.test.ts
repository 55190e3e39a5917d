import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Rejection } from "../../src/tick/types.js";
import { isTick, parseTickLine, toTick, validateTick } from "../../src/tick/validate.js";

const good = {
  type: "ticker",
  sequence: 201390075,
  product_id: "SKL-USD",
  price: "0.791",
  side: "buy",
  time: "2021-04-17T16:43:37.121358Z",
  trade_id: 1568268,
  last_size: "450",
};

const line = (patch: Record<string, unknown>, drop: string[] = []) => {
  const m: Record<string, unknown> = { ...good, ...patch };
  for (const k of drop) delete m[k];
  return JSON.stringify(m);
};

function rejection(text: string, lineNo = 7): Rejection {
  const r = parseTickLine(text, lineNo);
  assert.equal(r.ok, false, `expected a rejection for ${text}`);
  if (r.ok) throw new Error("unreachable");
  assert.equal(r.rejection.line, lineNo);
  assert.equal(r.rejection.raw, text, "the raw text is kept as is");
  assert.ok(r.rejection.detail && r.rejection.detail.length > 0);
  return r.rejection;
}

describe("tick validation", () => {
  test("a Coinbase ticker message becomes a typed, frozen tick with time floored to the ms", () => {
    const r = parseTickLine(JSON.stringify(good), 1);
    assert.ok(r.ok);
    const t = r.tick;
    assert.equal(t.product_id, "SKL-USD");
    assert.equal(t.price, 0.791);
    assert.equal(t.last_size, 450);
    assert.equal(t.time, Date.UTC(2021, 3, 17, 16, 43, 37, 121));
    assert.equal(t.side, "buy");
    assert.equal(t.trade_id, 1568268);
    assert.equal(t.sequence, 201390075);
    assert.ok(Object.isFrozen(t));
  });

  test("numbers may be JSON numbers; size 0 is valid; offsets convert to UTC", () => {
    const r = parseTickLine(line({ price: 1846.55, last_size: 0, time: "2023-06-09T14:26:00.5+02:00" }));
    assert.ok(r.ok);
    assert.equal(r.tick.price, 1846.55);
    assert.equal(r.tick.last_size, 0);
    assert.equal(r.tick.time, Date.UTC(2023, 5, 9, 12, 26, 0, 500));
  });

  const cases: [string, string, string, string | undefined][] = [
    ["bad JSON", '{"type":"ticker",', "bad JSON", undefined],
    ["an array", "[1,2]", "not an object", undefined],
    ["null", "null", "not an object", undefined],
    ["a number", "42", "not an object", undefined],
    ["a string", '"ticker"', "not an object", undefined],
    ["another type", line({ type: "heartbeat" }), "not a ticker", "type"],
    ["no type", line({}, ["type"]), "not a ticker", "type"],
    ["no product_id", line({}, ["product_id"]), "missing field", "product_id"],
    ["numeric product_id", line({ product_id: 5 }), "not a string", "product_id"],
    ["empty product_id", line({ product_id: "" }), "empty", "product_id"],
    ["no price", line({}, ["price"]), "missing field", "price"],
    ["null price", line({ price: null }), "missing field", "price"],
    ["no last_size", line({}, ["last_size"]), "missing field", "last_size"],
    ["no time", line({}, ["time"]), "missing field", "time"],
    ["text price", line({ price: "abc" }), "non-numeric", "price"],
    ["empty price", line({ price: "" }), "non-numeric", "price"],
    ["boolean size", line({ last_size: true }), "non-numeric", "last_size"],
    ["object price", line({ price: { v: 1 } }), "non-numeric", "price"],
    ["padded price", line({ price: " 1.5" }), "non-numeric", "price"],
    ["NaN size", line({ last_size: "NaN" }), "non-finite", "last_size"],
    ["Infinity price", line({ price: "Infinity" }), "non-finite", "price"],
    ["overflowing price", line({ price: "1e999" }), "non-finite", "price"],
    ["overflowing JSON number", line({}).replace('"0.791"', "1e999"), "non-finite", "price"],
    ["zero price", line({ price: "0" }), "non-positive", "price"],
    ["negative price", line({ price: "-3.5" }), "non-positive", "price"],
    ["negative zero price", line({ price: -0 }).replace('"price":0', '"price":-0'), "non-positive", "price"],
    ["negative size", line({ last_size: "-0.5" }), "negative", "last_size"],
    ["time without zone", line({ time: "2021-04-17T16:43:37.121358" }), "bad time", "time"],
    ["time with a space", line({ time: "2021-04-17 16:43:37Z" }), "bad time", "time"],
    ["date only", line({ time: "2021-04-17" }), "bad time", "time"],
    ["impossible date", line({ time: "2021-02-30T00:00:00Z" }), "bad time", "time"],
    ["hour 24", line({ time: "2021-04-17T24:00:00Z" }), "bad time", "time"],
    ["numeric time", line({ time: 1618677817121 }), "bad time", "time"],
    ["garbage time", line({ time: "yesterday" }), "bad time", "time"],
  ];
  for (const [what, text, reason, field] of cases) {
    test(`rejects ${what}: ${reason}`, () => {
      const r = rejection(text);
      assert.equal(r.reason, reason);
      assert.equal(r.field, field);
    });
  }

  test("the first failing rule wins, in field order type, product_id, price, last_size, time", () => {
    assert.equal(rejection(line({ price: "x", last_size: "-1", time: "bad" })).field, "price");
    assert.equal(rejection(line({ last_size: "-1", time: "bad" })).field, "last_size");
  });

  test("isTick accepts validated ticks only; toTick checks anything else as a ticker message", () => {
    const tick = { product_id: "A", price: 1, last_size: 0, time: 1000 };
    assert.ok(isTick(tick));
    assert.equal(isTick({ ...tick, time: 1.5 }), false);
    assert.equal(isTick({ ...tick, price: 0 }), false);
    const passed = toTick(tick);
    assert.ok(passed.ok && passed.tick === tick);
    const fromMsg = toTick(good, 3);
    assert.ok(fromMsg.ok && fromMsg.tick.price === 0.791);
    const fromText = toTick(JSON.stringify(good));
    assert.ok(fromText.ok);
    const bad = toTick({ ...good, price: "-1" }, 9);
    assert.ok(!bad.ok && bad.rejection.line === 9 && bad.rejection.reason === "non-positive" && bad.rejection.raw.includes('"-1"'));
  });

  test("validateTick keeps the raw text it is given", () => {
    const r = validateTick({ type: "ticker" }, "RAW", 2);
    assert.ok(!r.ok && r.rejection.raw === "RAW" && r.rejection.reason === "missing field");
  });
});
