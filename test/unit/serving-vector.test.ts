/** The vector spec and the point-in-time rule (src/serving), and trainingSet over a few hand-made ticks. */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { InputError } from "../../src/errors/index.js";
import { ohlc } from "../../src/feature/shipped/ohlc.js";
import { parseVectorSpec, trainingSet, vectorAt } from "../../src/serving/index.js";
import type { WindowRecord } from "../../src/window/types.js";
import { runCli } from "../helpers/cli.js";

const M = 60_000;
const H = 3_600_000;
const D = 86_400_000;
const G = 2_000;
const MIDNIGHT = Date.parse("2023-06-10T00:00:00Z");

/** A window record of `key` over [start, start + size). */
const w = (key: string, start: number, size: number, close = start): WindowRecord => ({ key, start, end: start + size, close });
const starts = (v: unknown) => (Array.isArray(v) ? v.map((r: WindowRecord) => r.start) : (v as WindowRecord | null)?.start ?? null);

describe("parseVectorSpec", () => {
  it("reads durations, today and latest in order", () => {
    const s = parseVectorSpec(" ohlc1h:30d, ohlc1m:today ,ohlc60s:latest,x:90m,y:2d,z:1h");
    assert.deepEqual(
      s.map((p) => [p.feature, p.range.kind === "since" ? p.range.ms : p.range.kind]),
      [["ohlc1h", 30 * D], ["ohlc1m", "today"], ["ohlc60s", "latest"], ["x", 90 * M], ["y", 2 * D], ["z", H]],
    );
    assert.ok(Object.isFrozen(s) && Object.isFrozen(s[0]));
  });

  for (const [text, names] of [
    ["", /empty spec/],
    ["ohlc1h:30d,,ohlc1m:today", /empty part/],
    ["ohlc1h", /part 'ohlc1h' has no range/],
    ["ohlc1h:3x", /part 'ohlc1h:3x' has a bad range '3x'/],
    ["ohlc1h:0s", /empty range/],
    [":30d", /bad feature name ''/],
    ["ohlc1h:30d,ohlc1h:1h", /'ohlc1h' appears twice/],
  ] as const) {
    it(`refuses '${text}' naming the part`, () => {
      assert.throws(() => parseVectorSpec(text), (e: unknown) => e instanceof InputError && names.test(e.message) && e.context.field === "features");
    });
  }
});

describe("vectorAt: the point-in-time rule", () => {
  const spec = parseVectorSpec("m:1h,t:today,l:latest");
  const graces = { m: G, t: G, l: G };
  // Minute windows from 23:50 to 00:09 across UTC midnight, for two keys.
  const minutes = [...Array.from({ length: 20 }, (_, i) => w("A", MIDNIGHT - 10 * M + i * M, M)), w("B", MIDNIGHT, M)];
  const recs = { m: minutes, t: minutes, l: minutes };

  it("a window whose end + grace == T counts; one ms earlier it does not", () => {
    const end = MIDNIGHT - 9 * M; // the first window's end
    assert.deepEqual(starts(vectorAt(recs, "A", end + G, spec, graces).features.l), MIDNIGHT - 10 * M);
    assert.equal(vectorAt(recs, "A", end + G - 1, spec, graces).features.l, null);
  });

  it("before any window: empty lists and a null latest", () => {
    const v = vectorAt(recs, "A", MIDNIGHT - D, spec, graces);
    assert.deepEqual(v, { key: "A", asOf: MIDNIGHT - D, features: { m: [], t: [], l: null } });
  });

  it("today starts at UTC midnight of asOf: before midnight yesterday's windows, after it only today's", () => {
    const before = vectorAt(recs, "A", MIDNIGHT - 1, spec, graces).features;
    assert.equal((before.t as WindowRecord[]).length, 9, "23:50 … 23:58 are final at 23:59:59.999");
    const after = vectorAt(recs, "A", MIDNIGHT + 3 * M + G, spec, graces).features;
    assert.deepEqual(starts(after.t), [MIDNIGHT, MIDNIGHT + M, MIDNIGHT + 2 * M]);
    assert.equal((after.m as WindowRecord[]).length, 13, "1h still reaches back before midnight");
    assert.equal(starts(after.l), MIDNIGHT + 2 * M);
  });

  it("a duration keeps start >= asOf − d, oldest first, other keys left out", () => {
    const at = MIDNIGHT + 9 * M + G;
    const v = vectorAt({ ...recs, m: [...minutes].reverse() }, "A", at, parseVectorSpec("m:5m"), { m: G });
    assert.deepEqual(starts(v.features.m), [5, 6, 7, 8].map((i) => MIDNIGHT + i * M));
    assert.deepEqual(starts(vectorAt(recs, "B", at, spec, graces).features.m), [MIDNIGHT]);
  });

  it("eof: every window counts, ranges measured from the key's latest event time", () => {
    const latest = MIDNIGHT + 9 * M + 30_000; // inside the last window: not final by time, final at eof
    const v = vectorAt(recs, "A", "eof", parseVectorSpec("m:3m,t:today,l:latest"), graces, latest);
    assert.deepEqual(starts(v.features.m), [7, 8, 9].map((i) => MIDNIGHT + i * M), "start >= 00:06:30");
    assert.equal((v.features.t as WindowRecord[]).length, 10);
    assert.equal(starts(v.features.l), MIDNIGHT + 9 * M);
    assert.equal(v.asOf, "eof");
    assert.throws(() => vectorAt(recs, "A", "eof", spec, graces), /latest event time/);
  });

  it("hopping windows: latest is the newest final one", () => {
    const hop = Array.from({ length: 120 }, (_, i) => w("A", MIDNIGHT + i * 1000 - M, M));
    const v = vectorAt({ l: hop }, "A", MIDNIGHT + 10_000 + G, parseVectorSpec("l:latest"), { l: G });
    assert.equal((v.features.l as WindowRecord).end, MIDNIGHT + 10_000);
  });

  it("missing records or graces for a feature are InputErrors naming it", () => {
    assert.throws(() => vectorAt({}, "A", 0, spec, graces), /feature 'm'/);
    assert.throws(() => vectorAt(recs, "A", 0, spec, { m: G }), /grace given for feature 't'/);
  });
});

