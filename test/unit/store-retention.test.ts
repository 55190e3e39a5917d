import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ohlc1h, ohlc1m, ohlc60s } from "../../src/feature/shipped/ohlc.js";
import { parseWatermark } from "../../src/store/online.js";
import { defaultRetentionMs } from "../../src/store/retention.js";
import { countWindow, hopping, session, sliding, tumbling } from "../../src/window/spec.js";

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

describe("defaultRetentionMs", () => {
  it("sizes the seed's three features: ohlc1h 30 d, ohlc1m 2 d, ohlc60s 1 h", () => {
    assert.equal(defaultRetentionMs(ohlc1h.window), 30 * DAY);
    assert.equal(defaultRetentionMs(ohlc1m.window), 2 * DAY);
    assert.equal(defaultRetentionMs(ohlc60s.window), HOUR);
  });

  it("goes by the spacing of starts: the step of a grid, the gap of a session, 1 h for per-record windows", () => {
    assert.equal(defaultRetentionMs(tumbling("1d").spec), 30 * DAY);
    assert.equal(defaultRetentionMs(hopping("4h", "1h").spec), 30 * DAY);
    assert.equal(defaultRetentionMs(hopping("1h", "59s").spec), HOUR, "a 1 h window every 59 s is as dense as ohlc60s");
    assert.equal(defaultRetentionMs(tumbling("5m").spec), 2 * DAY);
    assert.equal(defaultRetentionMs(tumbling("10s").spec), HOUR);
    assert.equal(defaultRetentionMs(session("30m").spec), 2 * DAY);
    assert.equal(defaultRetentionMs(session("30s").spec), HOUR);
    assert.equal(defaultRetentionMs(sliding("1h").spec), HOUR);
    assert.equal(defaultRetentionMs(countWindow(100).spec), HOUR);
  });
});

describe("parseWatermark", () => {
  it("reads the stored string: a number, eof with or without its event time, nothing", () => {
    assert.equal(parseWatermark("1618700000000"), 1_618_700_000_000);
    assert.equal(parseWatermark("eof@1618700000000"), "eof");
    assert.equal(parseWatermark("eof"), "eof");
    assert.equal(parseWatermark(null), undefined);
  });
});
