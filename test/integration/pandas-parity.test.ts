/**
 * Parity with an independent pandas oracle (test/integration/pandas/oracle.py), computed in this test on the two
 * real recordings in ../shared/data and on a generated file of 100,000 ticks with gaps and disorder within grace:
 * tumbling 1 h and 1 min (groupby + resample, origin epoch and start) and hopping 60 s / 1 s (direct computation).
 * Every window must match: OHLC and count exactly, volume within 1e-9 relative. The built-in features go through
 * the CLI (`quixlab batch … --format jsonl`) as a user would run them.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { ohlc } from "../../src/feature/shipped/ohlc.js";
import { TARDIS_TRADES_MAP } from "../../src/tick/csv.js";
import { writeTicksFile } from "../../src/tick/generate.js";
import { quixlab, repoRoot as root } from "../helpers/cli.js";
import { assertSameBars, type Bar, pandasOracle } from "./pandas/oracle-client.js";

const run = promisify(execFile);
const shared = process.env.QUIXLAB_SHARED_DATA ?? resolve(root, "../shared/data");
const COINBASE = join(shared, "coinbase-ticker-2021-04-17.jsonl");
const TARDIS = join(shared, "binance-futures-btcusdt-trades-2020-02-22.csv");

/** `quixlab batch` as a user runs it; returns the JSON Lines records it printed. */
async function cli(ref: string, file: string, extra: string[] = []): Promise<Bar[]> {
  const r = await quixlab(["batch", ref, "--ticks", file, "--format", "jsonl", ...extra]);
  assert.equal(r.code, 0, r.err);
  return r.out
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

/** Parity with pandas, and the batch output's own shape: fields in DESIGN.md order, sorted by (key, start). */
function assertParity(ours: Bar[], theirs: Bar[], label: string): void {
  assertSameBars(ours, theirs, label);
  for (const r of ours) assert.deepEqual(Object.keys(r), ["key", "start", "end", "open", "high", "low", "close", "volume", "count"], `${label}: record key order`);
  const id = (r: Bar) => `${r.key}|${r.start}|${r.end}`;
  const sorted = [...ours].sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : x.start - y.start));
  assert.deepEqual(ours.map(id), sorted.map(id), `${label}: sorted by (key, start)`);
}

/** Some key has a hole: consecutive windows further apart than one step (an empty window was dropped). */
function hasHole(records: Bar[], stepMs: number): boolean {
  return records.some((r, i) => i > 0 && records[i - 1]!.key === r.key && r.start - records[i - 1]!.start > stepMs);
}

const H = 3_600_000;
const M = 60_000;

