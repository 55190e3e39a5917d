/**
 * #17 acceptance, "retention": after replaying 3 days of generated ticks, Redis holds exactly the windows that the
 * time-based retention allows — for ohlc1h (30 d: all of them), ohlc1m (2 d) and ohlc60s (1 h) — computed here
 * from the batch records: a key keeps the windows whose start >= its newest window's start − retention.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { ohlc1h, ohlc1m, ohlc60s } from "../../src/feature/shipped/ohlc.js";
import type { Feature } from "../../src/feature/types.js";
import { type RedisHandle, startRedis } from "../../src/redis/provider.js";
import { getKeys, getRange } from "../../src/store/online.js";
import { defaultRetentionMs } from "../../src/store/retention.js";
import { writeTicksFile } from "../../src/tick/generate.js";
import { testServices } from "../harness/services.js";
import { quixlab } from "../helpers/cli.js";

const DAY = 86_400_000;

describe("retention by time after a 3-day replay", { timeout: 300_000 }, () => {
  let dir: string;
  let file: string;
  let redis: RedisHandle;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "quixlab-retention-"));
    file = join(dir, "ticks.jsonl");
    // Three days, three products, a tick every ~6 min per product (sparse, so the 60 s / 1 s windows stay few).
    await writeTicksFile(file, { n: 2_160, products: 3, seed: 31, startMs: Date.UTC(2023, 5, 7), intervalMs: 120_000 });
    redis = await startRedis({ provider: "local", log: () => undefined });
  });
  after(async () => {
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("holds exactly the windows each feature's retention allows, per key", async () => {
    const { brokers } = await testServices();
    const client = new Redis(redis.url!);
    try {
      for (const [name, f, days] of [["ohlc1h", ohlc1h, 30], ["ohlc1m", ohlc1m, 2], ["ohlc60s", ohlc60s, 1 / 24]] as [string, Feature, number][]) {
        assert.equal(defaultRetentionMs(f.window), days * DAY, `${name}: default retention`);
        const r = await quixlab(["replay", `src/feature/shipped/ohlc.ts#${name}`, "--ticks", file, "--broker", brokers.join(","), "--redis", redis.url!, "--json"], { timeoutMs: 240_000 });
        assert.equal(r.code, 0, `${name}: ${r.out.slice(0, 600)} ${r.err.slice(-600)}`);
        const batch = (await f.batchRecords(file)).records;
        const keys = await getKeys(client, name);
        assert.deepEqual(keys, ["BTC-USD", "ETH-USD", "SOL-USD"]);
        for (const key of keys) {
          const mine = batch.filter((w) => w.key === key);
          const newest = Math.max(...mine.map((w) => w.start));
          const allowed = mine.filter((w) => w.start >= newest - days * DAY);
          const stored = await getRange(client, name, key);
          assert.deepEqual(stored.map((w) => w.start), allowed.map((w) => w.start), `${name} ${key}: exactly the windows within retention`);
          assert.deepEqual(stored, allowed, `${name} ${key}: with the batch values`);
          if (days < 3) assert.ok(allowed.length < mine.length, `${name} ${key}: retention trimmed something (${allowed.length} of ${mine.length})`);
        }
      }
    } finally {
      client.disconnect();
    }
  });
});
