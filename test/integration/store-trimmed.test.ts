/**
 * What trimming removed, remembered (`quixlab:<feature>:trimmed:<key>`), and a read as of an older time refused
 * when its ranges reach it (`readVectorAt` → `{ trimmed }`), on the session's real Redis. A reader (the model step)
 * that falls further behind the steps than a feature's retention must not get a vector with less than it held then.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { ohlc1m, ohlc60s } from "../../src/feature/shipped/ohlc.js";
import type { Feature, WindowRecord } from "../../src/feature/types.js";
import { readVectorAt } from "../../src/serving/online.js";
import { vectorAt } from "../../src/serving/rule.js";
import { parseVectorSpec } from "../../src/serving/spec.js";
import { putWindows, trimmedKey } from "../../src/store/online.js";
import { defaultRetentionMs } from "../../src/store/retention.js";
import { generateTicks } from "../../src/tick/generate.js";
import { testServices, uniqueName } from "../harness/services.js";

describe("trimmed windows and reads as of an older time", () => {
  let redis: Redis;
  const names = { m: uniqueName("trim", "m"), s: uniqueName("trim", "s") };
  const spec = parseVectorSpec(`${names.m}:today,${names.s}:latest`);
  const features: Record<string, Feature> = { [names.m]: ohlc1m, [names.s]: ohlc60s };
  const records: Record<string, WindowRecord[]> = {};
  const KEY = "BTC-USD";
  const HOUR = 3_600_000;
  let t0 = 0;
  let end = 0;

  before(async () => {
    redis = new Redis((await testServices()).redisUrl);
    // Three hours of one product; ohlc60s keeps 1 h (its default), ohlc1m 2 d.
    t0 = Date.UTC(2023, 5, 9, 9);
    const lines = generateTicks({ n: 5_400, products: 1, seed: 4, startMs: t0, intervalMs: 2_000, outOfOrderMs: 0 });
    for (const [n, f] of Object.entries(features)) records[n] = (await f.batchRecords(lines)).records.filter((r) => r.key === KEY);
    end = Math.max(...records[names.m]!.map((r) => r.end));
    // Written as the steps write them: in order, in chunks, each with the watermark after it.
    for (const [n, f] of Object.entries(features)) {
      const recs = records[n]!;
      for (let i = 0; i < recs.length; i += 500) {
        const chunk = recs.slice(i, i + 500);
        const wm = chunk.at(-1)!.end + f.window.grace;
        await putWindows(redis, n, chunk, { retentionMs: f.retention ?? defaultRetentionMs(f.window), watermarks: [[KEY, wm]] });
      }
    }
  });
  after(() => redis?.disconnect());

  it("remembers the highest start trimming removed, per feature and key", async () => {
    const through = Number(await redis.get(trimmedKey(names.s, KEY)));
    const newest = Math.max(...records[names.s]!.map((r) => r.start));
    const kept = records[names.s]!.filter((r) => r.start >= newest - HOUR);
    const gone = records[names.s]!.filter((r) => r.start < newest - HOUR);
    assert.ok(gone.length > 0, "three hours of a 1 h retention trim something");
    assert.equal(through, Math.max(...gone.map((r) => r.start)));
    assert.equal(await redis.zcard(`quixlab:${names.s}:windows:${KEY}`), kept.length);
    assert.equal(await redis.get(trimmedKey(names.m, KEY)), null, "ohlc1m's 2 d retention trimmed nothing");
  });

  it("a read as of a time whose windows are still held equals the batch vector", async () => {
    const at = end - 10 * 60_000;
    const v = await readVectorAt(redis, KEY, spec, features, at);
    assert.ok(!("trimmed" in v) && v !== "wait", JSON.stringify(v).slice(0, 200));
    assert.deepEqual(v, vectorAt(records, KEY, at, spec, Object.fromEntries(Object.entries(features).map(([n, f]) => [n, f.window.grace]))));
  });

  it("a read as of a time whose latest ohlc60s window was trimmed is refused, naming the feature", async () => {
    const at = t0 + 30 * 60_000;
    const v = await readVectorAt(redis, KEY, spec, features, at);
    assert.ok(v !== "wait" && "trimmed" in v, JSON.stringify(v).slice(0, 200));
    assert.equal(v.trimmed.feature, names.s);
    assert.equal(v.trimmed.through, Number(await redis.get(trimmedKey(names.s, KEY))));
  });
});
