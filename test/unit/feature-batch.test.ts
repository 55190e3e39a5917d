import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ohlcvTumblingColumns } from "../../src/feature/fast.js";
import { defineFeature } from "../../src/feature/define.js";
import { ohlcv } from "../../src/feature/ohlcv.js";
import { ohlc } from "../../src/feature/shipped/ohlc.js";
import { ticksToColumns } from "../../src/tick/columns.js";
import { frameToTickResults, ticksToFrame } from "../../src/tick/frame.js";
import { generateTicks } from "../../src/tick/generate.js";
import type { Tick } from "../../src/tick/types.js";
import { parseTickLine } from "../../src/tick/validate.js";

let dir: string;
let file: string;
let lines: string[];
let ticks: Tick[];

describe("feature.batch over every input form", () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "quixlab-batch-"));
    // Disorder (4 s) beyond the 2 s grace makes late ticks, so the late policy is compared too.
    lines = generateTicks({ n: 30_000, products: 3, seed: 4, gaps: true, outOfOrderMs: 4000, malformedRate: 0.01, intervalMs: 40 });
    file = join(dir, "t.jsonl");
    writeFileSync(file, `${lines.join("\n")}\n`);
    ticks = lines.map((l) => parseTickLine(l)).flatMap((r) => (r.ok ? [r.tick] : []));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("the columnar fast path equals the generic engine, late ticks included (sizes, grace, origins)", async () => {
    for (const opts of [
      { size: "1m" },
      { size: "1h" },
      { size: "1s", grace: "0s" },
      { size: "500ms", grace: "3s" },
      { size: "1m", origin: "start" as const },
      { size: "7s", grace: "1s", origin: "start" as const },
    ]) {
      const f = ohlc(opts);
      // The same feature with a key function of its own takes the generic engine (the fast path needs the default key).
      const twin = defineFeature({ name: f.name, window: f.window, agg: ohlcv(), key: (t) => t.product_id });
      const fastLate: string[] = [];
      const fast = await f.batchRecords(file, { onLate: (t, i) => fastLate.push(`${i.key} ${t.time} ${t.price} ${i.watermark}`) });
      const engineLate: string[] = [];
      const engine = await twin.batchRecords(file, { onLate: (t, i) => engineLate.push(`${i.key} ${t.time} ${t.price} ${i.watermark}`) });
      assert.deepEqual(fast, engine, JSON.stringify(opts));
      assert.equal(engineLate.length, engine.late);
      assert.deepEqual(fastLate, engineLate, "the same late ticks, in the same order, with the same watermark");
      if (opts.grace === "0s") assert.ok(engine.late > 100, "late ticks exist with no grace");
    }
  });

  test("counts: ticks + rejected = lines; first 100 rejections kept with line numbers", async () => {
    const r = await ohlc({ size: "1m" }).batchRecords(file);
    assert.equal(r.ticks + r.rejected, lines.length);
    assert.equal(r.ticks, ticks.length);
    assert.equal(r.rejections.length, 100);
    for (const x of r.rejections) assert.equal(parseTickLine(lines[x.line! - 1]!).ok, false);
  });

  test("file, Tick[], raw messages, JSON strings, async iterable and DataFrame all give the same windows", async () => {
    const f = ohlc({ size: "1m" });
    const fromFile = await f.batchRecords(file);
    const valid = lines.filter((l) => parseTickLine(l).ok);
    const fromTicks = await f.batchRecords(ticks);
    const fromMessages = await f.batchRecords(valid.map((l) => JSON.parse(l)));
    const fromStrings = await f.batchRecords(valid);
    const fromAsync = await f.batchRecords(
      (async function* () {
        yield* ticks;
      })(),
    );
    const frame = await ticksToFrame(ticks);
    const fromFrame = await f.batchRecords(frame);
    for (const [name, r] of Object.entries({ fromTicks, fromMessages, fromStrings, fromAsync, fromFrame })) {
      assert.deepEqual(r.records, fromFile.records, name);
      assert.equal(r.late, fromFile.late, name);
    }
  });

  test("invalid items of an iterable are rejected with their 1-based position", async () => {
    const r = await ohlc({ size: "1m" }).batchRecords([ticks[0], { type: "ticker", price: "1" }, "not json", ticks[1]]);
    assert.equal(r.ticks, 2);
    assert.deepEqual(
      r.rejections.map((x) => [x.line, x.reason]),
      [
        [2, "missing field"],
        [3, "bad JSON"],
      ],
    );
  });

  test("feature.batch returns a danfojs DataFrame in the output record shape", async () => {
    const f = ohlc({ size: "1h" });
    const df = await f.batch(ticks);
    const records = (await f.batchRecords(ticks)).records;
    assert.deepEqual(df.columns, ["key", "start", "end", "open", "high", "low", "close", "volume", "count"]);
    assert.equal(df.shape[0], records.length);
    assert.deepEqual(df.values, records.map((r) => Object.values(r)));
    const empty = await f.batch([]);
    assert.equal(empty.shape[0], 0);
  });

  test("DataFrame helpers round-trip ticks; bad rows are explained", async () => {
    const sample = ticks.slice(0, 50);
    const df = await ticksToFrame(sample);
    const back = frameToTickResults(df);
    assert.deepEqual(
      back.map((r) => r.ok && [r.tick.product_id, r.tick.time, r.tick.price, r.tick.last_size]),
      sample.map((t) => [t.product_id, t.time, t.price, t.last_size]),
    );
    const { DataFrame } = await import("danfojs-node");
    const odd = frameToTickResults(new DataFrame({ product_id: ["A", "B"], price: [1, -1], last_size: [1, 1], time: ["2021-01-01T00:00:00Z", 5] }));
    assert.ok(odd[0]!.ok && odd[0]!.tick.time === Date.UTC(2021, 0, 1));
    assert.ok(!odd[1]!.ok && odd[1]!.rejection.reason === "non-positive" && odd[1]!.rejection.line === 2);
  });

  test("ohlcvTumblingColumns over columns equals the array path", async () => {
    const f = ohlc({ size: "1m" });
    const cols = ticksToColumns(ticks);
    const direct = ohlcvTumblingColumns(cols, f.window);
    const viaBatch = await f.batchRecords(ticks);
    assert.deepEqual(direct.records, viaBatch.records);
    assert.equal(direct.late, viaBatch.late);
  });
});
