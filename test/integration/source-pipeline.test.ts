/**
 * The live pipeline of #15 as a user runs it: the local Coinbase-protocol server (the only fake) feeds three
 * products to `quixlab up`, running the Coinbase source added by `quixlab add source` → a 1-minute candles step
 * (`emit: "update"`, `idle: "2s"`) → Redis, on the session's real Kafka and Redis. In tmux at 80×24 the dashboard
 * shows the in-progress minute updating. The server goes down for 10 s, then the source replica and the candles
 * replica are each killed with SIGKILL (the supervisor restarts them): the ticks topic has no duplicate and no gap
 * beyond the outages, and once the feed stops (idle closes the last minute) the candles topic holds exactly the
 * windows a batch run computes over what the source produced.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { pipelineStatus } from "../../src/pipeline/status.js";
import { ohlc } from "../../src/feature/shipped/ohlc.js";
import { runBatch } from "../../src/feature/batch.js";
import type { WindowRecord } from "../../src/feature/types.js";
import { compareWindows } from "../../src/replay/parity.js";
import { getKeys, getLatest } from "../../src/store/online.js";
import { readMetrics } from "../../src/stream/metrics.js";
import { waitFor } from "../../src/util/net.js";
import { writeProject } from "../fixtures/pipeline/project.js";
import { testServices, uniqueName } from "../harness/services.js";
import { bin, quixlab, repoRoot } from "../helpers/cli.js";
import { CoinbaseWsServer } from "../helpers/coinbase-ws.js";
import { readTopicUntil } from "./source-helpers.js";

const PRODUCTS = ["BTC-USD", "ETH-USD", "SOL-USD"];

describe("live pipeline: Coinbase source → 1m candles → Redis under quixlab up", { timeout: 480_000 }, () => {
  let parent: string;
  let proj: string;
  let ws: CoinbaseWsServer;
  const socket = `quixlab-live-${process.pid}`;
  before(async () => {
    await mkdir(join(repoRoot, "tmp"), { recursive: true });
    parent = await mkdtemp(join(repoRoot, "tmp", "source-pipeline-"));
    proj = join(parent, "proj");
    await mkdir(proj);
    ws = await CoinbaseWsServer.start({ products: PRODUCTS, ratePerSecond: 10 });
  });
  after(async () => {
    spawnSync("tmux", ["-L", socket, "kill-server"], { stdio: "ignore" });
    await quixlab(["down"], { cwd: proj, timeoutMs: 120_000 }).catch(() => undefined);
    await ws.close();
    await rm(parent, { recursive: true, force: true });
  });

  it("the in-progress minute moves on the dashboard; an outage and SIGKILLs of the source and the step lose no window", async (t) => {
    const { brokers, redisUrl } = await testServices();
    const ticks = uniqueName(t, "ticks");
    const candles = uniqueName(t, "candles");
    const feature = uniqueName("live", "c1m").replace(/-/g, "_");
    const source = `cb-${Date.now().toString(36)}`;
    const step = `c1m-${Date.now().toString(36)}`;
    const vars = { input: ["InputTopic", ticks], output: ["OutputTopic", candles], window: ["FreeText", "1m"], feature_name: ["FreeText", feature], emit: ["FreeText", "update"], idle: ["FreeText", "2s"] } as const;
    writeProject(proj, [{ name: step, app: "ohlc", variables: vars as never }], [
      { name: ticks, partitions: 2 },
      { name: candles, partitions: 2 },
      { name: `${candles}.updates`, partitions: 2 },
    ]);
    const added = await quixlab(["add", "source", "coinbase", "--name", source, "--products", PRODUCTS.join(","), "--topic", ticks, "--endpoint", ws.url], { cwd: proj });
    assert.equal(added.code, 0, added.err);
    const valid = await quixlab(["descriptor", "validate"], { cwd: proj });
    assert.equal(valid.code, 0, valid.out + valid.err);
    const up = await quixlab(["up", "--detach", "--broker", brokers.join(","), "--redis", redisUrl, "--timeout", "150"], { cwd: proj, timeoutMs: 240_000 });
    assert.equal(up.code, 0, up.out + up.err);

    const redis = new Redis(redisUrl);
    const pidOf = async (name: string) => (await pipelineStatus(proj, { metrics: false })).steps.find((s) => s.name === name)!.pids[0]!;
    const killAndWait = async (name: string) => {
      const pid = await pidOf(name);
      process.kill(pid, "SIGKILL");
      await waitFor(async () => {
        const s = (await pipelineStatus(proj, { metrics: false })).steps.find((x) => x.name === name)!;
        return s.pids.length === 1 && s.pids[0] !== pid && s.running === 1;
      }, { timeoutMs: 60_000, what: `the supervisor to restart ${name}` });
    };
    try {
      // The in-progress candle (final: false in Redis) of every product, as a model reads it.
      const open = async () => Promise.all(PRODUCTS.map(async (p) => (await getLatest(redis, feature, p)) as (WindowRecord & { count?: number }) | undefined));
      const moved = async (before: Awaited<ReturnType<typeof open>>, what: string) =>
        waitFor(async () => (await open()).every((w, i) => w && (w.end > (before[i]?.end ?? 0) || w.count !== before[i]?.count)), { timeoutMs: 60_000, what });
      await waitFor(async () => (await getKeys(redis, feature)).length === PRODUCTS.length, { timeoutMs: 90_000, what: "a candle per product in Redis" });

      // The trader's view: in tmux at 80×24, the in-progress minute's line changes as ticks arrive.
      const r = spawnSync("tmux", ["-L", socket, "new-session", "-d", "-s", "d", "-x", "80", "-y", "24", "-c", proj, `env -u CI ${process.execPath} ${bin} dashboard --step ${step} --product ETH-USD`], { encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
      const screen = () => spawnSync("tmux", ["-L", socket, "capture-pane", "-p", "-t", "d"], { encoding: "utf8" }).stdout ?? "";
      const line = (s: string) => s.split("\n").find((l) => l.startsWith("░ in progress"));
      const first = await waitFor(async () => line(screen()), { timeoutMs: 30_000, intervalMs: 250, what: "the in-progress line" }).catch((e: Error) => {
        throw new Error(`${e.message}; screen:\n${screen()}`);
      });
      assert.match(screen().split("\n")[1]!, new RegExp(`^source \\[${source}\\] running`), screen());
      await waitFor(async () => {
        const l = line(screen());
        return l && l !== first ? l : undefined;
      }, { timeoutMs: 20_000, intervalMs: 250, what: "the in-progress candle to change on screen" });
      spawnSync("tmux", ["-L", socket, "send-keys", "-t", "d", "q"]);

      await ws.down(10_000);
      const m = await waitFor(async () => (await readMetrics(redis, source)).find((x) => x.source?.connected && (x.source?.reconnects ?? 0) >= 1), { timeoutMs: 60_000, what: "the source back after the outage" });
      assert.equal(m.kind, "source");
      await moved(await open(), "candles moving after the outage");
      await killAndWait(source);
      await moved(await open(), "candles moving after the source's restart");
      await killAndWait(step);
      await moved(await open(), "candles moving after the step's restart");

      // At least one minute closed by event time for every product, then the feed stops: with idle "2s", each
      // product's last minute closes by the wall clock (end + grace), so every window of what the source produced
      // becomes final without another tick.
      await readTopicUntil(brokers, candles, (x) => PRODUCTS.every((p) => x.some((m) => m.key === p)), 90_000);
      await ws.close();
      await new Promise((r) => setTimeout(r, 1_000));
    } finally {
      redis.disconnect();
    }

    const got = await readTopicUntil(brokers, ticks, (x) => x.length > 0);
    const all = await readTopicUntil(brokers, ticks, (x) => x.length >= got.length);
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

    // Replay parity over what the source produced: the live candles (each window once) equal a batch run over the
    // ticks topic, window for window, through the outage and both kills.
    const batch = await runBatch(ohlc({ size: "1m", name: feature }), all.map((x) => JSON.parse(x.value) as unknown));
    assert.ok(PRODUCTS.every((p) => batch.records.filter((w) => w.key === p).length >= 2), `${batch.records.length} windows: a minute closed by event time and one by idle, for every product`);
    const distinct = (x: { key: string | null; value: string }[]) => new Set(x.map((m) => `${m.key} ${JSON.parse(m.value).start}`)).size;
    const finals = await readTopicUntil(brokers, candles, (x) => distinct(x) >= batch.records.length, 120_000).catch(() => readTopicUntil(brokers, candles, (x) => x.length > 0));
    const down = await quixlab(["down"], { cwd: proj, timeoutMs: 120_000 });
    assert.equal(down.code, 0, down.out + down.err);
    const parity = compareWindows(batch.records, finals.map((x) => JSON.parse(x.value) as WindowRecord));
    assert.ok(parity.ok, `live candles = batch over the ticks topic: ${JSON.stringify({ ...parity, mismatches: parity.mismatches.slice(0, 3) })}`);
    for (const p of PRODUCTS) {
      const starts = batch.records.filter((w) => w.key === p).map((w) => w.start);
      for (let i = 1; i < starts.length; i++) assert.equal(starts[i]! - starts[i - 1]!, 60_000, `${p}: every minute from the first to the last`);
    }
  });
});
