/**
 * trainingSet against an independent pandas implementation of the point-in-time rule
 * (test/integration/pandas/vector_oracle.py): generated ticks (3 products, about 3.5 hours across UTC midnight,
 * disorder within grace, a few malformed lines), the seed's spec, 24 held-out random times (fixed seed) per key,
 * edge times (a window's end + grace, a millisecond before it, UTC midnight) and eof. Every vector must match
 * window for window. Then `quixlab vector --json` for one key at one time, against the same oracle. No broker.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import type { FeatureVector } from "../../src/serving/index.js";
import { trainingSet } from "../../src/serving/index.js";
import { prng, writeTicksFile } from "../../src/tick/generate.js";
import { quixlab, repoRoot } from "../helpers/cli.js";
import { assertSameBars, type Bar } from "./pandas/oracle-client.js";

const run = promisify(execFile);
const ORACLE = join(resolve(repoRoot), "test/integration/pandas/vector_oracle.py");
const SPEC = "ohlc1h:30d,ohlc1m:today,ohlc60s:latest";
const START = Date.parse("2023-06-09T22:30:00Z");
const MIDNIGHT = Date.parse("2023-06-10T00:00:00Z");
const M = 60_000;
const GRACE = 2_000;

/** The oracle's vectors, one per (key, time). */
async function oracle(file: string, times: readonly (number | "eof")[], keys?: readonly string[]): Promise<FeatureVector[]> {
  const args = [ORACLE, file, "--spec", SPEC, "--times", times.join(","), "--grace-ms", String(GRACE)];
  if (keys) args.push("--keys", keys.join(","));
  const { stdout } = await run("python3", args, { maxBuffer: 1 << 30 });
  return stdout.trim().split("\n").map((l) => JSON.parse(l) as FeatureVector);
}

/** Vector for vector: same key, asOf and, per feature, the same windows in the same order (values as pandas). */
function assertSameVectors(ours: readonly FeatureVector[], theirs: readonly FeatureVector[]): void {
  assert.equal(ours.length, theirs.length, "rows");
  ours.forEach((o, i) => {
    const t = theirs[i]!;
    const label = `${o.key} @ ${o.asOf}`;
    assert.deepEqual([o.key, o.asOf], [t.key, t.asOf], `row ${i}`);
    assert.deepEqual(Object.keys(o.features), Object.keys(t.features), label);
    for (const [name, ov] of Object.entries(o.features)) {
      const tv = t.features[name];
      if (!Array.isArray(ov)) {
        assert.equal(ov === null, tv === null, `${label} ${name}: latest present?`);
        if (ov) assertSameBars([ov as Bar], [tv as Bar], `${label} ${name}`);
        continue;
      }
      const id = (b: { start: number; end: number }) => `${b.start}-${b.end}`;
      assert.deepEqual(ov.map(id), (tv as Bar[]).map(id), `${label} ${name}: windows in order`);
      assertSameBars(ov as Bar[], tv as Bar[], `${label} ${name}`);
    }
  });
}

describe("training set vs pandas", { timeout: 120_000 }, () => {
  let dir: string;
  let file: string;
  const times: (number | "eof")[] = [];

  before(async () => {
    await run("python3", ["-c", "import pandas"]).catch((e) => {
      throw new Error(`this test needs python3 with pandas (pip install pandas): ${(e as Error).message}`);
    });
    dir = mkdtempSync(join(tmpdir(), "quixlab-training-"));
    file = join(dir, "ticks.jsonl");
    // 50,000 lines 250 ms apart: 22:30 to about 02:00 UTC; disorder (1.5 s) within the features' 2 s grace.
    await writeTicksFile(file, { n: 50_000, products: 3, seed: 17, startMs: START, intervalMs: 250, gaps: true, outOfOrderMs: 1500, malformedRate: 0.002 });
    const rand = prng(1717);
    const span = 3.6 * 3_600_000;
    for (let i = 0; i < 24; i++) times.push(Math.floor(START - 10 * M + rand() * (span + 20 * M)));
    // Edges: a minute's end + grace exactly and 1 ms before; either side of UTC midnight; before any tick.
    const end = MIDNIGHT + 37 * M;
    times.push(end + GRACE, end + GRACE - 1, MIDNIGHT - 1, MIDNIGHT, MIDNIGHT + 2 * M + GRACE, START - 1, "eof");
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("every (key, time) vector equals the pandas rule's, at held-out times and eof", async () => {
    const [ours, theirs] = await Promise.all([trainingSet(file, SPEC, times, { nested: true }), oracle(file, times)]);
    assert.equal(new Set(ours.map((r) => r.key)).size, 3, "three products");
    assertSameVectors(ours, theirs);
    // The comparison had something to compare: full lists, latest records, and midnight resetting `today`.
    const at = (key: string, t: number | "eof") => ours.find((r) => r.key === key && r.asOf === t)!;
    const key = ours[0]!.key;
    assert.ok((at(key, "eof").features.ohlc1h as Bar[]).length >= 3, "eof: several hours");
    assert.ok((at(key, MIDNIGHT - 1).features.ohlc1m as Bar[]).length > 60, "before midnight: yesterday's minutes");
    assert.ok((at(key, MIDNIGHT + 2 * M + GRACE).features.ohlc1m as Bar[]).length <= 2, "after midnight: today's only");
    assert.equal(at(key, START - 1).features.ohlc60s, null, "before any tick: no latest");
    assert.ok(ours.filter((r) => r.features.ohlc60s !== null).length > 60, "latest records compared");

    const df = await trainingSet(file, SPEC, times, { fields: ["close"] });
    assert.deepEqual(df.shape[0], ours.length, "the DataFrame has one row per (key, time)");
    const row = ours.findIndex((r) => r.asOf === "eof");
    const cols = df.columns as string[];
    const last = cols.filter((c) => c.startsWith("ohlc1m.close[")).at(-1)!;
    const list = ours[row]!.features.ohlc1m as Bar[];
    assert.equal(df.iat(row, cols.indexOf(last)), list.at(-1)!.close, "the newest minute sits in the last column");
    assert.equal(df.iat(row, cols.indexOf("ohlc1m.n")), list.length);
  });

  test("quixlab vector --json for one key at one time equals the oracle", async () => {
    const t = times[5] as number;
    const [theirs] = await oracle(file, [t], ["ETH-USD"]);
    const r = await quixlab(["vector", "--features", SPEC, "--key", "ETH-USD", "--ticks", file, "--at", new Date(t).toISOString(), "--json"]);
    assert.equal(r.code, 0, r.err);
    assertSameVectors([JSON.parse(r.out) as FeatureVector], [theirs!]);
    const text = await quixlab(["vector", "--features", SPEC, "--key", "ETH-USD", "--ticks", file, "--at", "eof"]);
    assert.equal(text.code, 0, text.err);
    assert.match(text.out, /^ETH-USD as of eof/);
    assert.match(text.out, /ohlc60s \(grace 2s\): latest\n {2}\[/);
    const bad = await quixlab(["vector", "--features", SPEC, "--key", "NOPE", "--ticks", file, "--at", "eof"]);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /key 'NOPE' has no ticks.*BTC-USD/);
  });
});
