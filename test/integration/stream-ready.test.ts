import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type { Kafka } from "kafkajs";
import { kafkaClient } from "../../src/kafka/client.js";
import { ServiceError } from "../../src/errors/index.js";
import { ohlc } from "../../src/feature/shipped/ohlc.js";
import { runStep } from "../../src/stream/step.js";
import { generateTicks } from "../../src/tick/generate.js";
import { testBrokers, uniqueName } from "../harness/services.js";
import { produceLines, readOutputUntilEof, until } from "./stream-helpers.js";

describe("stream step life cycle: ready, and counters that keep up with the output", () => {
  let kafka: Kafka;
  let brokers: string[];

  before(async () => {
    brokers = await testBrokers();
    kafka = kafkaClient(brokers);
  });

  async function inputTopic(name: string, partitions: number, lines: readonly string[]): Promise<string> {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: name, numPartitions: partitions }] });
    await admin.disconnect();
    await produceLines(kafka, name, lines, partitions);
    return name;
  }

  it("ready resolves once every assigned partition is restored, also from checkpoints on a restart", async (t) => {
    const feature = ohlc({ size: "10s", name: uniqueName(t).replace(/[^A-Za-z0-9._-]/g, "") });
    const lines = generateTicks({ n: 3_000, products: 3, seed: 12 });
    const input = await inputTopic(uniqueName(t, "in"), 2, lines);
    const opts = { brokers, inputTopic: input, outputTopic: `${input}-out`, consumerGroup: uniqueName(t, "group") };

    const first = await runStep(feature, opts);
    try {
      await first.ready;
      const m = first.metrics();
      assert.deepEqual(m.partitions, [0, 1]);
      assert.equal(m.restores, 2, "both partitions were restored (from nothing) before ready");
      await readOutputUntilEof(kafka, opts.outputTopic, 2);
      // Counted when Kafka acknowledged the outputs: at most a round trip after a reader saw them.
      await until("the counters", () => first.metrics().consumed === lines.length + 2 && first.metrics().eofPartitions.length === 2, 2_000);
    } finally {
      await first.stop();
    }

    const log: string[] = [];
    const second = await runStep(feature, { ...opts, log: (l) => log.push(l) });
    try {
      await second.ready;
      assert.equal(second.metrics().restores, 2);
      assert.equal(log.filter((l) => /partition \d: restored checkpoint at offset \d+/.test(l)).length, 2, log.join("\n"));
    } finally {
      await second.stop();
    }
  });

  it("ready rejects when the step is stopped before its partitions are restored", async (t) => {
    const feature = ohlc({ size: "10s", name: uniqueName(t).replace(/[^A-Za-z0-9._-]/g, "") });
    const input = await inputTopic(uniqueName(t, "in"), 1, generateTicks({ n: 10, seed: 3 }));
    const step = await runStep(feature, { brokers, inputTopic: input, outputTopic: `${input}-out`, consumerGroup: uniqueName(t, "group") });
    // Restoring reads the changelog over the network; stopping right after the join is always earlier.
    const stopped = step.stop();
    await assert.rejects(step.ready, (e: unknown) => e instanceof ServiceError && /stopped before its partitions were restored/.test(e.message));
    await stopped;
    await step.done;
  });
});
