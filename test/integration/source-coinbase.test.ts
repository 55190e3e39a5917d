/**
 * The Coinbase source against the local Coinbase-protocol server (test/helpers/coinbase-ws.ts, the only fake) and
 * the session's real Kafka and Redis, run as a user runs it (`quixlab source coinbase` in a child process):
 * tickers exactly as sent, keyed and stamped; no duplicate and no gap beyond an outage after a drop, a 10 s
 * outage, a silent socket and a SIGKILL; heartbeats and subscription answers not forwarded; metrics in Redis
 * and a clean SIGTERM.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { readMetrics } from "../../src/stream/metrics.js";
import { testServices, uniqueName } from "../harness/services.js";
import { CoinbaseWsServer } from "../helpers/coinbase-ws.js";
import { type ReadMessage, readMetricsFile, readTopicUntil, type SourceChild, startSourceChild, waitForMetrics } from "./source-helpers.js";

const PRODUCTS = ["BTC-USD", "ETH-USD", "SOL-USD"];

/** Every produced message is a delivered ticker, byte for byte, once, in order; and none delivered is missing below the last produced. */
function checkAgainstServer(server: CoinbaseWsServer, messages: ReadMessage[], allowedMissing: (product: string, tradeId: number) => boolean = () => false): void {
  const byProduct = new Map<string, number[]>();
  const sentText = new Map<string, string>();
  for (const p of PRODUCTS) for (const t of server.delivered.get(p)!) sentText.set(`${p}/${t.tradeId}`, t.text);
  for (const m of messages) {
    const v = JSON.parse(m.value) as { type: string; product_id: string; trade_id: number; time: string };
    assert.equal(v.type, "ticker", "only tickers are forwarded");
    assert.equal(m.key, v.product_id, "keyed by product");
    assert.equal(m.value, sentText.get(`${v.product_id}/${v.trade_id}`), "the value is the frame exactly as the server sent it");
    assert.equal(m.timestamp, Math.floor(Date.parse(v.time)), "the Kafka timestamp is the event time");
    const ingest = Number(m.headers["quixlab-ingest-ms"]);
    assert.ok(ingest >= m.timestamp - 5 && ingest < Date.now(), `ingest header ${ingest} is the wall time of receipt`);
    byProduct.set(v.product_id, [...(byProduct.get(v.product_id) ?? []), v.trade_id]);
  }
  for (const p of PRODUCTS) {
    const ids = byProduct.get(p) ?? [];
    assert.ok(ids.length > 0, `${p} produced`);
    assert.equal(new Set(ids).size, ids.length, `${p}: no duplicate trade_id`);
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b), `${p}: in trade order`);
    const last = ids[ids.length - 1]!;
    const missing = server.tradeIds(p).filter((id) => id <= last && !ids.includes(id) && !allowedMissing(p, id));
    assert.deepEqual(missing, [], `${p}: every trade the server delivered while connected is in the topic`);
  }
}

