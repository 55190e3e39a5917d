/**
 * The dashboard's reads of the online store on the session's real Redis, with windows and updates written by the
 * real `putWindows`: the newest candles oldest first, the in-progress candle only while it is an update newer than
 * every final window, the product fallback when the remembered one is gone, and the freshness of steps that do
 * not report `lastWindowEnd` from the newest final window of their products.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type { Redis } from "ioredis";
import type { WindowRecord } from "../../src/feature/types.js";
import { readStore } from "../../src/pipeline/dashboard-store.js";
import { onlineRedis, putWindows } from "../../src/store/online.js";
import { testRedisUrl } from "../harness/services.js";

const M = 60_000;
const T0 = Date.UTC(2024, 0, 1, 12, 0, 0);
const w = (key: string, i: number, close = 10 + i): WindowRecord => ({ key, start: T0 + i * M, end: T0 + (i + 1) * M, open: 10, high: Math.max(10, close) + 1, low: 9, close, volume: 1, count: 3 });

describe("dashboard store reads", () => {
  let redis: Redis;
  const feature = `dash-store-${randomBytes(3).toString("hex")}`;
  before(async () => {
    redis = onlineRedis(await testRedisUrl(), { lazyConnect: true });
    await redis.connect();
    await putWindows(redis, feature, Array.from({ length: 500 }, (_, i) => w("ETH-USD", i)));
    await putWindows(redis, feature, [w("BTC-USD", 0), w("BTC-USD", 7)]);
  });
  after(() => redis.disconnect());

  it("reads the newest `count` candles oldest first, and the open window once an update newer than them is stored", async () => {
    const q = { candles: { step: "s", feature, product: "ETH-USD", count: 68 } };
    const before = await readStore(redis, q);
    assert.deepEqual(before.candles!.products, ["BTC-USD", "ETH-USD"]);
    assert.deepEqual(before.candles!.records.map((r) => r.start), Array.from({ length: 68 }, (_, i) => T0 + (432 + i) * M));
    assert.equal(before.candles!.inProgress, null, "no update yet: the latest hash holds a final window");

    await putWindows(redis, feature, [], { updates: [w("ETH-USD", 500, 12), w("ETH-USD", 500, 13.5)] });
    const live = (await readStore(redis, q)).candles!.inProgress;
    assert.equal(live?.start, T0 + 500 * M);
    assert.equal(live?.close, 13.5, "the newest update");

    // The window closes: its final record replaces the update, and nothing is in progress until the next one.
    await putWindows(redis, feature, [w("ETH-USD", 500, 14)]);
    const closed = (await readStore(redis, q)).candles!;
    assert.equal(closed.inProgress, null);
    assert.equal(closed.records.at(-1)?.close, 14);
    assert.equal(closed.records.length, 68);
  });

  it("falls back to the first product when the remembered one has no windows", async () => {
    const r = await readStore(redis, { candles: { step: "s", feature, product: "GONE-USD", count: 10 } });
    assert.equal(r.candles!.product, "BTC-USD");
    assert.deepEqual(r.candles!.records.map((x) => x.start), [T0, T0 + 7 * M]);
    const none = await readStore(redis, { candles: { step: "s", feature: `${feature}-empty`, count: 10 } });
    assert.deepEqual(none.candles, { step: "s", feature: `${feature}-empty`, product: null, products: [], records: [], inProgress: null });
  });

  it("gives the newest final window's end over a feature's products, for steps that do not report it", async () => {
    await putWindows(redis, feature, [], { updates: [w("BTC-USD", 900)] });
    const r = await readStore(redis, { freshness: [feature, `${feature}-empty`] });
    // ETH-USD's last final window is #500; BTC-USD's update of #900 is not final, so it does not count.
    assert.deepEqual(r.windowEnds, { [feature]: T0 + 501 * M, [`${feature}-empty`]: null });
    assert.equal(r.candles, null);
  });
});
