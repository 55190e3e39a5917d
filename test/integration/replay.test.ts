import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import kafkajs from "kafkajs";
import { kafkaClient } from "../../src/kafka/client.js";
import { writeTicksFile } from "../../src/tick/generate.js";
import { testServices } from "../harness/services.js";
import { quixlab } from "../helpers/cli.js";
import { assertSameBars, type Bar, type OracleWindow, pandasOracle } from "./pandas/oracle-client.js";

// kafkajs is CommonJS: this enum is not among the names Node finds for an ESM import.
const { ConfigResourceTypes } = kafkajs;

const root = resolve(import.meta.dirname, "../..");
const COINBASE = join(root, "data/coinbase-ticker-2021-04-17.jsonl");
const TARDIS = join(root, "data/binance-futures-btcusdt-trades-2020-02-22.csv");
const TARDIS_MAP = "product_id=symbol,price=price,last_size=amount,time=timestamp:us,side=side,trade_id=id";
const M = 60_000;
const H = 3_600_000;

interface Report {
  parity: { ok: boolean; expected: number; matched: number; mismatched: number; missing: number; extra: number };
  rejected: number;
  rejectedInStream: number;
  late: number;
  ticks: number;
  mismatches: { key: string; diffs: { field: string }[] }[];
  topics: { input: string; output: string; dlq: string; late: string; kept: boolean };
  throughput: { producedPerSec: number };
  chaos: { kills: number };
}

let services: { brokers: string[]; redisUrl: string };
let dir: string;

