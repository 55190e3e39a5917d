import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { generateTicks, prng } from "../../src/tick/generate.js";
import { TickLineScanner } from "../../src/tick/scan.js";
import { parseTickLine } from "../../src/tick/validate.js";

/**
 * The byte scanner may only ever say "valid tick" when JSON.parse + validateTick say so, with the same values: the
 * four it exposes for columns, and the whole Tick (side, trade_id, sequence too; -0 and 0 differ here).
 */
function check(scanner: TickLineScanner, text: string, where: Place = {}): boolean {
  const buf = place(text, where);
  const from = Buffer.byteLength(where.before ?? "");
  const fast = scanner.scan(buf, from, from + Buffer.byteLength(text));
  if (fast) {
    const slow = parseTickLine(text);
    assert.ok(slow.ok, `scanner accepted a line the validator rejects: ${text}`);
    assert.deepEqual(
      [scanner.productId, scanner.price, scanner.size, scanner.time],
      [slow.tick.product_id, slow.tick.price, slow.tick.last_size, slow.tick.time],
      text,
    );
    const tick = scanner.tick();
    assert.deepEqual(tick, slow.tick, text);
    assert.deepEqual(Object.keys(tick), Object.keys(slow.tick), `same keys in the same order: ${text}`);
    assert.ok(Object.isFrozen(tick));
  }
  return fast;
}

/** Where a line sits: after and before other bytes of the same buffer (a JSON Lines read), in a plain Uint8Array. */
interface Place {
  before?: string;
  after?: string;
  plain?: boolean;
}

function place(text: string, { before = "", after = "\n", plain = false }: Place): Uint8Array {
  const bytes = Buffer.from(`${before}${text}${after}`);
  if (!plain) return bytes;
  // A Uint8Array, not a Buffer, at an odd offset of an ArrayBuffer that ends where it does: a read past it throws.
  const view = new Uint8Array(new ArrayBuffer(bytes.length + 3), 3);
  view.set(bytes);
  return view;
}

