import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import type { Kafka } from "kafkajs";
import { kafkaClient } from "../../src/kafka/client.js";
import { ohlc } from "../../src/feature/shipped/ohlc.js";
import { pingRedis } from "../../src/redis/ping.js";
import { runStep, type StepHandle } from "../../src/stream/step.js";
import { generateTicks } from "../../src/tick/generate.js";
import { freePort } from "../../src/util/net.js";
import { testServices, uniqueName } from "../harness/services.js";
import { dedupe, produceLines, readOutputUntilEof, storedWindows, until } from "./stream-helpers.js";

const PARTITIONS = 4;

/**
 * A Redis of this test's own (the session's is shared), restartable on the same port. The append-only file with
 * fsync on every write keeps what was acknowledged across a SIGKILL, as a persistent production Redis would.
 */
class PrivateRedis {
  private proc?: ChildProcess;
  readonly dir = mkdtempSync(join(tmpdir(), "quixlab-redis-outage-"));
  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const args = ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes", "--appendfsync", "always", "--dir", this.dir];
    this.proc = spawn("redis-server", args, { stdio: "ignore" });
    await until(`redis-server on ${this.url}`, () => pingRedis(this.url, 200), 20_000);
  }

  async kill(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    p.kill("SIGKILL");
    await once(p, "exit");
  }
}

describe("stream step while Redis is down", () => {
  let kafka: Kafka;
  let brokers: string[];
  let redis: PrivateRedis;
  let step: StepHandle | undefined;
  const lines = generateTicks({ n: 20_000, products: 3, seed: 5, outOfOrderMs: 1_000 });

  before(async () => {
    ({ brokers } = await testServices());
    kafka = kafkaClient(brokers);
    redis = new PrivateRedis(await freePort());
    await redis.start();
  });

  after(async () => {
    await step?.stop();
    await redis?.kill();
    if (redis) rmSync(redis.dir, { recursive: true, force: true });
  });

  it("holds offsets while Redis is down, reports the outage, and loses nothing once it is back", async (t) => {
    const feature = ohlc({ size: "10s", name: uniqueName(t).replace(/[^A-Za-z0-9._-]/g, "") });
    const expected = (await feature.batchRecords(lines)).records;
    const input = uniqueName(t, "in");
    const output = uniqueName(t, "out");
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: input, numPartitions: PARTITIONS }] });
    await admin.disconnect();
    const half = lines.length / 2;
    await produceLines(kafka, input, lines.slice(0, half));
    step = await runStep(feature, { brokers, inputTopic: input, outputTopic: output, consumerGroup: uniqueName(t, "group"), redis: redis.url, metricsIntervalMs: 100 });
    const s = step;
    await until("the first half to be processed", () => s.metrics().consumed >= half && s.metrics().redis === "up");

    await redis.kill();
    await produceLines(kafka, input, lines.slice(half), PARTITIONS);
    const down = await until("the outage to show in the metrics", () => {
      const m = s.metrics();
      return m.redisDown && m.redisErrors > 0 && m.redis === "down" && m;
    });
    assert.match(String(down.lastError), /^redis: /);
    // While Redis stays down the step retries with backoff and acknowledges no window it could not store.
    await until("several failed attempts", () => s.metrics().redisErrors >= down.redisErrors + 3, 30_000);
    assert.equal(s.metrics().emitted, down.emitted, "no window acknowledged while Redis was down");
    assert.ok(s.metrics().eofPartitions.length < PARTITIONS, "the input's end was not passed either");

    await redis.start();
    const streamed = await readOutputUntilEof(kafka, output, PARTITIONS);
    assert.deepEqual(dedupe(streamed), expected, "every window reached Kafka");
    const client = new Redis(redis.url);
    try {
      assert.deepEqual(await storedWindows(client, feature.name), expected, "every window reached Redis");
    } finally {
      await client.quit();
    }
    await until("the metrics to show Redis back", () => !s.metrics().redisDown && s.metrics().redis === "up");
    assert.equal(s.metrics().emitted, expected.length);
  });
});
