import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Redis } from "ioredis";
import type { WindowRecord } from "../../src/feature/types.js";
import { getKeys, getLatest, getRange, latestKey, onlineRedis, putWindows, windowsKey } from "../../src/store/online.js";
import { publishMetrics, readMetrics, type StepMetrics } from "../../src/stream/metrics.js";
import { testServices, uniqueName } from "../harness/services.js";

const w = (key: string, minute: number, close: number): WindowRecord => ({
  key,
  start: minute * 60_000,
  end: (minute + 1) * 60_000,
  open: 1,
  high: Math.max(2, close),
  low: 0.5,
  close,
  volume: 0.1 + 0.2,
  count: minute + 1,
});

describe("online store (Redis)", () => {
  let redis: Redis;

  before(async () => {
    const { redisUrl } = await testServices();
    redis = onlineRedis(redisUrl);
    await new Promise((r) => redis.once("ready", r));
  });

  after(async () => {
    await redis?.quit();
  });

  it("stores windows readable with redis-cli, idempotently and in any order", async (t) => {
    const feature = uniqueName(t);
    const eth = [w("ETH-USD", 1, 10), w("ETH-USD", 2, 11), w("ETH-USD", 3, 12)];
    await putWindows(redis, feature, [eth[0]!, eth[2]!, w("BTC-USD", 1, 5)]);
    // A replay after a crash: windows again, out of order, one older than the latest.
    await putWindows(redis, feature, [eth[1]!, eth[0]!, eth[2]!]);
    await putWindows(redis, feature, [eth[1]!]);
    assert.deepEqual(await getLatest(redis, feature, "ETH-USD"), eth[2], "the latest is never replaced by an older window");
    assert.deepEqual(await getRange(redis, feature, "ETH-USD"), eth, "one member per start, oldest first");
    assert.deepEqual(await getRange(redis, feature, "ETH-USD", 120_000, 180_000), eth.slice(1));
    assert.deepEqual(await getKeys(redis, feature), ["BTC-USD", "ETH-USD"]);
    assert.equal(await getLatest(redis, feature, "SOL-USD"), undefined);
    const hash = await redis.hgetall(latestKey(feature, "ETH-USD"));
    assert.equal(hash.close, "12");
    assert.equal(hash.start, "180000");
    assert.equal(hash.volume, String(0.1 + 0.2));
    assert.equal(await redis.zcard(windowsKey(feature, "ETH-USD")), 3);
  });

  it("holds an open window's update in latest (final false) until its final record, never over a final one", async (t) => {
    const feature = uniqueName(t);
    await putWindows(redis, feature, [w("K", 1, 10)], { updates: [w("K", 2, 11)] });
    let hash = await redis.hgetall(latestKey(feature, "K"));
    assert.equal(hash.final, "false");
    assert.equal(hash.close, "11");
    assert.deepEqual(await getLatest(redis, feature, "K"), { ...w("K", 2, 11), final: false });
    assert.equal(await redis.zcard(windowsKey(feature, "K")), 1, "updates stay out of the sorted set");
    await putWindows(redis, feature, [], { updates: [w("K", 2, 12)] });
    assert.equal((await redis.hgetall(latestKey(feature, "K"))).close, "12", "a newer update of the same window replaces it");
    await putWindows(redis, feature, [w("K", 2, 13)]);
    hash = await redis.hgetall(latestKey(feature, "K"));
    assert.deepEqual([hash.final, hash.close], ["true", "13"]);
    // A repeat of an earlier checkpoint's update (at-least-once) cannot bring the open value back.
    await putWindows(redis, feature, [], { updates: [w("K", 2, 12), w("K", 1, 9)] });
    assert.deepEqual(await getLatest(redis, feature, "K"), w("K", 2, 13));
    await putWindows(redis, feature, [], { updates: [w("Q", 5, 1)] });
    assert.deepEqual(await getKeys(redis, feature), ["K", "Q"], "a key with only an update is listed");
  });

  it("replaces a window with the same start and trims to the newest N", async (t) => {
    const feature = uniqueName(t);
    await putWindows(redis, feature, [w("K", 1, 1), w("K", 2, 2)]);
    await putWindows(redis, feature, [w("K", 2, 20)]);
    assert.deepEqual((await getRange(redis, feature, "K")).map((r) => r.close), [1, 20]);
    const many = Array.from({ length: 10 }, (_, i) => w("K", i, i));
    await putWindows(redis, feature, many, { maxWindows: 4 });
    assert.deepEqual((await getRange(redis, feature, "K")).map((r) => r.start / 60_000), [6, 7, 8, 9]);
    await putWindows(redis, feature, [w("K", 0, 0)], { maxWindows: 4 });
    assert.deepEqual((await getRange(redis, feature, "K")).map((r) => r.start / 60_000), [6, 7, 8, 9], "a replayed old window is trimmed again");
  });

  it("keeps count windows that share a start apart by index, and replaces only the one with the same index", async (t) => {
    const feature = uniqueName(t);
    // Count windows: the start is the earliest tick time, so two windows (index 0 and 1) can start at once.
    const c = (index: number, start: number, close: number): WindowRecord => ({ ...w("K", 0, close), start, end: start + 1, index });
    await putWindows(redis, feature, [c(0, 60_000, 1), c(1, 60_000, 2)]);
    assert.deepEqual((await getRange(redis, feature, "K")).map((r) => r.index), [0, 1], "both windows of one start survive");
    assert.deepEqual(await getLatest(redis, feature, "K"), c(1, 60_000, 2), "the higher index is the newer of one start");
    // A replay of window 0 (at-least-once) replaces window 0 only, and does not take latest back.
    await putWindows(redis, feature, [c(0, 60_000, 10)]);
    assert.deepEqual((await getRange(redis, feature, "K")).map((r) => [r.index, r.close]).sort(), [[0, 10], [1, 2]]);
    assert.deepEqual(await getLatest(redis, feature, "K"), c(1, 60_000, 2));
    // An open window 2 with the same start is newer than final window 1; an update of window 1 is not.
    await putWindows(redis, feature, [], { updates: [c(2, 60_000, 3)] });
    assert.deepEqual(await getLatest(redis, feature, "K"), { ...c(2, 60_000, 3), final: false });
    await putWindows(redis, feature, [c(2, 60_000, 4)], { updates: [c(1, 60_000, 9)] });
    assert.deepEqual(await getLatest(redis, feature, "K"), c(2, 60_000, 4));
    assert.equal(await redis.zcard(windowsKey(feature, "K")), 3);
  });

  it("fails fast, without queueing, when Redis is unreachable", async () => {
    const dead = onlineRedis("redis://127.0.0.1:1", { retryStrategy: () => null });
    try {
      await assert.rejects(putWindows(dead, "x", [w("K", 1, 1)]), (e: Error) => /Stream isn't writeable|Connection is closed|enableOfflineQueue/.test(e.message));
    } finally {
      dead.disconnect();
    }
  });

  it("publishes step metrics with a TTL and reads them back by step", async (t) => {
    const step = uniqueName(t);
    const m = (replica: string, consumed: number) => ({ step, replica, consumed, lag: 3, latencyMs: { p50: 1, p99: 2, samples: 2 } }) as unknown as StepMetrics;
    await publishMetrics(redis, m("r2", 20), 10);
    await publishMetrics(redis, m("r1", 10), 10);
    await publishMetrics(redis, { ...m("x", 1), step: `${step}-other` }, 10);
    const got = await readMetrics(redis, step);
    assert.deepEqual(got.map((x) => [x.replica, x.consumed]), [["r1", 10], ["r2", 20]]);
    const key = `quixlab:metrics:${step}:r1`;
    assert.equal(await redis.hget(key, "consumed"), "10", "fields readable with redis-cli");
    const ttl = await redis.ttl(key);
    assert.ok(ttl > 0 && ttl <= 10, `expires (ttl ${ttl})`);
    assert.ok((await readMetrics(redis)).some((x) => x.step === `${step}-other`));
  });
});
