import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { prng } from "../../src/tick/generate.js";
import { epochToMs, parseIsoBytes, parseIsoTime } from "../../src/tick/time.js";

/** An independent reading of the accepted form (a regular expression and the Date API), to fuzz parseIsoTime with. */
const ISO = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?(?:[Zz]|([+-])(\d{2}):?(\d{2}))$/;
function reference(s: string): number | undefined {
  const m = ISO.exec(s);
  if (!m) return undefined;
  const [y, mo, d, h, mi, sec] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const oh = Number(m[9] ?? 0);
  const om = Number(m[10] ?? 0);
  // setUTCFullYear, not Date.UTC, which reads years 0-99 as 1900-1999.
  const day = (month: number, date: number) => new Date(0).setUTCFullYear(y, month - 1, date);
  const daysInMonth = (day(mo + 1, 1) - day(mo, 1)) / 86_400_000;
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth || h > 23 || mi > 59 || sec > 59 || oh > 23 || om > 59) return undefined;
  const ms = Number((m[7] ?? "").slice(0, 3).padEnd(3, "0"));
  const offset = (m[8] === "-" ? -1 : 1) * (oh * 60 + om);
  return day(mo, d) + ((h * 60 + mi - offset) * 60 + sec) * 1000 + ms;
}

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

  test("fuzz: mutated timestamps agree with an independent reading, as text and as bytes", () => {
    const rnd = prng(2024);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const two = (n: number) => String(n).padStart(2, "0");
    // Where mistakes hide: leap days and month ends, every zone form, fraction lengths, and characters that are
    // digits elsewhere (Arabic-Indic, full-width) or whose low byte is one ("\u0130" & 0xff is "0").
    const years = [0, 1, 99, 1900, 1969, 1970, 2000, 2020, 2021, 2023, 2024, 2100, 2400, 9999];
    const zones = ["Z", "z", "+00:00", "-00:00", "+05:30", "-0800", "+2359", "-23:59", "+24:00", "+12:60", "+1:00", "+0100x", "+01:0", "+01", "-", "Zz", ""];
    const junk = ["", "0", "9", ":", "-", "+", ".", ",", "T", "t", "Z", " ", "/", "\u0000", "é", "\u0660", "\uFF10", "\u0130", "\u0100"];
    let valid = 0;
    for (let k = 0; k < 20_000; k++) {
      const y = pick(years) + (rnd() < 0.5 ? 0 : Math.floor(rnd() * 8));
      const mo = Math.floor(rnd() * 14);
      const d = rnd() < 0.3 ? pick([28, 29, 30, 31]) : Math.floor(rnd() * 33);
      const frac = rnd() < 0.2 ? "" : `${pick([".", ","])}${"0123456789876543".slice(0, Math.floor(rnd() * 13))}`;
      const time = `${two(Math.floor(rnd() * 25))}:${two(Math.floor(rnd() * 61))}:${two(Math.floor(rnd() * 61))}`;
      const chars = [...`${String(y).padStart(4, "0")}-${two(mo)}-${two(d)}${pick(["T", "t"])}${time}${frac}${pick(zones)}`];
      for (let e = Math.floor(rnd() * 3) - 1; e > 0; e--) {
        const at = Math.floor(rnd() * (chars.length + 1));
        const op = rnd();
        if (op < 0.33) chars.splice(at, 1);
        else if (op < 0.66) chars.splice(at, 0, pick(junk));
        else chars[at] = pick(junk);
      }
      const s = chars.join("");
      const want = reference(s);
      assert.equal(parseIsoTime(s), want, s);
      const bytes = Buffer.from(`"${s}"`);
      assert.equal(parseIsoBytes(bytes, 1, bytes.length - 1), want, `${s} as bytes`);
      if (want !== undefined) valid++;
    }
    assert.ok(valid > 4_000 && valid < 16_000, `${valid} valid`);
  });

  test("as bytes, only the given range is read", () => {
    const b = Buffer.from("x2024-02-29T23:59:59.999+01:00x");
    assert.equal(parseIsoBytes(b, 1, b.length - 1), Date.UTC(2024, 1, 29, 22, 59, 59, 999));
    assert.equal(parseIsoBytes(b, 1, b.length - 4), undefined, "cut inside the zone");
    assert.equal(parseIsoBytes(b, 1, b.length - 7), undefined, "no zone");
    assert.equal(parseIsoBytes(b, 0, b.length), undefined);
    const cut = Buffer.from("2024-02-29T23:59:59+01:00");
    assert.equal(parseIsoBytes(cut.subarray(0, 22), 0, 22), undefined, "a zone cut at the end of the buffer");
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
