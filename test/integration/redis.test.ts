import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Redis } from "ioredis";
import { testRedisUrl, uniqueName } from "../harness/services.js";

describe("Redis (real)", () => {
  it("writes and reads strings, hashes, counters and expiries with ioredis", async (t) => {
    const redisUrl = await testRedisUrl();
    const redis = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
    const ns = uniqueName(t);
    t.after(async () => {
      await redis.del(`${ns}:s`, `${ns}:h`, `${ns}:n`, `${ns}:ttl`);
      await redis.quit();
    });

    assert.equal(await redis.set(`${ns}:s`, "ETH-USD"), "OK");
    assert.equal(await redis.get(`${ns}:s`), "ETH-USD");

    await redis.hset(`${ns}:h`, { open: "1846.55", close: "1847.1", count: "49" });
    assert.deepEqual(await redis.hgetall(`${ns}:h`), { open: "1846.55", close: "1847.1", count: "49" });

    const results = await redis.multi().incrby(`${ns}:n`, 5).incrby(`${ns}:n`, 7).exec();
    assert.deepEqual(results, [
      [null, 5],
      [null, 12],
    ]);

    await redis.set(`${ns}:ttl`, "x", "PX", 60_000);
    const pttl = await redis.pttl(`${ns}:ttl`);
    assert.ok(pttl > 0 && pttl <= 60_000, `pttl ${pttl}`);
    assert.equal(await redis.get(`${ns}:missing`), null);
  });
});
