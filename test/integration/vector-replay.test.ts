/**
 * #17 acceptance, "vectors": after replays of the seed's three features into an online store of the test's own
 * (a local redis-server), `quixlab vector --redis` equals `quixlab vector --ticks --at eof` on every key — the
 * store's watermarks, ranges and retention against the batch rule, through the real broker and step.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { type RedisHandle, startRedis } from "../../src/redis/provider.js";
import { writeTicksFile } from "../../src/tick/generate.js";
import { testServices } from "../harness/services.js";
import { quixlab } from "../helpers/cli.js";

const SPEC = "ohlc1h:30d,ohlc1m:today,ohlc60s:latest";
const KEYS = ["BTC-USD", "ETH-USD", "SOL-USD"];

describe("quixlab vector --redis after a replay = quixlab vector --ticks --at eof", { timeout: 600_000 }, () => {
  let dir: string;
  let file: string;
  let short: string;
  let redis: RedisHandle;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "quixlab-vector-"));
    file = join(dir, "ticks.jsonl");
    // Three hours across a UTC midnight, so "today" and "30d" differ; disorder within grace, 1 % bad lines.
    await writeTicksFile(file, { n: 9_000, products: 3, seed: 21, startMs: Date.UTC(2023, 5, 9, 22, 10), intervalMs: 1_200, outOfOrderMs: 1_500, malformedRate: 0.01 });
    // 25 minutes across a UTC midnight: at 50x, 30 s of ticks going in while the vectors are sampled.
    short = join(dir, "short.jsonl");
    await writeTicksFile(short, { n: 7_500, products: 3, seed: 22, startMs: Date.UTC(2023, 5, 9, 23, 50), intervalMs: 200, outOfOrderMs: 1_500, malformedRate: 0.01 });
    redis = await startRedis({ provider: "local", log: () => undefined });
  });
  after(async () => {
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("every key's vector from the store is the batch vector at eof", async () => {
    const { brokers } = await testServices();
    for (const name of ["ohlc1h", "ohlc1m", "ohlc60s"]) {
      const r = await quixlab(["replay", `src/feature/shipped/ohlc.ts#${name}`, "--ticks", file, "--broker", brokers.join(","), "--redis", redis.url!, "--json"], { timeoutMs: 180_000 });
      assert.equal(r.code, 0, `${name}: ${r.out.slice(0, 800)} ${r.err.slice(-800)}`);
    }
    for (const key of KEYS) {
      const online = await quixlab(["vector", "--features", SPEC, "--key", key, "--redis", redis.url!, "--json"]);
      assert.equal(online.code, 0, online.err);
      const offline = await quixlab(["vector", "--features", SPEC, "--key", key, "--ticks", file, "--at", "eof", "--json"]);
      assert.equal(offline.code, 0, offline.err);
      const [a, b] = [JSON.parse(online.out), JSON.parse(offline.out)];
      assert.equal(a.asOf, "eof");
      assert.ok(a.features.ohlc1m.length > 60 && a.features.ohlc1h.length >= 3 && a.features.ohlc60s, `${key}: a full vector`);
      assert.deepEqual(a, b, key);
    }
    const none = await quixlab(["vector", "--features", SPEC, "--key", "NOPE-USD", "--redis", redis.url!]);
    assert.equal(none.code, 1, "a key no step wrote");
    assert.match(none.err, /no watermark of 'NOPE-USD'/);
  });

  it("replay --vectors at 50x with --chaos 3: every vector read from Redis mid-replay equals the batch vector at its asOf", async () => {
    const { brokers } = await testServices();
    const client = new Redis(redis.url!);
    await client.flushall();
    client.disconnect();
    const r = await quixlab(["replay", "--vectors", SPEC, "--ticks", short, "--speed", "50x", "--chaos", "3", "--seed", "3", "--broker", brokers.join(","), "--redis", redis.url!, "--json"], { timeoutMs: 240_000 });
    assert.equal(r.code, 0, `${r.out.slice(0, 3000)} ${r.err.slice(-1500)}`);
    const report = JSON.parse(r.out) as { ok: boolean; steps: { feature: { name: string }; parity: { ok: boolean }; chaos: { kills: number } }[]; vectors: { ok: boolean; samples: number; midRun: number; equal: number; differing: number } };
    assert.deepEqual(report.steps.map((s) => [s.feature.name, s.parity.ok, s.chaos.kills]), [["ohlc1h", true, 3], ["ohlc1m", true, 3], ["ohlc60s", true, 3]]);
    const v = report.vectors;
    assert.ok(v.ok, JSON.stringify(v).slice(0, 3000));
    assert.ok(v.midRun >= 20 * KEYS.length, `${v.midRun} mid-replay samples (20 per key wanted)`);
    assert.equal(v.equal, v.samples);
    // Running it again into the same store is refused: the vectors would mix two runs.
    const again = await quixlab(["replay", "--vectors", SPEC, "--ticks", short, "--broker", brokers.join(","), "--redis", redis.url!]);
    assert.equal(again.code, 2);
    assert.match(again.err, /already holds 'ohlc1h' for BTC-USD/);
  });
});