describe("quixlab source coinbase", { timeout: 180_000 }, () => {
  let brokers: string[];
  let redisUrl: string;
  let dir: string;
  const children: SourceChild[] = [];
  const servers: CoinbaseWsServer[] = [];
  before(async () => {
    ({ brokers, redisUrl } = await testServices());
    dir = mkdtempSync(join(tmpdir(), "quixlab-source-"));
  });
  after(async () => {
    for (const c of children) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill("SIGKILL");
    for (const s of servers) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = (server: CoinbaseWsServer, topic: string, step: string, extra: NodeJS.ProcessEnv = {}) => {
    const metricsFile = join(dir, `${step}-${children.length}.json`);
    const c = startSourceChild(["coinbase", "--products", PRODUCTS.join(","), "--topic", topic, "--endpoint", server.url, "--broker", brokers.join(","), "--redis", redisUrl], {
      QUIXLAB_STEP: step,
      QUIXLAB_METRICS_FILE: metricsFile,
      ...extra,
    });
    children.push(c);
    return { ...c, metricsFile };
  };
  const server = async () => {
    const s = await CoinbaseWsServer.start({ products: PRODUCTS, ratePerSecond: 20 });
    servers.push(s);
    return s;
  };

  it("three products into a topic; a dropped connection is resubscribed with no duplicate or gap; metrics in Redis; SIGTERM stops cleanly", async (t) => {
    const ws = await server();
    const topic = uniqueName(t, "ticks");
    const step = uniqueName(t, "src");
    const src = start(ws, topic, step);
    await waitForMetrics(src.metricsFile, "tickers produced", (m) => m.emitted >= 60);

    const redis = new Redis(redisUrl);
    try {
      const [live] = await readMetrics(redis, step);
      assert.ok(live, "the source's metrics are in Redis");
      assert.equal(live.kind, "source");
      assert.equal(live.state, "running");
      assert.equal(live.outputTopic, topic);
      assert.equal(live.source?.type, "coinbase");
      assert.equal(live.source?.connected, true);
      assert.deepEqual(live.source?.products, PRODUCTS);
    } finally {
      redis.disconnect();
    }

    ws.dropAll();
    const afterDrop = await waitForMetrics(src.metricsFile, "a reconnect and more tickers", (m) => (m.source?.reconnects ?? 0) >= 1 && m.source?.connected === true && m.emitted >= 150);
    assert.equal(ws.subscribes, 2, "subscribed again after the drop");
    assert.ok((afterDrop.source?.duplicates ?? 0) >= 3 * PRODUCTS.length, `the resent tickers were dropped as duplicates (${afterDrop.source?.duplicates})`);

    src.child.kill("SIGTERM");
    const [code] = await src.exited;
    assert.equal(code, 0, src.output());
    const final = readMetricsFile(src.metricsFile)!;
    assert.equal(final.state, "stopped");
    assert.ok(final.rejected > 0 && final.rejected <= final.consumed - final.emitted, "heartbeats and subscription answers were received and not produced");

    const messages = await readTopicUntil(brokers, topic, (m) => m.length >= final.emitted);
    assert.equal(messages.length, final.emitted, "every acknowledged message is in the topic, and nothing else");
    checkAgainstServer(ws, messages);
  });

  it("reconnects after the server is down for 10 s, and after a connection falls silent", async (t) => {
    const ws = await server();
    const topic = uniqueName(t, "ticks");
    const src = start(ws, topic, uniqueName(t, "src"));
    await waitForMetrics(src.metricsFile, "tickers produced", (m) => m.emitted >= 30);
    const downAt = Date.now();
    await ws.down(10_000);
    const back = await waitForMetrics(src.metricsFile, "the reconnect after the outage", (m) => m.source?.connected === true && (m.source?.reconnects ?? 0) >= 1, 30_000);
    assert.ok(Date.now() - downAt < 25_000, "back within the backoff cap of the server's return");
    const before = back.emitted;
    await waitForMetrics(src.metricsFile, "tickers after the outage", (m) => m.emitted >= before + 30);

    // A socket that stays open and says nothing (no heartbeat) is taken for dead after 5 s.
    await ws.silence(7_000);
    await waitForMetrics(src.metricsFile, "the reconnect after the silence", (m) => (m.source?.reconnects ?? 0) >= 2 && m.source?.connected === true, 30_000);
    const n = readMetricsFile(src.metricsFile)!.emitted;
    await waitForMetrics(src.metricsFile, "tickers after the silence", (m) => m.emitted >= n + 30);

    src.child.kill("SIGTERM");
    assert.equal((await src.exited)[0], 0, src.output());
    const final = readMetricsFile(src.metricsFile)!;
    const messages = await readTopicUntil(brokers, topic, (m) => m.length >= final.emitted);
    // Sent into the silence and lost with the socket: those are the feed's, not the source's, to repeat.
    checkAgainstServer(ws, messages, () => false);
  });

  it("a source killed with SIGKILL and started again produces no duplicate", async (t) => {
    const ws = await server();
    const topic = uniqueName(t, "ticks");
    const step = uniqueName(t, "src");
    const first = start(ws, topic, step);
    await waitForMetrics(first.metricsFile, "tickers produced", (m) => m.emitted >= 60);
    first.child.kill("SIGKILL");
    await first.exited;
    const second = start(ws, topic, step);
    const m2 = await waitForMetrics(second.metricsFile, "tickers after the restart", (m) => m.emitted >= 60);
    assert.ok((m2.source?.duplicates ?? 0) >= 1, "what the server resent on subscribe was already in the topic, and dropped");
    second.child.kill("SIGTERM");
    assert.equal((await second.exited)[0], 0, second.output());
    const final = readMetricsFile(second.metricsFile)!;
    const messages = await readTopicUntil(brokers, topic, (m) => m.length >= final.emitted + 60);
    // A message the killed process had received but Kafka had not acknowledged is gone with it; everything in
    // the topic is still there once, in order.
    checkAgainstServer(ws, messages, () => true);
  });

  it("a product the feed refuses is an error that names it (exit 2)", async (t) => {
    const ws = await server();
    const c = startSourceChild(["coinbase", "--products", "NOPE-USD", "--topic", uniqueName(t, "ticks"), "--endpoint", ws.url, "--broker", brokers.join(","), "--redis", "none"], {});
    children.push(c);
    const [code] = await c.exited;
    assert.equal(code, 2, c.output());
    assert.match(c.output(), /refused the subscription to NOPE-USD: Failed to subscribe: NOPE-USD is not a valid product — check --products/);
  });
});
