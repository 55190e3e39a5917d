/**
 * Redis memory of the online store (#17): one day of the seed's three features (ohlc1h, ohlc1m, ohlc60s) for three
 * products, computed in batch from generated ticks (one tick per product per second on average, seed 42, from UTC
 * midnight), written as a step would (batches of QUIXLAB_BENCH_STORE_BATCH records, default 1,000, in end order,
 * each with its keys' watermarks; the last batch with "eof") with each feature's default retention, into a
 * redis-server this suite starts and stops. Reported per feature: windows written and kept, and the sum of
 * `MEMORY USAGE` over its keys; and the `INFO memory` used_memory delta of the whole day.
 */
import type { Redis } from "ioredis";
import { ohlc1h, ohlc1m, ohlc60s } from "../src/feature/shipped/ohlc.js";
import type { Feature, WindowRecord } from "../src/feature/types.js";
import { startRedis } from "../src/redis/provider.js";
import { keysKey, latestKey, onlineRedis, putWindows, type Watermark, watermarkKey, windowsKey } from "../src/store/online.js";
import { defaultRetentionMs } from "../src/store/retention.js";
import { generateTicks } from "../src/tick/generate.js";
import { formatDuration } from "../src/window/duration.js";
import type { Row } from "./types.js";

export const name = "store-memory";

const say = (line: string) => process.stderr.write(`bench ${name}: ${line}\n`);
const DAY = 86_400_000;
const PRODUCTS = ["BTC-USD", "ETH-USD", "SOL-USD"];

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info("memory");
  return Number(/used_memory:(\d+)/.exec(info)![1]);
}

/** `MEMORY USAGE` (all samples: exact for the sorted sets) of every store key of `feature`. */
async function featureBytes(redis: Redis, feature: string): Promise<number> {
  const keys = [keysKey(feature), ...PRODUCTS.flatMap((p) => [latestKey(feature, p), windowsKey(feature, p), watermarkKey(feature, p)])];
  let sum = 0;
  for (const k of keys) sum += Number((await redis.call("MEMORY", "USAGE", k, "SAMPLES", "0")) ?? 0);
  return sum;
}

/** Write `records` as a step would: in end order, batch by batch, each batch with its keys' watermarks. */
async function writeDay(redis: Redis, f: Feature, records: WindowRecord[], batch: number): Promise<void> {
  const sorted = [...records].sort((a, b) => a.end - b.end || a.key.localeCompare(b.key));
  const retentionMs = defaultRetentionMs(f.window);
  for (let at = 0; at < sorted.length; at += batch) {
    const chunk = sorted.slice(at, at + batch);
    const last = at + batch >= sorted.length;
    const marks = new Map<string, Watermark>();
    for (const r of chunk) marks.set(r.key, last ? "eof" : Math.max(Number(marks.get(r.key) ?? 0), r.end + f.window.grace));
    await putWindows(redis, f.name, chunk, { retentionMs, watermarks: marks });
  }
}

export async function run(): Promise<Row[]> {
  const batch = Number(process.env.QUIXLAB_BENCH_STORE_BATCH ?? 1_000);
  const startMs = Date.UTC(2023, 5, 9);
  // Ticks are 1 s apart per product on average: one day, minus a margin so the day's windows all start inside it.
  const n = Math.floor(((DAY - 60_000) / 1_000) * PRODUCTS.length);
  const ticks = generateTicks({ n, products: PRODUCTS, seed: 42, startMs, intervalMs: 1_000 / PRODUCTS.length });
  const server = await startRedis({ provider: "local", log: say });
  const redis = onlineRedis(server.url!);
  try {
    await new Promise((r) => redis.once("ready", r));
    await redis.flushall();
    const before = await usedMemory(redis);
    const rows: Row[] = [];
    let total = 0;
    for (const f of [ohlc1h, ohlc1m, ohlc60s] as Feature[]) {
      const { records } = await f.batchRecords(ticks);
      const t = performance.now();
      await writeDay(redis, f, records, batch);
      const s = (performance.now() - t) / 1000;
      let kept = 0;
      for (const p of PRODUCTS) kept += await redis.zcard(windowsKey(f.name, p));
      const bytes = await featureBytes(redis, f.name);
      total += bytes;
      const retention = formatDuration(defaultRetentionMs(f.window));
      say(`${f.name}: ${records.length} windows written in ${s.toFixed(1)} s, ${kept} kept (retention ${retention}), ${bytes} bytes`);
      const note = `3 products, one day, retention ${retention}`;
      rows.push(
        { suite: name, name: `${f.name}: windows written`, value: records.length, unit: "windows", note },
        { suite: name, name: `${f.name}: windows kept`, value: kept, unit: "windows", note },
        { suite: name, name: `${f.name}: MEMORY USAGE (sum over its keys)`, value: bytes, unit: "bytes", note: `${(bytes / kept).toFixed(0)} bytes per kept window` },
        { suite: name, name: `${f.name}: write rate`, value: records.length / s, unit: "windows/s", note: `batches of ${batch}, watermarks and retention in the same call` },
      );
    }
    const delta = (await usedMemory(redis)) - before;
    rows.push(
      { suite: name, name: "three features: MEMORY USAGE sum", value: total, unit: "bytes", note: "3 products, one day" },
      { suite: name, name: "three features: INFO used_memory delta", value: delta, unit: "bytes", note: "fresh redis-server, after FLUSHALL" },
    );
    return rows;
  } finally {
    await redis.quit().catch(() => undefined);
    await server.stop();
  }
}
