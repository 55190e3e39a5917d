/**
 * The #15 window options on a real broker and Redis: closing by the partition's stream time (replay parity on
 * several partition counts, with kills), empty windows carried, early results, and the idle close of a quiet key
 * on a live feed (measured).
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import type { WindowRecord } from "../../src/feature/types.js";
import { writeTicksFile } from "../../src/tick/generate.js";
import { runStep } from "../../src/stream/step.js";
import { latestKey } from "../../src/store/online.js";
import { quiet5s } from "../fixtures/live-features.js";
import { quixlab } from "../helpers/cli.js";
import { produceLines, readToEnd, type StreamSession, streamCase, streamSession, until } from "./stream-helpers.js";

const root = resolve(import.meta.dirname, "../..");
const FEATURES = "test/fixtures/live-features.ts";

interface Report {
  parity: { ok: boolean; expected: number; matched: number; mismatched: number; missing: number; extra: number };
  rejected: number;
  late: number;
  ticks: number;
  topics: { input: string; output: string; dlq: string; late: string };
  chaos: { kills: number };
}

let s: StreamSession;
let dir: string;
let generated: string;

async function replay(ref: string, ticks: string, extra: string[] = []): Promise<{ code: number | null; report: Report; out: WindowRecord[]; err: string }> {
  const out = join(dir, `out-${Math.random().toString(36).slice(2)}.jsonl`);
  const args = ["replay", ref, "--ticks", ticks, "--broker", s.brokers.join(","), "--redis", s.redisUrl, "--out", out, "--json", ...extra];
  const res = await quixlab(args, { cwd: root, env: { QUIXLAB_SESSION_TIMEOUT_MS: "6000" } });
  assert.ok(res.out.trim(), `replay printed no report (exit ${res.code}): ${res.err.slice(-2000)}`);
  const lines = readFileSync(out, "utf8").trim().split("\n").filter(Boolean);
  return { code: res.code, report: JSON.parse(res.out) as Report, out: lines.map((l) => JSON.parse(l) as WindowRecord), err: res.err };
}

const ok = (r: { code: number | null; report: Report; err: string }, what: string) =>
  assert.equal(r.code, 0, `${what}: ${JSON.stringify(r.report.parity)} ${r.err.slice(-1500)}`);

describe("window options through Kafka: closing, fill, early results, idle (#15)", () => {
  before(async () => {
    s = await streamSession();
    dir = mkdtempSync(join(tmpdir(), "quixlab-live-"));
    generated = join(dir, "generated.jsonl");
    // 5 products, quiet spells (empty minutes), disorder beyond the 2 s grace (late ticks), 1 % malformed.
    await writeTicksFile(generated, { n: 15_000, products: 5, seed: 15, intervalMs: 80, gaps: true, outOfOrderMs: 4_000, malformedRate: 0.01 });
  });
  after(() => s.close());

  it('closing "partition": replay parity on 1, 3 and 4 partitions, and with --chaos 3', async () => {
    const lates: number[] = [];
    for (const n of ["1", "3", "4"]) {
      const r = await replay(`${FEATURES}#ohlc1mPartition`, generated, ["--partitions", n]);
      ok(r, `${n} partitions`);
      assert.equal(r.report.parity.ok, true, `${n} partitions: ${JSON.stringify(r.report.parity)}`);
      assert.ok(r.report.parity.expected >= 50, `${n} partitions: ${r.report.parity.expected} windows`);
      lates.push(r.report.late);
    }
    // Each partition count groups the keys differently, so different ticks are late: the counts are not all one.
    assert.ok(lates.every((l) => l > 0), `late ticks on every partition count: ${lates}`);
    const byKey = await replay("src/feature/shipped/ohlc.ts#ohlc1m", generated, ["--partitions", "3"]);
    ok(byKey, "key closing");
    assert.ok(lates[1]! > byKey.report.late, `a shared watermark makes more ticks late (${lates[1]} vs ${byKey.report.late} by key)`);
    const chaos = await replay(`${FEATURES}#ohlc60sPartition`, generated, ["--partitions", "3", "--chaos", "3", "--seed", "5"]);
    ok(chaos, "hopping, partition closing, 3 kills");
    assert.equal(chaos.report.chaos.kills, 3);
  });

  it('fill "carry": stream equals batch and every window between a key\'s first and last is there', async () => {
    // Quiet spells of every product: two silent minutes out of every 7 + its index (bad lines are kept).
    const gappy = join(dir, "gappy.jsonl");
    const products = new Map<string, number>();
    const kept = readFileSync(generated, "utf8")
      .split("\n")
      .filter((line) => {
        const m = /"product_id":"([^"]+)".*"time":"([^"]+)"/.exec(line);
        if (!m) return true;
        if (!products.has(m[1]!)) products.set(m[1]!, products.size);
        const minute = Math.floor(Date.parse(m[2]!) / 60_000);
        return minute % (7 + products.get(m[1]!)!) > 1;
      });
    writeFileSync(gappy, kept.join("\n"));
    for (const name of ["ohlc1mFill", "ohlc60sFill"]) {
      const r = await replay(`${FEATURES}#${name}`, gappy, ["--partitions", "3", ...(name === "ohlc1mFill" ? ["--chaos", "3", "--seed", "9"] : [])]);
      ok(r, name);
      const step = name === "ohlc1mFill" ? 60_000 : 20_000;
      const byKey = new Map<string, number[]>();
      for (const w of r.out) byKey.set(w.key, [...(byKey.get(w.key) ?? []), w.start]);
      for (const [key, starts] of byKey) {
        const sorted = [...new Set(starts)].sort((a, b) => a - b);
        for (let i = 1; i < sorted.length; i++) assert.equal(sorted[i]! - sorted[i - 1]!, step, `${name} ${key}: no hole before ${sorted[i]}`);
      }
      const filled = r.out.filter((w) => w.count === 0);
      assert.ok(filled.length > 10, `${name}: the quiet spells were filled (${filled.length})`);
      for (const w of filled) assert.ok(w.open === w.close && w.high === w.close && w.low === w.close && w.volume === 0, `${name}: a carried window is flat`);
    }
  });

  it('emit "update": the final records are those without it, and the updates topic holds one update per on-time tick', async () => {
    const small = join(dir, "small.jsonl");
    await writeTicksFile(small, { n: 4_000, products: 3, seed: 3, intervalMs: 60, outOfOrderMs: 1_500, malformedRate: 0.01 });
    const plain = await replay("src/feature/shipped/ohlc.ts#ohlc1m", small);
    const upd = await replay(`${FEATURES}#ohlc1mUpdates`, small, ["--keep"]);
    ok(plain, "without updates");
    ok(upd, "with updates");
    const shape = (rs: WindowRecord[]) => rs.map((w) => JSON.stringify(w)).sort();
    assert.deepEqual(shape(upd.out), shape(plain.out), "identical final records");
    const updates = (await readToEnd(s.kafka, `${upd.report.topics.output}.updates`)).map((m) => JSON.parse(m.value!.toString()) as WindowRecord & { final: boolean });
    const onTime = upd.report.ticks - upd.report.rejected - upd.report.late;
    assert.ok(updates.length >= onTime, `${updates.length} updates for ${onTime} on-time ticks (one open tumbling window each)`);
    assert.ok(updates.every((u) => u.final === false));
    // The last update of each window is its final value: nothing but late ticks (never merged) came after it.
    const lastOf = new Map<string, WindowRecord>();
    for (const u of updates) lastOf.set(`${u.key}|${u.start}`, u);
    for (const w of upd.out) {
      const { final: _, ...last } = lastOf.get(`${w.key}|${w.start}`) as WindowRecord & { final: boolean };
      assert.deepEqual(last, w, `${w.key} ${w.start}`);
    }
    const t = upd.report.topics;
    await s.admin.deleteTopics({ topics: [t.input, t.output, t.dlq, t.late, `${t.output}.updates`] }).catch(() => undefined);
  });

  it("idle: a quiet key's window is emitted within idle + grace of its end, with no further tick (live, the worker)", async (t) => {
    const c = await streamCase(s.admin, t, "idle", 1);
    const seen: { key: string; start: number; end: number; at: number }[] = [];
    const step = await runStep(quiet5s, {
      brokers: s.brokers,
      inputTopic: c.input,
      outputTopic: c.output,
      consumerGroup: c.group,
      redis: s.redisUrl,
      featureRef: `${join(root, FEATURES)}#quiet5s`,
    });
    const consumer = s.kafka.consumer({ groupId: `${c.group}-reader`, maxWaitTimeInMs: 50 });
    try {
      await step.ready;
      await consumer.connect();
      await until("the output topic", async () => (await s.admin.listTopics()).includes(c.output));
      await consumer.subscribe({ topic: c.output, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          if (!message.value) return;
          const w = JSON.parse(message.value.toString()) as WindowRecord;
          if (typeof w.start === "number") seen.push({ key: w.key, start: w.start, end: w.end, at: Date.now() });
        },
      });
      // Three quiet windows: one tick of QUIET-USD early in a 5 s window, then nothing (live event times).
      const ends: number[] = [];
      for (let i = 0; i < 3; i++) {
        const now = Date.now();
        const start = Math.floor(now / 5_000) * 5_000;
        const line = JSON.stringify({ type: "ticker", product_id: "QUIET-USD", price: "100", last_size: "1", time: new Date(now).toISOString() });
        await produceLines(s.kafka, c.input, [line]);
        ends.push(start + 5_000);
        await until(`the window ending ${start + 5_000}`, () => seen.some((w) => w.start === start), 15_000);
        await new Promise((r) => setTimeout(r, 1_200));
      }
      const delays = ends.map((end) => seen.find((w) => w.end === end)!.at - end);
      t.diagnostic(`window end -> emission on a quiet key with idle 2s, grace 1s: ${delays.join(", ")} ms`);
      for (const d of delays) assert.ok(d <= 2_000 + 1_000, `emitted ${d} ms after its end (at most idle + grace)`);
      for (const d of delays) assert.ok(d >= 1_000, `not before end + grace (${d} ms)`);
      assert.equal(await s.redis.hget(latestKey(quiet5s.name, "QUIET-USD"), "final"), "true", "and stored in Redis");
      // A tick for a window the wall clock closed is late, not merged.
      const old = JSON.stringify({ type: "ticker", product_id: "QUIET-USD", price: "1", last_size: "1", time: new Date(ends[0]! - 4_000).toISOString() });
      await produceLines(s.kafka, c.input, [old]);
      await until("the late tick counted", () => step.metrics().late === 1, 15_000);
    } finally {
      await consumer.disconnect().catch(() => undefined);
      await step.stop();
    }
  });
});
