import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Redis } from "ioredis";
import type { WindowRecord } from "../../src/feature/types.js";
import { getKeys, getLatest, getRange, getWatermark, keysKey, onlineRedis, putWindows, watermarkKey, windowsKey } from "../../src/store/online.js";
import { testServices, uniqueName } from "../harness/services.js";

const MIN = 60_000;
const w = (key: string, minute: number, close = minute): WindowRecord => ({ key, start: minute * MIN, end: (minute + 1) * MIN, open: 1, high: 2, low: 0.5, close, volume: 0.3, count: 1 });
const starts = async (redis: Redis, feature: string, key: string) => (await getRange(redis, feature, key)).map((r) => r.start / MIN);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe("online store: retention by time and the watermark (Redis)", () => {
  let redis: Redis;
  let url: string;

  before(async () => {
    url = (await testServices()).redisUrl;
    redis = onlineRedis(url);
    await new Promise((r) => redis.once("ready", r));
  });

  after(async () => {
    await redis?.quit();
  });

  it("trims by start: start >= newest − retention stays, one ms older goes, a replayed old window is trimmed again", async (t) => {
    const feature = uniqueName(t);
    const minutes = range(0, 10).map((m) => w("K", m));
    await putWindows(redis, feature, minutes, { retentionMs: 5 * MIN });
    assert.deepEqual(await starts(redis, feature, "K"), range(5, 10), "start 5 min == newest 10 min − 5 min stays at the boundary");
    await putWindows(redis, feature, [{ ...w("K", 0), start: 5 * MIN - 1 }], { retentionMs: 5 * MIN });
    assert.deepEqual(await starts(redis, feature, "K"), range(5, 10), "one ms before the boundary goes");
    await putWindows(redis, feature, [w("K", 2)], { retentionMs: 5 * MIN });
    assert.deepEqual(await starts(redis, feature, "K"), range(5, 10));
    await putWindows(redis, feature, [w("K", 12)], { retentionMs: 5 * MIN });
    assert.deepEqual(await starts(redis, feature, "K"), [7, 8, 9, 10, 12], "a newer window moves the boundary");
    assert.deepEqual(await getLatest(redis, feature, "K"), w("K", 12));
  });

  it("with retention alone, no count bound: more than DEFAULT_MAX_WINDOWS stay, in one write of many script chunks", async (t) => {
    const feature = uniqueName(t);
    const secs = Array.from({ length: 12_000 }, (_, i) => ({ key: "K", start: i * 1_000, end: i * 1_000 + 60_000, close: i }));
    await putWindows(redis, feature, secs, { retentionMs: 86_400_000 });
    assert.equal(await redis.zcard(windowsKey(feature, "K")), 12_000);
    assert.deepEqual(await getLatest(redis, feature, "K"), secs.at(-1), "latest is the newest across chunks");
    // Shuffled replay across chunks: the same data (idempotent per window), and retention 1 h keeps 3,601 starts.
    const shuffled = [...secs].reverse();
    await putWindows(redis, feature, shuffled, { retentionMs: 3_600_000 });
    const kept = await getRange(redis, feature, "K");
    assert.equal(kept.length, 3_601);
    assert.equal(kept[0]!.start, 11_999_000 - 3_600_000);
    assert.deepEqual(await getLatest(redis, feature, "K"), secs.at(-1));
  });

  it("applies the count bound and the time bound together", async (t) => {
    const feature = uniqueName(t);
    const minutes = range(0, 10).map((m) => w("K", m));
    await putWindows(redis, feature, minutes, { retentionMs: 5 * MIN, maxWindows: 3 });
    assert.deepEqual(await starts(redis, feature, "K"), [8, 9, 10], "count is the tighter bound");
    await putWindows(redis, feature, minutes, { retentionMs: 5 * MIN, maxWindows: 8 });
    assert.deepEqual(await starts(redis, feature, "K"), range(5, 10), "time is the tighter bound");
    const other = uniqueName(t, "count");
    await putWindows(redis, other, minutes, { maxWindows: 4 });
    assert.deepEqual(await starts(redis, other, "K"), [7, 8, 9, 10], "count alone, as before");
  });

  it("moves a watermark only forward, writes it for a key without windows, and keeps it per key", async (t) => {
    const feature = uniqueName(t);
    await putWindows(redis, feature, [w("A", 1), w("A", 2)], { watermarks: [["A", 200_000], ["B", 50]] });
    assert.equal(await getWatermark(redis, feature, "A"), 200_000);
    assert.equal(await getWatermark(redis, feature, "B"), 50, "a key with no windows in the write gets its watermark");
    assert.deepEqual(await getKeys(redis, feature), ["A"], "the keys set lists keys with windows");
    assert.equal(await getWatermark(redis, feature, "C"), undefined);
    // A replay after a crash: the older write again.
    await putWindows(redis, feature, [w("A", 1)], { watermarks: new Map([["A", 130_000]]) });
    assert.equal(await getWatermark(redis, feature, "A"), 200_000, "never moves back");
    await putWindows(redis, feature, [], { watermarks: [["A", 260_000]] });
    assert.equal(await redis.get(watermarkKey(feature, "A")), "260000", "readable with redis-cli");
    await assert.rejects(putWindows(redis, feature, [], { watermarks: [["A", Number.NaN]] }), /watermark NaN for key A/);
  });

  it('"eof" wins over any number; only a number past its event time (a new run) replaces it', async (t) => {
    const feature = uniqueName(t);
    await putWindows(redis, feature, [w("K", 1)], { watermarks: [["K", 300]] });
    await putWindows(redis, feature, [w("K", 2)], { watermarks: [["K", "eof"]] });
    assert.equal(await getWatermark(redis, feature, "K"), "eof");
    assert.equal(await redis.get(watermarkKey(feature, "K")), "eof@300", "eof keeps the highest number as its event time");
    await putWindows(redis, feature, [], { watermarks: [["K", 250]] });
    await putWindows(redis, feature, [], { watermarks: [["K", 300]] });
    assert.equal(await getWatermark(redis, feature, "K"), "eof", "a replay of the run that ended does not undo its eof");
    await putWindows(redis, feature, [], { watermarks: [["K", "eof"]] });
    assert.equal(await redis.get(watermarkKey(feature, "K")), "eof@300", "eof again is a no-op");
    await putWindows(redis, feature, [], { watermarks: [["K", 301]] });
    assert.equal(await getWatermark(redis, feature, "K"), 301, "later input: a new run");
    await putWindows(redis, feature, [], { watermarks: [["E", "eof"]] });
    assert.equal(await redis.get(watermarkKey(feature, "E")), "eof", "eof with no number before it");
    await putWindows(redis, feature, [], { watermarks: [["E", 1]] });
    assert.equal(await getWatermark(redis, feature, "E"), 1);
  });

  it("a reader never sees windows without the watermark that finalised them", async (t) => {
    const feature = uniqueName(t);
    const reader = onlineRedis(url);
    await new Promise((r) => reader.once("ready", r));
    // Write i: 1,500 windows (two script chunks) and watermark = their count so far; the reader checks both at once.
    const read = `return {redis.call('ZCARD', KEYS[1]), redis.call('GET', KEYS[2]), redis.call('SCARD', KEYS[3])}`;
    const keys = [windowsKey(feature, "K"), watermarkKey(feature, "K"), keysKey(feature)] as const;
    let done = false;
    let reads = 0;
    const seen: string[] = [];
    const loop = (async () => {
      while (!done) {
        const [n, wm] = (await reader.eval(read, 3, ...keys)) as [number, string | null, number];
        reads++;
        if (String(n) !== (wm ?? "0")) seen.push(`${n} windows with watermark ${wm}`);
      }
    })();
    try {
      for (let i = 0; i < 8; i++) {
        const batch = Array.from({ length: 1_500 }, (_, j) => ({ key: "K", start: (i * 1_500 + j) * 1_000, end: 0 }));
        await putWindows(redis, feature, batch, { retentionMs: 0, watermarks: [["K", (i + 1) * 1_500]] });
      }
    } finally {
      done = true;
      await loop;
      await reader.quit();
    }
    assert.deepEqual(seen, [], `after ${reads} reads`);
    assert.equal(await getWatermark(redis, feature, "K"), 12_000);
  });
});
