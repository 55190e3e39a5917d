/**
 * The step carries on through a broker restart: its broker (a broker of this test's own, never the session's) is
 * SIGKILLed mid-input and started again on the same port and log dir. The consumer crashes and restarts, the
 * checkpoints that fail meanwhile rewind and are redone, the producers reconnect, and the output is the batch's.
 */
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import type { Kafka } from "kafkajs";
import { startBroker } from "../../src/broker/index.js";
import type { BrokerHandle } from "../../src/broker/types.js";
import type { Feature } from "../../src/feature/types.js";
import { ohlc } from "../../src/feature/shipped/ohlc.js";
import { createTopics } from "../../src/kafka/index.js";
import { kafkaClient } from "../../src/kafka/client.js";
import { type Processing, runStep } from "../../src/stream/step.js";
import { generateTicks } from "../../src/tick/generate.js";
import { featureRef, restartAloWorker } from "../fixtures/stream-features.js";
import { testServices, uniqueName } from "../harness/services.js";
import { assertStreamedWindows, produceLines, readOutputUntilEof, until } from "./stream-helpers.js";

const PARTITIONS = 2;
const log = (line: string) => process.stderr.write(`[stream-broker-restart] ${line}\n`);

describe("stream step through a broker restart", { timeout: 600_000 }, () => {
  let broker: BrokerHandle;
  let kafka: Kafka;
  let redis: Redis;
  before(async () => {
    broker = await startBroker({ provider: "local", log });
    kafka = kafkaClient(broker.brokers);
    redis = new Redis((await testServices()).redisUrl);
  });
  after(async () => {
    await redis?.quit();
    await broker?.stop();
  });

  const cases: { processing: Processing; where: string; feature: () => Feature; ref?: string }[] = [
    { processing: "at-least-once", where: "in a worker thread", feature: () => restartAloWorker, ref: featureRef("restartAloWorker") },
    { processing: "exactly-once", where: "in the step's thread", feature: () => ohlc({ size: "60s", step: "1s", name: uniqueName("restart-eos").replace(/[^A-Za-z0-9._-]/g, "") }) },
  ];
  for (const c of cases) {
    it(`${c.processing}, ${c.where}: SIGKILL and restart of the broker mid-input, the output is the batch's`, async (t) => {
      const feature = c.feature();
      const input = uniqueName(t, "in");
      const output = uniqueName(t, "out");
      await createTopics(broker.brokers, [{ topic: input, partitions: PARTITIONS }]);
      const ticks = generateTicks({ n: 20_000, products: 3, seed: 91 });
      const [first, second] = [ticks.slice(0, 10_000), ticks.slice(10_000)];
      const lines: string[] = [];
      const step = await runStep(feature, {
        brokers: broker.brokers,
        inputTopic: input,
        outputTopic: output,
        consumerGroup: uniqueName(t, "group"),
        redis: (await testServices()).redisUrl,
        processing: c.processing,
        featureRef: c.ref,
        worker: Boolean(c.ref),
        sessionTimeoutMs: 6_000,
        checkpointEvery: 2_000,
        log: (line) => {
          lines.push(line);
          log(line);
        },
      });
      try {
        await step.ready;
        await produceLines(kafka, input, first);
        await until("some ticks to be checkpointed", () => step.metrics().consumed >= 4_000);
        await broker.kill!();
        await broker.restart!();
        await produceLines(kafka, input, second, PARTITIONS);
        const streamed = await readOutputUntilEof(kafka, output, PARTITIONS, 240_000);
        const expected = (await feature.batchRecords(ticks)).records;
        await assertStreamedWindows(streamed, expected, c.processing, redis, feature.name);
      } finally {
        await step.stop();
      }
    });
  }
});
