/**
 * Features over features (DESIGN.md "Features over features"): ema(12), rsi(14) and bollinger(20, 2) over the
 * 1-minute closes against an independent pandas oracle (test/integration/pandas/oracle_indicators.py: resample,
 * then ewm / rolling), in batch and as a two-step chain (`quixlab replay --chain …`: ohlc1m's step → the
 * indicator's step, on the real broker) with either step SIGKILLed three times; and 1 h candles rolled up from
 * 1 min ones equal to 1 h candles from ticks. Generated ticks with disorder inside grace and 1 % bad lines.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { bb20, ema12, ohlc1hRollup, rsi14 } from "../../src/feature/shipped/indicators.js";
import { ohlc1h } from "../../src/feature/shipped/ohlc.js";
import { writeTicksFile } from "../../src/tick/generate.js";
import { testServices } from "../harness/services.js";
import { quixlab, repoRoot } from "../helpers/cli.js";

const run = promisify(execFile);
const ORACLE = join(repoRoot, "test/integration/pandas/oracle_indicators.py");
type Rec = { key: string; start: number; end: number } & Record<string, number | null>;

async function oracle(file: string, kind: string, n: number): Promise<Rec[]> {
  const { stdout } = await run("python3", [ORACLE, file, "--kind", kind, "--n", String(n)], { maxBuffer: 1 << 30 });
  return stdout.trim().split("\n").map((l) => JSON.parse(l));
}

/** Same windows; each field within 1e-12 relative (ema and rsi agree bit for bit; pandas' rolling std does not). */
function assertSame(ours: readonly Rec[], theirs: readonly Rec[], fields: readonly string[], label: string): void {
  const id = (r: Rec) => `${r.key}|${r.start}|${r.end}`;
  assert.deepEqual(ours.map(id).sort(), theirs.map(id).sort(), `${label}: the same windows`);
  const want = new Map(theirs.map((r) => [id(r), r]));
  for (const r of ours) {
    const e = want.get(id(r))!;
    for (const f of fields) {
      const a = r[f]!;
      const b = e[f]!;
      assert.ok(a === b || Math.abs(a - b) <= 1e-12 * Math.abs(b), `${label} ${id(r)} ${f}: ${a} vs pandas ${b}`);
    }
  }
}

const INDICATORS = [
  { feature: ema12, ref: "ema12", kind: "ema", n: 12, fields: ["ema"] },
  { feature: rsi14, ref: "rsi14", kind: "rsi", n: 14, fields: ["rsi"] },
  { feature: bb20, ref: "bb20", kind: "bollinger", n: 20, fields: ["mid", "upper", "lower"] },
] as const;

describe("indicators over ohlc1m = pandas, in batch and as a replayed two-step chain with --chaos 3", { timeout: 900_000 }, () => {
  let dir: string;
  let file: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "quixlab-chain-"));
    file = join(dir, "ticks.jsonl");
    await writeTicksFile(file, { n: 30_000, products: 3, seed: 17, gaps: true, outOfOrderMs: 1500, intervalMs: 200, malformedRate: 0.01 });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("rollup() of ohlc1m into 1 h equals ohlc1h from ticks on every window", async () => {
    const [rolled, direct] = [await ohlc1hRollup.batchRecords(file), await ohlc1h.batchRecords(file)];
    assert.ok(direct.records.length >= 3);
    assertSame(rolled.records as unknown as Rec[], direct.records as unknown as Rec[], ["open", "high", "low", "close", "count"], "rollup");
    for (const [i, r] of rolled.records.entries()) {
      const v = direct.records[i]!.volume;
      assert.ok(Math.abs(r.volume - v) <= 1e-9 * v, `volume ${r.volume} vs ${v} (summed per minute, then per hour)`);
    }
  });

  for (const k of INDICATORS) {
    test(`${k.ref}: batch and replay --chain (ohlc1m → ${k.ref}, both steps SIGKILLed 3 times)`, async () => {
      const want = await oracle(file, k.kind, k.n);
      assert.ok(want.length >= 100, `${want.length} values from pandas`);
      const batch = await k.feature.batchRecords(file);
      assertSame(batch.records as unknown as Rec[], want, k.fields, `${k.ref} batch`);

      const { brokers, redisUrl } = await testServices();
      const out = join(dir, `${k.ref}.jsonl`);
      const r = await quixlab(
        ["replay", "--chain", `src/feature/shipped/indicators.ts#${k.ref}`, "--ticks", file, "--broker", brokers.join(","), "--redis", redisUrl, "--out", out, "--json", "--chaos", "3", "--seed", "5"],
        { env: { QUIXLAB_SESSION_TIMEOUT_MS: "6000" }, timeoutMs: 300_000 },
      );
      assert.equal(r.code, 0, `replay exit ${r.code}: ${r.out.slice(0, 2000)} ${r.err.slice(-1500)}`);
      const report = JSON.parse(r.out) as { ok: boolean; steps: { feature: { name: string }; parity: { ok: boolean; expected: number }; chaos: { kills: number } }[] };
      assert.equal(report.ok, true);
      assert.deepEqual(report.steps.map((s) => [s.feature.name, s.parity.ok, s.chaos.kills]), [["ohlc1m", true, 3], [k.feature.name, true, 3]], "one section per step, each with parity through its kills");
      const streamed = readFileSync(out, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Rec);
      assertSame(streamed, want, k.fields, `${k.ref} replay`);
    });
  }
});
