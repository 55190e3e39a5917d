/**
 * featureVector, the online read (src/serving/online.ts), on the session's real Redis: windows of the seed's three
 * features written as the step writes them (putWindows with each key's watermark), read back in one script call.
 * The vector equals the batch rule (`vectorAt`) at the asOf it reports — the oldest of the features' watermarks —
 * mid-run and after eof; a feature whose watermark runs ahead contributes only what was final at that asOf.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { defineFeature } from "../../src/feature/define.js";
import { ohlcv } from "../../src/feature/ohlcv.js";
import { ohlc1h, ohlc1m, ohlc60s } from "../../src/feature/shipped/ohlc.js";
import type { Feature, WindowRecord } from "../../src/feature/types.js";
import { featureVector } from "../../src/serving/online.js";
import { vectorAt } from "../../src/serving/rule.js";
import { parseVectorSpec } from "../../src/serving/spec.js";
import { putWindows } from "../../src/store/online.js";
import { generateTicks } from "../../src/tick/generate.js";
import { countWindow } from "../../src/window/spec.js";
import { testServices, uniqueName } from "../harness/services.js";

describe("featureVector from the online store", () => {
  let redis: Redis;
  const names = { h: uniqueName("vec", "h"), m: uniqueName("vec", "m"), s: uniqueName("vec", "s") };
  const spec = parseVectorSpec(`${names.h}:30d,${names.m}:today,${names.s}:latest`);
  const features: Record<string, Feature> = { [names.h]: ohlc1h, [names.m]: ohlc1m, [names.s]: ohlc60s };
  const records: Record<string, WindowRecord[]> = {};
  const graces = Object.fromEntries(Object.entries(features).map(([n, f]) => [n, f.window.grace]));
  /** Each key's latest event time. */
  const latest: Record<string, number> = {};

  before(async () => {
    redis = new Redis((await testServices()).redisUrl);
    // Four hours across a UTC midnight, three products.
    const lines = generateTicks({ n: 20_000, products: 3, seed: 9, startMs: Date.UTC(2023, 5, 9, 22), intervalMs: 720, outOfOrderMs: 1_000 });
    for (const [n, f] of Object.entries(features)) records[n] = (await f.batchRecords(lines)).records;
    for (const l of lines) {
      const t = JSON.parse(l) as { product_id?: string; time?: string };
      const ms = typeof t.time === "string" ? Date.parse(t.time) : Number.NaN;
      if (t.product_id && Number.isFinite(ms)) latest[t.product_id] = Math.max(latest[t.product_id] ?? ms, ms);
    }
  });
  after(() => redis?.disconnect());

  /** Write every window of `feature` ending by `upTo` (+ its grace), with the watermark upTo, as a step would. */
  async function writeUpTo(name: string, upTo: number | "eof"): Promise<void> {
    const f = features[name]!;
    const final = records[name]!.filter((r) => upTo === "eof" || upTo >= r.end + f.window.grace);
    const keys = [...new Set(records[name]!.map((r) => r.key))];
    await putWindows(redis, name, final, { retentionMs: 400 * 86_400_000, watermarks: keys.map((k) => [k, upTo] as [string, number | "eof"]) });
  }

  it("mid-run: asOf is the oldest watermark and the vector is the batch rule at it", async () => {
    const t1 = Date.UTC(2023, 5, 10, 0, 30);
    const t2 = Date.UTC(2023, 5, 10, 1, 5);
    await writeUpTo(names.h, t2);
    await writeUpTo(names.m, t1); // the minute step lags
    await writeUpTo(names.s, t2);
    for (const key of ["BTC-USD", "ETH-USD", "SOL-USD"]) {
      const got = await featureVector(redis, key, spec, features);
      assert.ok(got);
      assert.equal(got.asOf, t1, "the oldest of the three watermarks");
      assert.deepEqual(got, vectorAt(records, key, t1, spec, graces), key);
      const m = got.features[names.m] as WindowRecord[];
      assert.ok(m.length > 0 && m.every((w) => w.start >= Date.UTC(2023, 5, 10)), "today: since UTC midnight of asOf");
      const s = got.features[names.s] as WindowRecord;
      assert.ok(s.end + ohlc60s.window.grace <= t1, "latest: final at asOf, though the 60 s step's own watermark is later");
    }
  });

  it("after eof on every feature: asOf eof, ranges from the key's latest event time", async () => {
    // As a step writes it: the watermark is the key's latest event time, then "eof" at the end-of-input flush.
    for (const n of Object.keys(features)) {
      for (const key of ["BTC-USD", "ETH-USD", "SOL-USD"]) await putWindows(redis, n, [], { watermarks: [[key, latest[key]!]] });
      await writeUpTo(n, "eof");
    }
    for (const key of ["BTC-USD", "ETH-USD", "SOL-USD"]) {
      const got = await featureVector(redis, key, spec, features);
      assert.equal(got?.asOf, "eof");
      assert.deepEqual(got, vectorAt(records, key, "eof", spec, graces, latest[key]), key);
    }
    assert.equal(await featureVector(redis, "NOPE-USD", spec, features), undefined, "a key the store does not know");
  });

  it("count windows that share a start and an end come in index order, as in batch", async () => {
    const name = uniqueName("vec", "count");
    const count = defineFeature({ name, window: countWindow(3), agg: ohlcv() });
    // 36 ticks in one millisecond: windows 0…11 all start at t0 and end at t0 + 1 (Redis orders equal scores by member).
    const t0 = Date.UTC(2023, 5, 9, 12);
    const lines = Array.from({ length: 37 }, (_, i) =>
      JSON.stringify({ type: "ticker", product_id: "K", price: String(100 + i), last_size: "1", time: new Date(i < 36 ? t0 : t0 + 5_000).toISOString() }),
    );
    const { records: recs } = await count.batchRecords(lines);
    assert.equal(recs.length, 13);
    await putWindows(redis, name, recs, { retentionMs: 86_400_000, watermarks: [["K", `eof@${t0 + 5_000}`]] });
    for (const range of ["1h", "latest"]) {
      const s = parseVectorSpec(`${name}:${range}`);
      const got = await featureVector(redis, "K", s, { [name]: count });
      assert.deepEqual(got, vectorAt({ [name]: recs }, "K", "eof", s, { [name]: 0 }, t0 + 5_000), range);
    }
  });

});
