import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { InputError } from "../../src/errors/index.js";
import { parseCsvMap, splitCsv, TARDIS_TRADES_MAP } from "../../src/tick/csv.js";
import { generateTicks, writeTicksFile } from "../../src/tick/generate.js";
import { readTickColumns, readTicks } from "../../src/tick/read.js";
import type { TickResult } from "../../src/tick/types.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const shared = process.env.QUIXLAB_SHARED_DATA ?? resolve(root, "../shared/data");
const tick = (product: string, price: string, size: string, time: string) =>
  JSON.stringify({ type: "ticker", product_id: product, price, last_size: size, time });

let dir: string;
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
async function all(path: string, opts = {}): Promise<TickResult[]> {
  const out: TickResult[] = [];
  for await (const r of readTicks(path, opts)) out.push(r);
  return out;
}

describe("tick readers", () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "quixlab-read-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("JSON Lines: blank lines skipped, CRLF and BOM tolerated, 1-based line numbers, last line without newline", async () => {
    const text = `\uFEFF${tick("A", "1", "1", "2021-01-01T00:00:00Z")}\r\n\r\n  \n{"type":"ticker"\n${tick("B", "2", "0", "2021-01-01T00:00:01.5Z")}`;
    const rs = await all(file("a.jsonl", text));
    assert.equal(rs.length, 3);
    assert.ok(rs[0]!.ok && rs[0]!.tick.product_id === "A");
    assert.ok(!rs[1]!.ok && rs[1]!.rejection.line === 4 && rs[1]!.rejection.reason === "bad JSON" && rs[1]!.rejection.raw === '{"type":"ticker"');
    assert.ok(rs[2]!.ok && rs[2]!.tick.time === Date.UTC(2021, 0, 1, 0, 0, 1, 500));
  });

  test("the real Coinbase recording: 107 valid ticks, none rejected", async () => {
    const rs = await all(join(shared, "coinbase-ticker-2021-04-17.jsonl"));
    assert.equal(rs.length, 107);
    assert.ok(rs.every((r) => r.ok));
  });

  test("JSON array: streamed element by element, with the line each element starts on", async () => {
    const text = `[\n  ${tick("A", "1", "1", "2021-01-01T00:00:00Z")},\n  {"type":"ticker","product_id":"B","price":"x,]}","last_size":"1","time":"2021-01-01T00:00:00Z"},\n  ${tick("C", "3", "1", "2021-01-01T00:00:02Z")}\n]\n`;
    const rs = await all(file("a.json", text));
    assert.equal(rs.length, 3);
    assert.ok(rs[0]!.ok);
    assert.ok(!rs[1]!.ok && rs[1]!.rejection.line === 3 && rs[1]!.rejection.reason === "non-numeric");
    assert.ok(rs[2]!.ok && rs[2]!.tick.product_id === "C");
    assert.deepEqual(await all(file("empty.json", " [ ] ")), []);
  });

  test("JSON array: a file that is not an array is an InputError naming the file", async () => {
    await assert.rejects(all(file("obj.json", '{"a":1}')), (e: unknown) => e instanceof InputError && e.context.file !== undefined && /\[/.test(e.message));
    await assert.rejects(all(file("trail.json", "[] x")), InputError);
  });

  test("CSV with the Tardis mapping: the real Binance trades file, µs timestamps floored to ms", async () => {
    const rs = await all(join(shared, "binance-futures-btcusdt-trades-2020-02-22.csv"), { csvMap: TARDIS_TRADES_MAP });
    assert.equal(rs.length, 9999);
    const first = rs[0]!;
    assert.ok(first.ok);
    assert.deepEqual({ ...first.tick }, { product_id: "BTCUSDT", price: 9682, last_size: 0.132, time: 1582329602111, side: "buy", trade_id: 42377944, sequence: undefined });
    // Same file, no mapping given: the Tardis header is recognised.
    const auto = await all(join(shared, "binance-futures-btcusdt-trades-2020-02-22.csv"));
    assert.deepEqual(auto.map((r) => r.ok && r.tick.time), rs.map((r) => r.ok && r.tick.time));
  });

  test("CSV: header names as mapping, ISO time, quoted fields, empty cells are missing fields", async () => {
    const text =
      'product_id,price,last_size,time\n"ETH-USD","1,846.5",1,2021-01-01T00:00:00Z\nETH-USD,1846.5,,2021-01-01T00:00:00Z\n"ETH ""X""",2,1,2021-01-01T00:00:01+01:00\n' +
      '"two\nlines",3,1,2021-01-01T00:00:02Z\nB,-1,1,2021-01-01T00:00:03Z\n';
    const rs = await all(file("h.csv", text));
    assert.equal(rs.length, 5);
    assert.ok(rs[3]!.ok && rs[3]!.tick.product_id === "two\nlines", "a quoted field may span lines");
    assert.ok(!rs[4]!.ok && rs[4]!.rejection.line === 7 && rs[4]!.rejection.raw === "B,-1,1,2021-01-01T00:00:03Z");
    assert.ok(!rs[0]!.ok && rs[0]!.rejection.reason === "non-numeric" && rs[0]!.rejection.line === 2);
    assert.ok(!rs[1]!.ok && rs[1]!.rejection.reason === "missing field" && rs[1]!.rejection.field === "last_size");
    assert.ok(rs[2]!.ok && rs[2]!.tick.product_id === 'ETH "X"' && rs[2]!.tick.time === Date.UTC(2020, 11, 31, 23, 0, 1));
  });

  test("CSV mapping errors name the problem", async () => {
    assert.throws(() => parseCsvMap("product_id=symbol,price=price"), /last_size, time/);
    assert.throws(() => parseCsvMap("product_id=s,price=p,last_size=a,time=t:hours"), /time unit/);
    assert.throws(() => parseCsvMap("colour=s"), /unknown tick field/);
    assert.deepEqual(parseCsvMap(TARDIS_TRADES_MAP).timeUnit, "us");
    const p = file("m.csv", "a,b\n1,2\n");
    await assert.rejects(all(p), (e: unknown) => e instanceof InputError && /--csv-map/.test(e.remedy ?? ""));
    await assert.rejects(all(p, { csvMap: "product_id=a,price=b,last_size=c,time=d" }), (e: unknown) => e instanceof InputError && e.context.line === 1 && /column 'c'/.test(e.message));
    assert.deepEqual(splitCsv('a,"b,c",""'), ["a", "b,c", ""]);
  });

  test("unreadable files are InputErrors (exit 2) naming the file", async () => {
    for (const p of [join(dir, "missing.jsonl"), dir]) {
      await assert.rejects(all(p), (e: unknown) => e instanceof InputError && e.exitCode === 2 && e.context.file === p);
    }
    await assert.rejects(all(file("x.bin", "hello")), /cannot tell the ticks format/);
    const sniffed = await all(file("ticks.txt", `${tick("A", "1", "1", "2021-01-01T00:00:00Z")}\n`));
    assert.equal(sniffed.length, 1);
  });

  test("files are streamed: progress arrives chunk by chunk, well before the end", async () => {
    const p = join(dir, "big.jsonl");
    const { bytes } = await writeTicksFile(p, { n: 12_000, seed: 5 });
    const seen: number[] = [];
    const rs = await readTickColumns(p, {
      onProgress: ({ bytes: b, total }) => {
        assert.equal(total, bytes);
        seen.push(b);
      },
    });
    assert.equal(rs.ticks, 12_000);
    assert.ok(seen.length >= 3, `progress calls: ${seen.length}`);
    assert.ok(seen[0]! <= 1 << 20 && seen[0]! < bytes);
    assert.equal(seen.at(-1), bytes);
  });

  test("readTickColumns equals readTicks (ticks in order, same rejections) on a messy generated file", async () => {
    const lines = generateTicks({ n: 5000, seed: 11, malformedRate: 0.1, outOfOrderMs: 500 });
    const p = file("messy.jsonl", `${lines.join("\n")}\n`);
    const rows = await all(p);
    const cols = await readTickColumns(p);
    const ok = rows.flatMap((r) => (r.ok ? [r.tick] : []));
    const bad = rows.flatMap((r) => (r.ok ? [] : [r.rejection]));
    assert.equal(cols.ticks, ok.length);
    assert.equal(cols.rejected, bad.length);
    assert.ok(cols.rejected > 300);
    assert.deepEqual(cols.rejections, bad.slice(0, 100));
    for (let i = 0; i < ok.length; i++) {
      const t = ok[i]!;
      const c = cols.columns;
      assert.deepEqual([c.keys[c.key[i]!], c.time[i], c.price[i], c.size[i]], [t.product_id, t.time, t.price, t.last_size]);
    }
    const reasons = new Set(bad.map((r) => r.reason));
    for (const r of ["bad JSON", "not an object", "not a ticker", "missing field", "non-numeric", "non-finite", "non-positive", "negative", "bad time", "empty"]) {
      assert.ok(reasons.has(r), `the generator makes '${r}' lines`);
    }
  });
});