describe("tick line scanner (the JSON Lines fast path)", () => {
  const scanner = new TickLineScanner();

  test("takes ordinary ticker lines, values identical to the validator's", () => {
    const lines = generateTicks({ n: 3000, seed: 21, outOfOrderMs: 800 });
    const fast = lines.filter((l) => check(scanner, l)).length;
    assert.equal(fast, lines.length);
  });

  test("hand-picked edge cases: never accepts what the validator rejects", () => {
    const base = '{"type":"ticker","product_id":"ETH-USD","price":"1846.55","last_size":"0.5","time":"2023-06-09T12:26:00.123456Z"}';
    const variants = [
      base,
      base.replace('"1846.55"', "1846.55"),
      base.replace('"1846.55"', "01846.55"),
      base.replace('"1846.55"', '"01846.55"'),
      base.replace('"1846.55"', '"1846."'),
      base.replace('"1846.55"', '".5"'),
      base.replace('"1846.55"', '"+1846.55"'),
      base.replace('"1846.55"', '"1.84655e3"'),
      base.replace('"1846.55"', "1.84655e3"),
      base.replace('"1846.55"', '"0.1234567890123456789"'),
      base.replace('"1846.55"', '"12345678901234567890"'),
      base.replace('"0.5"', '"-0"'),
      base.replace('"0.5"', "-0"),
      base.replace('"0.5"', '"0"'),
      base.replace('"ETH-USD"', '"ETH\\u002dUSD"'),
      base.replace('"ETH-USD"', '"ÉTH-USD"'),
      base.replace('"ETH-USD"', '""'),
      base.replace('"ticker"', '"tickers"'),
      base.replace('"ticker"', '"Ticker"'),
      base.replace('"type"', '"typ\\u0065"'),
      base.replace("}", ',"type":"heartbeat"}'),
      base.replace("}", ',"price":"2"}'),
      base.replace("}", ',"extra":{"a":[1,2]}}'),
      base.replace("}", ',"extra":[]}'),
      base.replace("}", ',"extra":true,"x":null,"y":false}'),
      base.replace("}", ',"extra":tru}'),
      base.replace("}", ',"extra":-}'),
      base.replace("}", ',"extra":1.}'),
      base.replace("}", ',"extra":1e}'),
      base.replace("}", ',"extra":"a\tb"}'),
      base.replace("}", ',}'),
      base.replace("{", "{,"),
      `${base} `,
      `${base}x`,
      ` \t${base}\r`,
      base.replace(":", " : "),
      base.replace('"time":"2023-06-09T12:26:00.123456Z"', '"time":"2023-06-09T12:26:00.123456"'),
      base.replace('"time":"2023-06-09T12:26:00.123456Z"', '"time":1686313560123'),
      "{}",
      "[]",
      "",
      "{",
    ];
    for (const v of variants) check(scanner, v);
    assert.ok(check(scanner, base.replace('"1846.55"', "1846.55")));
    assert.ok(check(scanner, base.replace("}", ',"price":"2"}')) && scanner.price === 2, "a duplicate key: the last one wins, as in JSON.parse");
  });

  test("side, trade_id and sequence: every JSON form gives validateTick's value or a decline", () => {
    const base = '{"type":"ticker","product_id":"ETH-USD","price":"1846.55","last_size":"0.5","time":"2023-06-09T12:26:00.123456Z"';
    const values = [
      '"buy"', '"sell"', '""', '"b\\u0075y"', '"ç"', '"Ω"', "12", "0", "-0", "-17", "1.5", "-2.5e3", "1E2", "1e400", "-1e400",
      "123456789012345", "1234567890123456", "9007199254740993", "-9007199254740993", "123456789012345678901234567890",
      "0.1", "null", "true", "false", '"881613"', '"0x1F"', '{"a":1}', "[1]",
    ];
    let accepted = 0;
    for (const field of ["side", "trade_id", "sequence"]) {
      for (const v of values) {
        const line = `${base},"${field}":${v}}`;
        if (check(scanner, line)) accepted++;
      }
    }
    // Everything plain is taken (the nested values and escapes are not).
    assert.ok(accepted >= 3 * 20, `${accepted} accepted`);
    const all = `${base},"side":"sell","trade_id":"T-9","sequence":333938798,"side":"buy","trade_id":881613}`;
    assert.ok(check(scanner, all));
    assert.deepEqual(
      [scanner.tick().side, scanner.tick().trade_id, scanner.tick().sequence],
      ["buy", 881613, 333938798],
      "duplicates: the last one wins",
    );
    assert.ok(check(scanner, `${base}}`));
    assert.equal(scanner.tick().side, undefined, "a line without the optional fields does not inherit the previous line's");
    assert.equal(check(scanner, `${base},"side":"vendé"}`), false, "non-ASCII text the Tick keeps is left to the slow path");
    assert.ok(check(scanner, `${base},"sequence":"séq"}`), "a string sequence is dropped by validateTick, so it needs no decoding");
  });

  test("the recorded Coinbase feed: every line gives validateTick's whole Tick", async () => {
    const { readFileSync } = await import("node:fs");
    const text = readFileSync(new URL("../../data/coinbase-ticker-2021-04-17.jsonl", import.meta.url), "utf8");
    const lines = text.split("\n").filter((l) => l.trim() !== "");
    let fast = 0;
    for (const line of lines) if (check(scanner, line)) fast++;
    assert.ok(fast > lines.length * 0.9, `${fast} of ${lines.length} on the fast path`);
  });

  test("fuzz: thousands of mutated lines, the scanner never disagrees with JSON.parse + validateTick", () => {
    let seed = 99;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const alphabet = ['"', "{", "}", "[", "]", ":", ",", "\\", "-", "+", ".", "e", "E", "0", "7", " ", "\t", "\u0001", "é", "t", "n", "x", "s"];
    const lines = generateTicks({ n: 400, seed: 8, malformedRate: 0.2 });
    let accepted = 0;
    let total = 0;
    for (const line of lines) {
      for (let k = 0; k < 20; k++) {
        const chars = [...line];
        const edits = 1 + Math.floor(rnd() * 3);
        for (let e = 0; e < edits; e++) {
          const at = Math.floor(rnd() * chars.length);
          const op = rnd();
          const c = alphabet[Math.floor(rnd() * alphabet.length)]!;
          if (op < 0.33) chars.splice(at, 1);
          else if (op < 0.66) chars.splice(at, 0, c);
          else chars[at] = c;
        }
        total++;
        if (check(scanner, chars.join(""))) accepted++;
      }
    }
    // Many mutations hit values the scanner does not care about, so a fair share stays valid.
    assert.ok(accepted > total * 0.05 && accepted < total, `${accepted} of ${total} accepted`);
  });

  const base = '{"type":"ticker","sequence":333938798,"product_id":"BAND-GBP","price":"14.7775","open_24h":"14.6647","volume_24h":"94381.28000000","low_24h":"14.3691","high_24h":"16.55","volume_30d":"2295579.57000000","best_bid":"14.7550","best_ask":"14.8060","side":"buy","time":"2021-04-17T16:43:30.244075Z","trade_id":881613,"last_size":"0.04"}';

  test("the exchange's layout: with or without the size keys, every value form, lines cut short", () => {
    const sizes = base.replace('"best_bid":"14.7550"', '"best_bid":"14.7550","best_bid_size":"0.5"').replace('"best_ask":"14.8060"', '"best_ask":"14.8060","best_ask_size":"2.25"');
    for (const line of [base, sizes]) assert.ok(check(scanner, line), line);
    const variants = [
      sizes.replace(',"best_ask_size":"2.25"', ""),
      sizes.replace(',"best_bid_size":"0.5"', ""),
      sizes.replace('"best_bid_size":"0.5"', '"best_bid_size":0.5'),
      base.replace('"sequence":333938798', '"sequence":"333938798"'),
      base.replace('"sequence":333938798', '"sequence":-0'),
      base.replace('"sequence":333938798', '"sequence":3.3e8'),
      base.replace('"sequence":333938798', '"sequence":null'),
      base.replace('"sequence":333938798', '"sequence":0333'),
      base.replace('"trade_id":881613', '"trade_id":"881613"'),
      base.replace('"trade_id":881613', '"trade_id":"T-1é"'),
      base.replace('"price":"14.7775"', '"price":14.7775'),
      base.replace('"price":"14.7775"', '"price":"14.7775","price":"15"'),
      base.replace('"type":"ticker"', '"type":"ticker","type":"snapshot"'),
      base.replace('"type":"ticker"', '"type":"snapshot","type":"ticker"'),
      base.replace('"side":"buy"', '"side":"sell"'),
      base.replace('"side":"buy"', '"side":"bu"'),
      base.replace('"side":"buy"', '"side":"BUY"'),
      base.replace('"side":"buy"', '"side":""'),
      base.replace('"side":"buy"', '"side":1'),
      base.replace('"open_24h":"14.6647"', '"open_24h":"14.66\\n47"'),
      base.replace('"open_24h":"14.6647"', '"open_24h":"14.66é47"'),
      base.replace('"open_24h":"14.6647"', '"open_24h":{"a":1}'),
      base.replace('"open_24h":"14.6647"', '"open_24h":"a}"'),
      base.replace(',"last_size":"0.04"}', '}'),
      base.replace('{"type"', '{ "type"'),
      base.replace('"low_24h"', '"low_24H"'),
      base.replace('"low_24h"', '"low_24h "'),
      base.replace('"product_id"', '"product_iD"'),
      base.replace('"product_id":"BAND-GBP"', '"product_id":"BAND-GBPÅ"'),
      base.replace('"BAND-GBP"', '"BAND\\"GBP"'),
    ];
    for (const v of variants) check(scanner, v);
    // Every prefix that still ends in a brace, with the rest of the line (the closing quote included) after it in
    // the same buffer: nothing past the line's end may be read.
    for (let cut = 1; cut < base.length - 1; cut++) {
      const text = `${base.slice(0, cut)}}`;
      assert.equal(check(scanner, text, { after: base.slice(cut) }), false, text);
      assert.equal(check(scanner, text, { after: "", plain: true }), false, text);
      check(scanner, base.slice(cut), { before: base.slice(0, cut), after: "", plain: true });
    }
  });

  test("fuzz: keys shuffled, duplicated, dropped and added, values of every kind, compact or spaced", () => {
    const rnd = prng(77);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const keys = ["type", "product_id", "price", "last_size", "time", "side", "trade_id", "sequence", "best_bid", "best_bid_size", "x"];
    const values = ['"ticker"', '"ETH-USD"', '"1846.55"', "1846.55", '"0"', '"-0"', "0", '"1e3"', '"2023-06-09T12:26:00.123456Z"', '"buy"', '"sell"', "881613", '"881613"', "-1", "null", "true", '""', '"a b"'];
    let accepted = 0;
    for (let k = 0; k < 4000; k++) {
      const tick = JSON.parse(pick(generateTicks({ n: 1, seed: k }))) as Record<string, unknown>;
      const entries = Object.entries(tick).map(([key, v]) => [key, JSON.stringify(v)] as [string, string]);
      for (let e = Math.floor(rnd() * 4); e > 0; e--) {
        const op = rnd();
        const at = Math.floor(rnd() * entries.length);
        if (op < 0.25) entries.splice(at, 1);
        else if (op < 0.5) entries.splice(at, 0, [pick(keys), pick(values)]);
        else if (op < 0.75) entries.splice(at, 0, entries[Math.floor(rnd() * entries.length)]!);
        else entries.push(...entries.splice(at, 1));
      }
      const [comma, colon] = pick([[",", ":"], [", ", ": "], [" ,", " :"], [",\t", ":\r\n"]] as const);
      const line = `{${entries.map(([key, v]) => `"${key}"${colon}${v}`).join(comma)}}`;
      if (check(scanner, line, { plain: rnd() < 0.3, before: pick(["", "x", '"}']) })) accepted++;
    }
    assert.ok(accepted > 1000 && accepted < 4000, `${accepted} accepted`);
  });

  test("fuzz: mutated times in a ticker line (leap days, zones, fractions, bad digits, non-ASCII)", () => {
    const rnd = prng(5);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const times = [
      "2021-04-17T16:43:30.244075Z", "2024-02-29T00:00:00Z", "2023-02-29T00:00:00Z", "2000-02-29T23:59:59.999999999Z",
      "1900-02-29T00:00:00Z", "2021-04-31T00:00:00Z", "2021-12-31T23:59:59,5z", "2021-04-17t16:43:30+05:30",
      "2021-04-17T16:43:30-0800", "2021-04-17T16:43:30.1+24:00", "2021-04-17T16:43:30.Z", "0000-01-01T00:00:00Z",
    ];
    const alphabet = ["0", "1", "2", "9", "-", ":", "T", "t", "Z", "z", "+", ".", ",", " ", "é", "\u0660", "\uFF10", "\u0130", "\u0000", '"', "\\"];
    let accepted = 0;
    for (let k = 0; k < 6000; k++) {
      const chars = [...pick(times)];
      for (let e = Math.floor(rnd() * 3); e > 0; e--) {
        const at = Math.floor(rnd() * (chars.length + 1));
        const op = rnd();
        if (op < 0.33) chars.splice(at, 1);
        else if (op < 0.66) chars.splice(at, 0, pick(alphabet));
        else chars[at] = pick(alphabet);
      }
      if (check(scanner, base.replace("2021-04-17T16:43:30.244075Z", chars.join("")))) accepted++;
    }
    assert.ok(accepted > 1000 && accepted < 6000, `${accepted} accepted`);
  });

  test("product ids are kept as text, not as views of a buffer the reader goes on to reuse", () => {
    const buf = Buffer.alloc(base.length + 8);
    for (let k = 0; k < 3000; k++) {
      const product = `P${(k * 7919) % 1000}-USD`.padEnd(8, "X");
      const line = base.replace("BAND-GBP", product);
      buf.fill(0x20);
      const n = buf.write(line);
      assert.ok(scanner.scan(buf, 0, n));
      assert.equal(scanner.productId, product);
    }
  });
});