describe("pandas parity", { timeout: 600_000 }, () => {
  let dir: string;
  let generated: string;

  before(async () => {
    const { stdout } = await run("python3", ["-c", "import pandas, numpy; print(pandas.__version__)"]).catch((e) => {
      throw new Error(`this test needs python3 with pandas (pip install pandas): ${(e as Error).message}`);
    });
    assert.match(stdout, /^\d+\./);
    assert.ok(existsSync(COINBASE) && existsSync(TARDIS), `recordings not found in ${shared} (set QUIXLAB_SHARED_DATA)`);
    dir = mkdtempSync(join(tmpdir(), "quixlab-parity-"));
    generated = join(dir, "generated.jsonl");
    // Disorder (1.5 s) stays within the features' 2 s grace, so pandas (which sorts) and the engine must agree.
    await writeTicksFile(generated, { n: 100_000, products: 3, seed: 26, gaps: true, outOfOrderMs: 1500, intervalMs: 150, malformedRate: 0.005 });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("Coinbase recording: 1 h and 1 min (CLI), 1 h origin start, hopping 60 s / 1 s (CLI)", async () => {
    assertParity(await cli("src/feature/shipped/ohlc.ts#ohlc1h", COINBASE), (await pandasOracle(COINBASE, { kind: "tumbling", sizeMs: H })).records, "coinbase 1h");
    const m1 = await pandasOracle(COINBASE, { kind: "tumbling", sizeMs: M });
    assert.equal(m1.summary.ticks, 107);
    assertParity(await cli("src/feature/shipped/ohlc.ts#ohlc1m", COINBASE), m1.records, "coinbase 1m");
    const start = await ohlc({ size: "1h", origin: "start" }).batchRecords(COINBASE);
    assertParity(start.records, (await pandasOracle(COINBASE, { kind: "tumbling", sizeMs: H, origin: "start" })).records, "coinbase 1h start");
    const hop = await pandasOracle(COINBASE, { kind: "hopping", sizeMs: M, stepMs: 1000 });
    assertParity(await cli("src/feature/shipped/ohlc.ts#ohlc60s", COINBASE), hop.records, "coinbase 60s/1s");
    assert.ok(hop.records.length > 60 * 10, "hopping windows per tick");
  });

  test("Tardis/Binance trades CSV: 1 h and 1 min (CLI, --csv-map), 1 min origin start, hopping 60 s / 1 s", async () => {
    const map = ["--csv-map", TARDIS_TRADES_MAP];
    const h1 = await pandasOracle(TARDIS, { kind: "tumbling", sizeMs: H }, TARDIS_TRADES_MAP);
    assert.equal(h1.summary.ticks, 9999);
    assert.equal(h1.records.length, 3);
    assertParity(await cli("src/feature/shipped/ohlc.ts#ohlc1h", TARDIS, map), h1.records, "tardis 1h");
    assertParity(await cli("src/feature/shipped/ohlc.ts#ohlc1m", TARDIS, map), (await pandasOracle(TARDIS, { kind: "tumbling", sizeMs: M }, TARDIS_TRADES_MAP)).records, "tardis 1m");
    const start = await ohlc({ size: "1m", origin: "start" }).batchRecords(TARDIS, { read: { csvMap: TARDIS_TRADES_MAP } });
    assertParity(start.records, (await pandasOracle(TARDIS, { kind: "tumbling", sizeMs: M, origin: "start" }, TARDIS_TRADES_MAP)).records, "tardis 1m start");
    const hop = await ohlc({ size: "60s", step: "1s" }).batchRecords(TARDIS, { read: { csvMap: TARDIS_TRADES_MAP } });
    assertParity(hop.records, (await pandasOracle(TARDIS, { kind: "hopping", sizeMs: M, stepMs: 1000 }, TARDIS_TRADES_MAP)).records, "tardis 60s/1s");
  });

  test("generated 100,000 ticks, 3 products, gaps, disorder within grace, malformed lines", async () => {
    const h1 = await pandasOracle(generated, { kind: "tumbling", sizeMs: H });
    const ours = await ohlc({ size: "1h" }).batchRecords(generated);
    assert.equal(ours.ticks + ours.rejected, 100_000);
    assert.equal(ours.ticks, h1.summary.ticks, "valid ticks: ours vs the oracle's own validation");
    assert.equal(ours.rejected, h1.summary.rejected, "rejected lines");
    assert.ok(ours.rejected > 100, "the file has malformed lines");
    assert.equal(ours.late, 0, "disorder stays within grace");
    assert.equal(new Set(ours.records.map((r) => r.key)).size, 3);
    assert.ok(hasHole(h1.records, H), "the gaps leave an empty hour for some product");
    assertParity(await cli("src/feature/shipped/ohlc.ts#ohlc1h", generated), h1.records, "generated 1h");

    const m1 = await pandasOracle(generated, { kind: "tumbling", sizeMs: M });
    assert.ok(hasHole(m1.records, M), "the gaps leave empty minutes");
    assertParity(await cli("src/feature/shipped/ohlc.ts#ohlc1m", generated), m1.records, "generated 1m");

    for (const [size, ms] of [
      ["1h", H],
      ["1m", M],
    ] as const) {
      const s = await ohlc({ size, origin: "start" }).batchRecords(generated);
      assertParity(s.records, (await pandasOracle(generated, { kind: "tumbling", sizeMs: ms, origin: "start" })).records, `generated ${size} start`);
    }

    const hop = await ohlc60sRecords(generated);
    assertParity(hop, (await pandasOracle(generated, { kind: "hopping", sizeMs: M, stepMs: 1000 })).records, "generated 60s/1s");
  });
});

async function ohlc60sRecords(file: string): Promise<Bar[]> {
  const { ohlc60s } = await import("../../src/feature/shipped/ohlc.js");
  const r = await ohlc60s.batchRecords(file);
  assert.equal(r.late, 0);
  return r.records;
}