describe("trainingSet", () => {
  const t0 = MIDNIGHT - 2 * M;
  const ticks = [0, 10_000, 61_000, 125_000, 130_000, 181_000].flatMap((dt, i) => [
    { product_id: "A", price: 100 + i, last_size: 1, time: t0 + dt },
    { product_id: "B", price: 200 + i, last_size: 2, time: t0 + dt + 500 },
  ]);
  const m1 = ohlc({ size: "1m", name: "m1" });

  it("one nested row per (key, time), keys in order, ISO times and eof", async () => {
    const rows = await trainingSet(ticks, "m1:1h,ohlc1m:latest", ["2023-06-10T00:00:02Z", t0 + 61_999, "eof"], { nested: true, features: [m1] });
    assert.deepEqual(rows.map((r) => [r.key, r.asOf]), [["A", MIDNIGHT + G], ["A", t0 + 61_999], ["A", "eof"], ["B", MIDNIGHT + G], ["B", t0 + 61_999], ["B", "eof"]]);
    assert.deepEqual(starts(rows[0]!.features.m1), [t0, t0 + M]);
    assert.deepEqual(starts(rows[1]!.features.m1), [], "the first minute counts from t0 + 62 s");
    assert.deepEqual(starts(rows[2]!.features.m1), [t0, t0 + M, t0 + 2 * M, t0 + 3 * M]);
    assert.equal(starts(rows[2]!.features.ohlc1m), t0 + 3 * M);
    assert.equal(starts(rows[4]!.features.ohlc1m), null, "nothing final for B either");
  });

  it("a DataFrame with right-aligned list columns and latest columns", async () => {
    const df = await trainingSet(ticks, "m1:today,ohlc1m:latest", [MIDNIGHT + 2 * M + G - 1, "eof"], { features: [m1], fields: ["close"], keys: ["A"] });
    assert.deepEqual(df.columns, ["key", "asOf", "m1.n", "m1.close[0]", "m1.close[1]", "ohlc1m.close"]);
    assert.deepEqual(df.values, [
      ["A", MIDNIGHT + 2 * M + G - 1, 1, null, 104, 104],
      ["A", "eof", 2, 104, 105, 105],
    ]);
  });

  it("an unknown feature or a bad time is an InputError", async () => {
    await assert.rejects(trainingSet(ticks, "nope:1h", [0]), (e: InputError) => /unknown feature 'nope'.*ohlc1h, ohlc1m, ohlc60s/.test(e.oneLine()));
    await assert.rejects(trainingSet(ticks, "ohlc1m:1h", ["yesterday"]), /bad time 'yesterday'/);
  });
});

describe("quixlab vector (flags)", () => {
  const dir = mkdtempSync(join(tmpdir(), "quixlab-vector-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "t.jsonl");
  const line = (s: number, price: number) => JSON.stringify({ type: "ticker", product_id: "A", price: String(price), last_size: "1", time: new Date(MIDNIGHT + s * 1000).toISOString() });
  writeFileSync(file, `${[line(1, 10), line(30, 11), line(70, 12)].join("\n")}\n`);
  const base = ["vector", "--features", "ohlc1m:today,ohlc60s:latest", "--key", "A", "--ticks", file];

  it("prints the vector as JSON and as a summary", async () => {
    const json = await runCli(dir, ...base, "--at", String(MIDNIGHT + M + G), "--json");
    assert.equal(json.code, 0, json.err);
    const v = JSON.parse(json.out);
    assert.deepEqual([v.key, v.asOf, v.features.ohlc1m.length, v.features.ohlc60s.end], ["A", MIDNIGHT + M + G, 1, MIDNIGHT + M]);
    const text = await runCli(dir, ...base, "--at", "eof");
    assert.match(text.out, /^A as of eof[\s\S]*ohlc1m \(grace 2s\): 2 windows, 2023-06-10T00:00:00Z … 2023-06-10T00:02:00Z/);
  });

  for (const [args, message] of [
    [["--at", "eof", "--features", "ohlc1m"], /part 'ohlc1m' has no range/],
    [["--at", "soon"], /bad time 'soon'/],
    [["--at", "eof", "--key", "B"], /key 'B' has no ticks.*use one of A/],
    [["--at", "eof", "--redis", "redis://x"], /--redis reads the store at its own watermark: give --redis, or --ticks with --at/],
  ] as const) {
    it(`exit 2: ${message}`, async () => {
      const r = await runCli(dir, ...base, ...args);
      assert.equal(r.code, 2, r.out);
      assert.match(r.err, message);
    });
  }

  it("exit 2 without --at", async () => {
    const r = await runCli(dir, ...base);
    assert.equal(r.code, 2);
    assert.match(r.err, /missing --at/);
  });
});
