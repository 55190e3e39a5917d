import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { main } from "../../cli/main.js";
import { generateTicks, writeTicksFile } from "../../src/tick/generate.js";
import { parseTickLine } from "../../src/tick/validate.js";
import { captureStream, quixlab } from "../helpers/cli.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const COINBASE = join(root, "data/coinbase-ticker-2021-04-17.jsonl");

let dir: string;

describe("quixlab batch", () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "quixlab-cli-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("prints JSON Lines records sorted by (key, start) when stdout is not a terminal", async () => {
    const r = await quixlab(["batch", "src/feature/shipped/ohlc.ts#ohlc1m", "--ticks", COINBASE]);
    assert.equal(r.code, 0, r.err);
    const records = r.out.trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(records.length, 15);
    assert.equal(records.reduce((n, x) => n + x.count, 0), 107);
    assert.deepEqual(Object.keys(records[0]), ["key", "start", "end", "open", "high", "low", "close", "volume", "count"]);
    const order = records.map((x) => `${x.key} ${x.start}`);
    assert.deepEqual(order, [...order].sort());
    assert.match(r.err, /107 ticks → 15 windows/);
    assert.ok(!(r.out + r.err).includes("\u001b["), "no colour under NO_COLOR / without a TTY");
  });

  test("reports the rejected count and the first reasons with line numbers on stderr", async () => {
    const lines = generateTicks({ n: 200, seed: 3, malformedRate: 0.2 });
    const file = join(dir, "messy.jsonl");
    writeFileSync(file, `${lines.join("\n")}\n`);
    const r = await quixlab(["batch", "src/feature/shipped/ohlc.ts#ohlc1m", "--ticks", file, "--format", "csv"]);
    assert.equal(r.code, 0, r.err);
    const m = /(\d+) lines rejected/.exec(r.err);
    assert.ok(m && Number(m[1]) > 10, r.err);
    const firstBad = lines.findIndex((l) => !parseTickLine(l).ok);
    assert.match(r.err, new RegExp(`line ${firstBad + 1}: `));
    const [header, ...rows] = r.out.trim().split("\n");
    assert.equal(header, "key,start,end,open,high,low,close,volume,count");
    assert.ok(rows.length > 0 && rows.every((row) => row.split(",").length === 9));
  });

  test("--out, --chart and --json", async () => {
    const out = join(dir, "bars.jsonl");
    const chart = join(dir, "bars.svg");
    const r = await quixlab(["batch", "src/feature/shipped/ohlc.ts#ohlc1h", "--ticks", "data/binance-futures-btcusdt-trades-2020-02-22.csv", "--out", out, "--chart", chart, "--json"]);
    assert.equal(r.code, 0, r.err);
    const summary = JSON.parse(r.out);
    assert.deepEqual([summary.ticks, summary.rejected, summary.late, summary.windows], [9999, 0, 0, 3]);
    assert.equal(summary.feature.name, "ohlc1h");
    assert.equal(readFileSync(out, "utf8").trim().split("\n").length, 3);
    const svg = readFileSync(chart, "utf8");
    assert.ok(svg.startsWith("<svg") && svg.trimEnd().endsWith("</svg>"));
    assert.equal((svg.match(/class="candle /g) ?? []).length, 3);
  });

  test("a whole-window function feature runs through the generic engine", async () => {
    const r = await quixlab(["batch", "test/fixtures/features.ts#vwap1m", "--ticks", COINBASE, "--format", "table"]);
    assert.equal(r.code, 0, r.err);
    const [header, first] = r.out.split("\n");
    assert.match(header!, /^key\s+start\s+end\s+vwap\s+first\s+n$/);
    assert.match(first!, /^BAND-BTC\s+2021-04-17T16:43:00Z\s+2021-04-17T16:44:00Z\s+0\.00033458\s+0\.00033458\s+1$/);
  });

  test("a progress bar on stderr for a large file when stderr is a terminal", async () => {
    const file = join(dir, "big.jsonl");
    await writeTicksFile(file, { n: 30_000, seed: 2 });
    const stdout = captureStream(false);
    const stderr = captureStream(true);
    const code = await main(["batch", "src/feature/shipped/ohlc.ts#ohlc1h", "--ticks", file, "--json"], {
      cwd: root,
      stdout,
      stderr,
      env: { NO_COLOR: "1" },
    });
    assert.equal(code, 0, stderr.text());
    assert.match(stderr.text(), /reading \[#+-*\] \d+% \d+\/\d+ MiB/);
    assert.match(stderr.text(), /reading \[#{30}\] 100%/);
    assert.equal(JSON.parse(stdout.text()).ticks, 30_000);
  });

  for (const [what, args, pattern] of [
    ["a missing ticks file", ["src/feature/shipped/ohlc.ts#ohlc1m", "--ticks", "nope.jsonl"], /nope\.jsonl: cannot read the ticks file: no such file — /],
    ["a missing export", ["src/feature/shipped/ohlc.ts#nope", "--ticks", COINBASE], /no export named 'nope' — use one of .*#ohlc1h/],
    ["a missing module", ["src/feature/shipped/none.ts#x", "--ticks", COINBASE], /feature module not found/],
    ["no --ticks", ["src/feature/shipped/ohlc.ts#ohlc1m"], /missing --ticks/],
    ["a bad --format", ["src/feature/shipped/ohlc.ts#ohlc1m", "--ticks", COINBASE, "--format", "xml"], /bad --format 'xml'/],
    ["an unknown flag", ["src/feature/shipped/ohlc.ts#ohlc1m", "--tick", COINBASE], /usage: quixlab batch/],
  ] as const) {
    test(`exit 2 with one clear line for ${what}`, async () => {
      const r = await quixlab(["batch", ...args]);
      assert.equal(r.code, 2);
      assert.match(r.err, /^error: /);
      assert.match(r.err, pattern);
      assert.equal(r.out, "");
    });
  }
});
