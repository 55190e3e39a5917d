/** `quixlab batch --partitions N`: a feature closed by the input partition runs as the stream would with N partitions. */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { partitionOf } from "../../src/util/murmur2.js";
import { repoRoot, runCli } from "../helpers/cli.js";

const T0 = Date.parse("2023-06-09T12:00:00Z");
const line = (product_id: string, ms: number) => JSON.stringify({ type: "ticker", product_id, price: "100", last_size: "1", time: new Date(T0 + ms).toISOString() });
const PARTITIONED = join(repoRoot, "test/fixtures/live-features.ts#ohlc1mPartition");
const BY_KEY = "src/feature/shipped/ohlc.ts#ohlc1m";

let dir: string;
let ticks: string;

describe("quixlab batch --partitions", () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "quixlab-batch-partitions-"));
    ticks = join(dir, "ticks.jsonl");
    // ETH moves past BTC's first minute (+ 2 s grace) before BTC's second tick: late when they share a partition.
    assert.notEqual(partitionOf("BTC-USD", 2), partitionOf("ETH-USD", 2), "the two keys fall on different partitions of 2");
    writeFileSync(ticks, `${[line("BTC-USD", 1_000), line("ETH-USD", 2_000), line("ETH-USD", 63_000), line("BTC-USD", 30_000)].join("\n")}\n`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const btcCount = (out: string) => out.trim().split("\n").map((l) => JSON.parse(l)).find((r) => r.key === "BTC-USD" && r.start === T0).count;

  test("without the flag it warns on one stderr line that the result assumes 1 partition", async () => {
    const r = await runCli(repoRoot, "batch", PARTITIONED, "--ticks", ticks);
    assert.equal(r.code, 0, r.err);
    assert.equal(btcCount(r.out), 1, "BTC's second tick is late behind ETH's watermark");
    const warnings = r.err.split("\n").filter((l) => l.startsWith("warning:"));
    assert.equal(warnings.length, 1, r.err);
    assert.match(warnings[0]!, /closing: "partition".*assumes 1 partition.*--partitions N/);
  });

  test("--partitions N gives each partition its own watermark, without the warning", async () => {
    const r = await runCli(repoRoot, "batch", PARTITIONED, "--ticks", ticks, "--partitions", "2");
    assert.equal(r.code, 0, r.err);
    assert.equal(btcCount(r.out), 2, "on its own partition BTC's minute is still open");
    assert.doesNotMatch(r.err, /warning:/);
  });

  test("a feature closed by key gets no warning, and a bad count is a usage error", async () => {
    const byKey = await runCli(repoRoot, "batch", BY_KEY, "--ticks", ticks);
    assert.equal(byKey.code, 0, byKey.err);
    assert.doesNotMatch(byKey.err, /warning:/);
    for (const bad of ["0", "two", "1.5"]) {
      const r = await runCli(repoRoot, "batch", PARTITIONED, "--ticks", ticks, "--partitions", bad);
      assert.equal(r.code, 2, `--partitions ${bad}`);
      assert.match(r.err, new RegExp(`bad --partitions '${bad.replace(".", "\\.")}'`));
    }
    const help = await runCli(repoRoot, "batch", "--help");
    assert.match(help.out, /--partitions N +the input topic's partition count/);
  });
});
