import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { epochToMs, parseIsoTime } from "../../src/tick/time.js";

describe("event time", () => {
  test("ISO-8601 with Z, any fraction length, floored (never rounded) to the millisecond", () => {
    const base = Date.UTC(2021, 3, 17, 16, 43, 30);
    assert.equal(parseIsoTime("2021-04-17T16:43:30Z"), base);
    assert.equal(parseIsoTime("2021-04-17T16:43:30.2Z"), base + 200);
    assert.equal(parseIsoTime("2021-04-17T16:43:30.24Z"), base + 240);
    assert.equal(parseIsoTime("2021-04-17T16:43:30.244075Z"), base + 244);
    assert.equal(parseIsoTime("2021-04-17T16:43:30.244999999Z"), base + 244);
    assert.equal(parseIsoTime("2021-12-31T23:59:59.9999995Z"), Date.UTC(2021, 11, 31, 23, 59, 59, 999));
    assert.equal(parseIsoTime("2021-04-17t16:43:30,5z"), base + 500);
  });

  test("zone offsets in ±hh:mm and ±hhmm", () => {
    const utc = Date.UTC(2021, 3, 17, 12, 0, 0);
    assert.equal(parseIsoTime("2021-04-17T14:00:00+02:00"), utc);
    assert.equal(parseIsoTime("2021-04-17T06:30:00-05:30"), utc);
    assert.equal(parseIsoTime("2021-04-17T17:45:00+0545"), utc);
    assert.equal(parseIsoTime("2021-04-17T12:00:00.123-00:00"), utc + 123);
  });

  test("rejects text without a zone, malformed or impossible dates", () => {
    for (const s of [
      "2021-04-17T16:43:30",
      "2021-04-17T16:43:30.123",
      "2021-04-17",
      "2021-04-17T16:43Z",
      "2021-04-17 16:43:30Z",
      "2021-13-01T00:00:00Z",
      "2021-02-29T00:00:00Z",
      "2021-04-31T00:00:00Z",
      "2021-04-17T24:00:00Z",
      "2021-04-17T23:60:00Z",
      "2021-04-17T23:59:60Z",
      "2021-04-17T00:00:00.Z",
      "2021-04-17T00:00:00+2:00",
      "2021-04-17T00:00:00+02:00x",
      "2021-04-17T00:00:00Zjunk",
      "٢٠٢١-04-17T00:00:00Z",
      "",
    ]) {
      assert.equal(parseIsoTime(s), undefined, s);
    }
    assert.equal(parseIsoTime("2024-02-29T00:00:00Z"), Date.UTC(2024, 1, 29));
  });

  test("agrees with Date.UTC on many random instants (3-digit fractions, where Date.parse is exact)", () => {
    let seed = 12345;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let i = 0; i < 2000; i++) {
      const ms = Math.floor(rnd() * 4e12) - 5e11;
      const iso = new Date(ms).toISOString();
      assert.equal(parseIsoTime(iso), ms, iso);
      assert.equal(parseIsoTime(`${iso.slice(0, -1)}987Z`), ms, "extra digits floor away");
    }
  });

  test("epoch numbers in s/ms/us/ns floor to ms without losing precision", () => {
    assert.equal(epochToMs("1582329602111000", "us"), 1582329602111);
    assert.equal(epochToMs("1582329602111999", "us"), 1582329602111);
    assert.equal(epochToMs("1582329602111999999", "ns"), 1582329602111);
    assert.equal(epochToMs("1582329602", "s"), 1582329602000);
    assert.equal(epochToMs("1582329602.1239", "s"), 1582329602123);
    assert.equal(epochToMs("1582329602111", "ms"), 1582329602111);
    assert.equal(epochToMs("1582329602111.9", "ms"), 1582329602111);
    assert.equal(epochToMs("999", "us"), 0);
    for (const bad of ["", "-5", "1e9", "abc", "1.2.3", " 1"]) assert.equal(epochToMs(bad, "ms"), undefined, bad);
  });
});
