import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import type { Admin, Kafka } from "kafkajs";
import { kafkaClient } from "../../src/broker/client.js";
import { ohlc } from "../../src/features/ohlc.js";
import { runStep, type StepHandle } from "../../src/stream/step.js";
import { generateTicks } from "../../src/tick/generate.js";
import { testServices, uniqueName } from "../harness/services.js";
import { byWindow, dedupe, produceLines, readOutputUntilEof, storedWindows, until } from "./stream-helpers.js";

const PARTITIONS = 4;

describe("stream step rebalancing (a second replica joins mid-stream, then leaves)", () => {
  let kafka: Kafka;
  let admin: Admin;
  let brokers: string[];
  let redisUrl: string;
  let redis: Redis;
  const running: StepHandle[] = [];
  // Six products, so every partition of the input has keys to move between replicas.
  const lines = generateTicks({ n: 30_000, products: 6, seed: 7, outOfOrderMs: 1_000 });

  before(async () => {
    ({ brokers, redisUrl } = await testServices());
    kafka = kafkaClient(brokers);
    admin = kafka.admin();
    await admin.connect();
    redis = new Redis(redisUrl);
  });

  after(async () => {
    await Promise.all(running.map((s) => s.stop()));
    await admin?.disconnect();
    await redis?.quit();
  });

  for (const processing of ["at-least-once", "exactly-once"] as const) {
    it(`${processing}: no window is lost or changed`, async (t) => {
      const name = uniqueName(t, processing).replace(/[^A-Za-z0-9._-]/g, "");
      const feature = ohlc({ size: "30s", step: "10s", name });
      const expected = (await feature.batchRecords(lines)).records;
      const input = uniqueName(t, "in");
      const output = uniqueName(t, "out");
      const group = uniqueName(t, "group");
      await admin.createTopics({ waitForLeaders: true, topics: [{ topic: input, numPartitions: PARTITIONS }] });
      const opts = { brokers, inputTopic: input, outputTopic: output, consumerGroup: group, redis: redisUrl, processing, sessionTimeoutMs: 6_000 };
      const third = Math.ceil(lines.length / 3);

      await produceLines(kafka, input, lines.slice(0, third));
      const a = await runStep(feature, { ...opts, replicaId: "a" });
      running.push(a);
      await until("replica a to process the first third", () => a.metrics().consumed >= third);

      const b = await runStep(feature, { ...opts, replicaId: "b" });
      running.push(b);
      await until("the partitions to be shared", () => b.metrics().partitions.length > 0 && a.metrics().partitions.length + b.metrics().partitions.length === PARTITIONS);
      await produceLines(kafka, input, lines.slice(third, 2 * third));
      await until("replica b to process its share", () => b.metrics().consumed > 0 && a.metrics().consumed + b.metrics().consumed >= 2 * third);
      assert.ok(b.metrics().restores > 0, "b restored the partitions it took over");

      await b.stop();
      await until("replica a to own every partition again", () => a.metrics().partitions.length === PARTITIONS);
      await produceLines(kafka, input, lines.slice(2 * third), PARTITIONS);

      const streamed = await readOutputUntilEof(kafka, output, PARTITIONS);
      const m = a.metrics();
      assert.ok(m.rebalances >= 2, `a went through the join and the leave (${m.rebalances} rebalances)`);
      if (processing === "exactly-once") {
        assert.equal(streamed.length, expected.length, "read_committed: each window once, across owners");
        assert.deepEqual([...streamed].sort(byWindow), expected);
      } else {
        assert.deepEqual(dedupe(streamed), expected);
      }
      assert.deepEqual(await storedWindows(redis, name), expected, "Redis holds the same windows");
      await a.stop();
    });
  }
});
