/**
 * #17 part 5 acceptance, "the model": `quixlab replay --model` runs the vector's three feature steps into a fresh
 * store, the model step beside them (trigger: ohlc1m's output topic; values: the store, read as of each minute's
 * close), and its predictions must equal batchPredictions — the notebook's batch predictions — one for one, also
 * with the feature steps killed meanwhile. The store then holds each key's newest prediction.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { batchPredictions, latestPrediction } from "../../src/index.js";
import { type RedisHandle, startRedis } from "../../src/redis/provider.js";
import { writeTicksFile } from "../../src/tick/generate.js";
import { nextMinute } from "../fixtures/next-minute-model.js";
import { testServices } from "../harness/services.js";
import { quixlab } from "../helpers/cli.js";

describe("replay --model: the model step's predictions = the batch predictions", { timeout: 600_000 }, () => {
  let dir: string;
  let file: string;
  let redis: RedisHandle;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "quixlab-model-"));
    file = join(dir, "ticks.jsonl");
    // 50 minutes across a UTC midnight (so "today" restarts), disorder within grace, 1 % bad lines. Shorter than
    // ohlc60s's 1 h retention: at max speed the feature steps run the whole file ahead of the model step, and a
    // longer file would have the store trim windows the model still reads (a known limit, see src/model/README.md).
    await writeTicksFile(file, { n: 6_000, products: 3, seed: 31, startMs: Date.UTC(2023, 5, 9, 23, 35), intervalMs: 500, outOfOrderMs: 1_500, malformedRate: 0.01 });
    redis = await startRedis({ provider: "local", log: () => undefined });
  });
  after(async () => {
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("every prediction equals batch, with chaos, and the newest is in Redis", async () => {
    const { brokers } = await testServices();
    const r = await quixlab(["replay", "--model", "test/fixtures/next-minute-model.ts#nextMinute", "--ticks", file, "--broker", brokers.join(","), "--redis", redis.url!, "--chaos", "2", "--seed", "5", "--json"], { timeoutMs: 300_000 });
    assert.equal(r.code, 0, `${JSON.stringify(JSON.parse(r.out || "{}").model ?? r.out.slice(0, 1500)).slice(0, 3000)} ${r.err.slice(-1500)}`);
    const report = JSON.parse(r.out);
    const { predictions, declined } = await batchPredictions(nextMinute, file);
    assert.ok(predictions.length > 120, `a prediction per minute and product (${predictions.length})`);
    assert.ok(declined >= 3, "each key's first minute has too little to predict");
    assert.equal(report.model.ok, true);
    assert.deepEqual(report.model.chaos, { kills: 2, restarts: 2 }, "the model step ran as its own process and was killed too");
    assert.equal(report.model.expected, predictions.length);
    assert.equal(report.model.equal, predictions.length);
    assert.equal(report.model.extra, 0);
    for (const s of report.steps) assert.equal(s.parity.ok, true, s.feature.name);
    const client = new Redis(redis.url!);
    try {
      for (const key of ["BTC-USD", "ETH-USD", "SOL-USD"]) {
        const mine = predictions.filter((p) => p.key === key);
        assert.deepEqual(await latestPrediction(client, "next-minute", key), mine.at(-1), key);
      }
    } finally {
      client.disconnect();
    }
  });

  it("a bad model reference is refused before anything starts", async () => {
    const r = await quixlab(["replay", "--model", "test/fixtures/next-minute-model.ts#nope", "--ticks", file, "--redis", redis.url!]);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /not a model made by defineModel/);
    assert.match(r.err, /#nextMinute/);
  });

  it("at max speed, a recording longer than a feature's retention is refused with the speed to use", async () => {
    const long = join(dir, "long.jsonl");
    await writeTicksFile(long, { n: 3_000, products: 1, seed: 32, startMs: Date.UTC(2023, 5, 9, 20, 0), intervalMs: 3_000 });
    const r = await quixlab(["replay", "--model", "test/fixtures/next-minute-model.ts#nextMinute", "--ticks", long, "--redis", redis.url!]);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /'ohlc60s' keeps 60 min in the store/);
    assert.match(r.err, /--speed 100x/);
  });
});
