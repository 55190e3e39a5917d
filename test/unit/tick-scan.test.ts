import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { generateTicks } from "../../src/tick/generate.js";
import { TickLineScanner } from "../../src/tick/scan.js";
import { parseTickLine } from "../../src/tick/validate.js";

/**
 * The byte scanner may only ever say "valid tick" when JSON.parse + validateTick say so, with the same values: the
 * four it exposes for columns, and the whole Tick (side, trade_id, sequence too; -0 and 0 differ here).
 */
function check(scanner: TickLineScanner, text: string): boolean {
  const buf = Buffer.from(`${text}\n`);
  const fast = scanner.scan(buf, 0, buf.length - 1);
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
});