/** `quixlab replay` exactly as a user runs it; never throws on a non-zero exit, returns it. */
async function replayCli(ref: string, ticks: string, extra: string[]): Promise<{ code: number | null; report: Report; stderr: string; out: Bar[] }> {
  const out = join(dir, `out-${Math.random().toString(36).slice(2)}.jsonl`);
  const args = ["replay", ref, "--ticks", ticks, "--broker", services.brokers.join(","), "--redis", services.redisUrl, "--out", out, "--json", ...extra];
  const res = await quixlab(args, { env: { QUIXLAB_SESSION_TIMEOUT_MS: "6000" } });
  assert.ok(res.out.trim(), `replay printed no report (exit ${res.code}): ${res.err.slice(-2000)}`);
  const report = JSON.parse(res.out) as Report;
  let bars: Bar[] = [];
  try {
    bars = readFileSync(out, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
  } catch {
    bars = [];
  }
  return { code: res.code, report, stderr: res.err, out: bars };
}

const windows: Record<string, OracleWindow> = {
  ohlc1m: { kind: "tumbling", sizeMs: M },
  ohlc1h: { kind: "tumbling", sizeMs: H },
  ohlc60s: { kind: "hopping", sizeMs: M, stepMs: 1_000 },
};

describe("quixlab replay (real Kafka, real Redis, step in a child process)", () => {
  let generated: string;
  let malformed = 0;

  before(async () => {
    services = await testServices();
    dir = mkdtempSync(join(tmpdir(), "quixlab-replay-test-"));
    generated = join(dir, "generated.jsonl");
    // 60,000 lines over 3 products: gaps, disorder within the 2 s grace, 1 % malformed.
    await writeTicksFile(generated, { n: 60_000, products: 3, seed: 7, intervalMs: 20, gaps: true, outOfOrderMs: 1_500, malformedRate: 0.01 });
    const { summary } = await pandasOracle(generated, windows.ohlc1m!);
    malformed = summary.rejected;
    assert.ok(malformed > 500 && malformed < 1_500, `about 1 % malformed lines, got ${malformed}`);
  });

  it("reproduces pandas on the recorded Coinbase file for 1 min, 1 h and 60 s/1 s", async () => {
    for (const name of ["ohlc1m", "ohlc1h", "ohlc60s"]) {
      const { code, report, out, stderr } = await replayCli(`src/feature/shipped/ohlc.ts#${name}`, COINBASE, []);
      assert.equal(code, 0, `${name}: ${JSON.stringify({ parity: report.parity, mismatches: report.mismatches.slice(0, 3) })} ${stderr.slice(-1500)}`);
      assert.equal(report.parity.ok, true);
      assert.equal(report.ticks, 107);
      assertSameBars(out, (await pandasOracle(COINBASE, windows[name]!)).records, `coinbase ${name}`);
    }
  });

  it("reproduces pandas on the Tardis CSV (column mapping) for 1 min", async () => {
    const { code, report, out } = await replayCli("src/feature/shipped/ohlc.ts#ohlc1m", TARDIS, ["--csv-map", TARDIS_MAP]);
    assert.equal(code, 0);
    assert.equal(report.parity.expected, out.length);
    assertSameBars(out, (await pandasOracle(TARDIS, windows.ohlc1m!, TARDIS_MAP)).records, "tardis 1m");
  });

  it("reproduces pandas on 60,000 generated ticks with 1 % malformed lines, and counts them", async () => {
    for (const name of ["ohlc1m", "ohlc1h", "ohlc60s"]) {
      const { code, report, out, stderr } = await replayCli(`src/feature/shipped/ohlc.ts#${name}`, generated, ["--partitions", "4"]);
      assert.equal(code, 0, `${name}: ${JSON.stringify({ parity: report.parity, mismatches: report.mismatches.slice(0, 3) })} ${stderr.slice(-1500)}`);
      assert.equal(report.rejected, malformed, "rejected = malformed lines");
      assert.equal(report.rejectedInStream, malformed, "every malformed line reached the dead-letter topic once");
      assert.equal(report.late, 0);
      assertSameBars(out, (await pandasOracle(generated, windows[name]!)).records, `generated ${name}`);
    }
  });

  it("keeps parity with --chaos 8 (the step SIGKILLed and restarted eight times)", async () => {
    const calm = await replayCli("src/feature/shipped/ohlc.ts#ohlc1m", generated, ["--seed", "1"]);
    const chaotic = await replayCli("src/feature/shipped/ohlc.ts#ohlc1m", generated, ["--chaos", "8", "--seed", "11"]);
    assert.equal(chaotic.code, 0, chaotic.stderr.slice(-1500));
    assert.equal(chaotic.report.chaos.kills, 8);
    assert.deepEqual(chaotic.out, calm.out, "identical windows with and without kills");
  });

  it("exits 1 and names the mismatching windows when the stream path differs from batch", async () => {
    const { code, report } = await replayCli("test/fixtures/replay/perturbed.ts#drifting1m", COINBASE, []);
    assert.equal(code, 1);
    assert.equal(report.parity.ok, false);
    assert.equal(report.parity.mismatched, report.parity.expected);
    assert.deepEqual(report.mismatches[0]!.diffs.map((d) => d.field), ["high"]);
  });

  it("--keep leaves its topics, which keep ticks of any age (recorded event times are the Kafka timestamps)", async () => {
    const { code, report } = await replayCli("src/feature/shipped/ohlc.ts#ohlc1m", COINBASE, ["--keep"]);
    assert.equal(code, 0);
    assert.equal(report.topics.kept, true);
    const admin = kafkaClient(services.brokers).admin();
    await admin.connect();
    try {
      const topics = [report.topics.input, report.topics.output, report.topics.dlq, report.topics.late];
      const { resources } = await admin.describeConfigs({ includeSynonyms: false, resources: topics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames: ["retention.ms"] })) });
      assert.deepEqual(
        resources.map((r) => [r.resourceName, r.configEntries.find((e) => e.configName === "retention.ms")?.configValue]),
        topics.map((t) => [t, "-1"]),
      );
      // The recording's 107 ticks and the eof markers are all still there.
      const offsets = await admin.fetchTopicOffsets(report.topics.input);
      assert.equal(offsets.reduce((n, o) => n + Number(o.high) - Number(o.low), 0), report.ticks + offsets.length);
      await admin.deleteTopics({ topics });
    } finally {
      await admin.disconnect();
    }
  });

  it("exits 2 naming the problem for a missing file and a bad reference", async () => {
    const missing = await quixlab(["replay", "src/feature/shipped/ohlc.ts#ohlc1m", "--ticks", "nope.jsonl"]);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /nope\.jsonl.*no such file/);
    const badRef = await quixlab(["replay", "src/feature/shipped/ohlc.ts#ohlc2m", "--ticks", COINBASE]);
    assert.equal(badRef.code, 2);
    assert.match(badRef.err, /ohlc2m/);
    assert.match(badRef.err, /ohlc1m/, "lists the features that do exist");
  });

  after(() => undefined);
});
