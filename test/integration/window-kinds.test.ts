/**
 * Sliding, session and count windows against an independent pandas oracle (test/integration/pandas/oracle_kinds.py:
 * rolling(closed="right") keeping the last row per timestamp; sessions and count windows computed directly), on
 * generated ticks with disorder inside grace and 1 % malformed lines: in batch, and through `quixlab replay` on the
 * real broker with the step SIGKILLed three times (--chaos 3). OHLC and count exact, volume within 1e-9 relative.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { writeTicksFile } from "../../src/tick/generate.js";
import { count50, session3s, slide10s } from "../fixtures/window-kinds.js";
import { testServices } from "../harness/services.js";
import { quixlab, repoRoot } from "../helpers/cli.js";

const run = promisify(execFile);
const ORACLE = join(repoRoot, "test/integration/pandas/oracle_kinds.py");
type Rec = { key: string; start: number; end: number; index?: number; open: number; high: number; low: number; close: number; volume: number; count: number };

async function oracle(file: string, kind: string, size: number): Promise<{ records: Rec[]; summary: { ticks: number; rejected: number } }> {
  const { stdout } = await run("python3", [ORACLE, file, "--kind", kind, "--size", String(size)], { maxBuffer: 1 << 30 });
  const lines = stdout.trim().split("\n").map((l) => JSON.parse(l));
  return { summary: lines.pop().summary, records: lines };
}

function assertSame(ours: readonly Rec[], theirs: readonly Rec[], label: string): void {
  const id = (b: Rec) => `${b.key}|${b.start}|${b.end}|${b.index ?? ""}`;
  const want = new Map(theirs.map((b) => [id(b), b]));
  const got = new Map(ours.map((b) => [id(b), b]));
  assert.equal(got.size, ours.length, `${label}: each window once`);
  const missing = [...want.keys()].filter((k) => !got.has(k));
  const extra = [...got.keys()].filter((k) => !want.has(k));
  assert.deepEqual({ missing: missing.slice(0, 5), extra: extra.slice(0, 5) }, { missing: [], extra: [] }, `${label}: window sets differ`);
  for (const [k, e] of want) {
    const a = got.get(k)!;
    assert.deepEqual([a.open, a.high, a.low, a.close, a.count], [e.open, e.high, e.low, e.close, e.count], `${label} ${k}`);
    assert.ok(Math.abs(a.volume - e.volume) <= 1e-9 * Math.max(1, Math.abs(e.volume)), `${label} ${k}: volume ${a.volume} vs ${e.volume}`);
  }
}

const KINDS = [
  { name: "sliding 10s", feature: slide10s, ref: "slide10s", kind: "sliding", size: 10_000, min: 5_000 },
  { name: "session 3s", feature: session3s, ref: "session3s", kind: "session", size: 3_000, min: 20 },
  { name: "count 50", feature: count50, ref: "count50", kind: "count", size: 50, min: 100 },
] as const;

describe("sliding, session and count windows = pandas, in batch and in replay with --chaos 3", { timeout: 900_000 }, () => {
  let dir: string;
  let file: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "quixlab-kinds-"));
    file = join(dir, "ticks.jsonl");
    await writeTicksFile(file, { n: 15_000, products: 3, seed: 16, gaps: true, outOfOrderMs: 1500, intervalMs: 150, malformedRate: 0.01 });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const k of KINDS) {
    test(k.name, async () => {
      const want = await oracle(file, k.kind, k.size);
      assert.ok(want.records.length >= k.min, `${want.records.length} windows from pandas`);
      const batch = await k.feature.batchRecords(file);
      assert.equal(batch.rejected, want.summary.rejected, "the same malformed lines rejected");
      assert.ok(batch.rejected > 100, "the file has malformed lines");
      assert.equal(batch.late, 0, "disorder stays within grace");
      assertSame(batch.records as unknown as Rec[], want.records, `${k.name} batch`);

      const { brokers, redisUrl } = await testServices();
      const out = join(dir, `${k.ref}.jsonl`);
      const ref = `${join(repoRoot, "test/fixtures/window-kinds.ts")}#${k.ref}`;
      const r = await quixlab(["replay", ref, "--ticks", file, "--broker", brokers.join(","), "--redis", redisUrl, "--out", out, "--json", "--chaos", "3", "--seed", "7"], {
        env: { QUIXLAB_SESSION_TIMEOUT_MS: "6000" },
        timeoutMs: 300_000,
      });
      assert.equal(r.code, 0, `replay exit ${r.code}: ${r.out.slice(0, 1500)} ${r.err.slice(-1500)}`);
      const report = JSON.parse(r.out) as { parity: { ok: boolean }; chaos: { kills: number } };
      assert.ok(report.parity.ok, "the replay's own parity with batch");
      assert.equal(report.chaos.kills, 3);
      const streamed = readFileSync(out, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Rec);
      assertSame(streamed, want.records, `${k.name} replay --chaos 3`);
    });
  }
});
