/**
 * The live pipeline of #15 as a user runs it: the local Coinbase-protocol server (the only fake) feeds three
 * products to `quixlab up`, running the Coinbase source added by `quixlab add source` → a candles step → Redis,
 * on the session's real Kafka and Redis. The server goes down for 10 s and the source replica is killed with
 * SIGKILL (the supervisor restarts it): the ticks topic has no duplicate and no gap beyond the outages, and
 * candles keep arriving in Redis.
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { pipelineStatus } from "../../src/pipeline/status.js";
import { getKeys, getLatest } from "../../src/store/online.js";
import { readMetrics } from "../../src/stream/metrics.js";
import { waitFor } from "../../src/util/net.js";
import { writeProject } from "../fixtures/pipeline/project.js";
import { testServices, uniqueName } from "../harness/services.js";
import { quixlab, repoRoot } from "../helpers/cli.js";
import { CoinbaseWsServer } from "../helpers/coinbase-ws.js";
import { readTopicUntil } from "./source-helpers.js";

const PRODUCTS = ["BTC-USD", "ETH-USD", "SOL-USD"];

describe("live pipeline: Coinbase source → candles → Redis under quixlab up", { timeout: 400_000 }, () => {
  let parent: string;
  let proj: string;
  let ws: CoinbaseWsServer;
  before(async () => {
    await mkdir(join(repoRoot, "tmp"), { recursive: true });
    parent = await mkdtemp(join(repoRoot, "tmp", "source-pipeline-"));
    proj = join(parent, "proj");
    await mkdir(proj);
    ws = await CoinbaseWsServer.start({ products: PRODUCTS, ratePerSecond: 10 });
  });
  after(async () => {
    await quixlab(["down"], { cwd: proj, timeoutMs: 120_000 }).catch(() => undefined);
    await ws.close();
    await rm(parent, { recursive: true, force: true });
  });

  it("candles keep coming through a 10 s feed outage and a SIGKILL of the source, with no duplicate tick", async (t) => {
    const { brokers, redisUrl } = await testServices();
    const ticks = uniqueName(t, "ticks");
    const candles = uniqueName(t, "candles");
    const feature = uniqueName("live", "c5s").replace(/-/g, "_");
    const source = `cb-${Date.now().toString(36)}`;
    writeProject(proj, [{ name: `c5s-${Date.now().toString(36)}`, app: "ohlc", variables: { input: ["InputTopic", ticks], output: ["OutputTopic", candles], window: ["FreeText", "5s"], feature_name: ["FreeText", feature] } }], [
      { name: ticks, partitions: 2 },
      { name: candles, partitions: 2 },
    ]);
    const added = await quixlab(["add", "source", "coinbase", "--name", source, "--products", PRODUCTS.join(","), "--topic", ticks, "--endpoint", ws.url], { cwd: proj });
    assert.equal(added.code, 0, added.err);
    const valid = await quixlab(["descriptor", "validate"], { cwd: proj });
    assert.equal(valid.code, 0, valid.out + valid.err);
    const up = await quixlab(["up", "--detach", "--broker", brokers.join(","), "--redis", redisUrl, "--timeout", "150"], { cwd: proj, timeoutMs: 240_000 });
    assert.equal(up.code, 0, up.out + up.err);

    const redis = new Redis(redisUrl);
    try {
      const candleEnds = async () => Promise.all(PRODUCTS.map(async (p) => (await getLatest(redis, feature, p))?.end ?? 0));
      await waitFor(async () => (await getKeys(redis, feature)).length === PRODUCTS.length, { timeoutMs: 90_000, what: "a candle per product in Redis" });

      await ws.down(10_000);
      const m = await waitFor(async () => (await readMetrics(redis, source)).find((x) => x.source?.connected && (x.source?.reconnects ?? 0) >= 1), { timeoutMs: 60_000, what: "the source back after the outage" });
      assert.equal(m.kind, "source");
      const afterOutage = await candleEnds();
      await waitFor(async () => (await candleEnds()).every((e, i) => e > afterOutage[i]!), { timeoutMs: 60_000, what: "new candles after the outage" });

      const status = await pipelineStatus(proj, { metrics: false });
      const pid = status.steps.find((s) => s.name === source)!.pids[0]!;
      process.kill(pid, "SIGKILL");
      await waitFor(async () => {
        const s = (await pipelineStatus(proj, { metrics: false })).steps.find((x) => x.name === source)!;
        return s.pids.length === 1 && s.pids[0] !== pid && s.running === 1;
      }, { timeoutMs: 60_000, what: "the supervisor to restart the source" });
      const afterKill = await candleEnds();
      await waitFor(async () => (await candleEnds()).every((e, i) => e > afterKill[i]!), { timeoutMs: 60_000, what: "new candles after the restart" });
    } finally {
      redis.disconnect();
    }
    const down = await quixlab(["down"], { cwd: proj, timeoutMs: 120_000 });
    assert.equal(down.code, 0, down.out + down.err);

    const got = await readTopicUntil(brokers, ticks, (x) => x.length > 0);
    const total = got.length;
    const all = await readTopicUntil(brokers, ticks, (x) => x.length >= total);
    for (const p of PRODUCTS) {
      const ids = all.filter((x) => x.key === p).map((x) => JSON.parse(x.value).trade_id as number);
      assert.equal(new Set(ids).size, ids.length, `${p}: no duplicate trade in the ticks topic`);
      assert.deepEqual(ids, [...ids].sort((a, b) => a - b), `${p}: in trade order`);
      const have = new Set(ids);
      // Delivered while a source was connected and missing: only what the killed replica had received and Kafka
      // had not yet acknowledged can be, a few at most.
      const missing = ws.tradeIds(p).filter((id) => id <= ids[ids.length - 1]! && !have.has(id));
      assert.ok(missing.length <= 10, `${p}: no gap beyond the outages (missing ${JSON.stringify(missing)})`);
    }
  });
});
