import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ohlc } from "../../src/feature/shipped/ohlc.js";
import { runStep, type StepHandle } from "../../src/stream/step.js";
import { generateTicks } from "../../src/tick/generate.js";
import { featureRef, hopping30sAlo } from "../fixtures/stream-features.js";
import { assertStreamedWindows, produceLines, readOutputUntilEof, type StreamSession, streamCase, streamSession, until } from "./stream-helpers.js";

const PARTITIONS = 4;

describe("stream step rebalancing (a second replica joins mid-stream, then leaves)", () => {
  let session: StreamSession;
  const running: StepHandle[] = [];
  // Six products, so every partition of the input has keys to move between replicas.
  const lines = generateTicks({ n: 30_000, products: 6, seed: 7, outOfOrderMs: 1_000 });

  before(async () => {
    session = await streamSession();
  });

  after(async () => {
    await Promise.all(running.map((s) => s.stop()));
    await session?.close();
  });

  // At-least-once processes in the worker thread (as `quixlab run` does), exactly-once in the step's own thread.
  for (const processing of ["at-least-once", "exactly-once"] as const) {
    const worker = processing === "at-least-once";
    it(`${processing}${worker ? ", in a worker thread" : ""}: no window is lost or changed`, async (t) => {
      const { kafka, admin, brokers, redisUrl } = session;
      const { name, input, output, group } = await streamCase(admin, t, processing, PARTITIONS);
      const feature = worker ? hopping30sAlo : ohlc({ size: "30s", step: "10s", name });
      const expected = (await feature.batchRecords(lines)).records;
      const opts = {
        brokers,
        inputTopic: input,
        outputTopic: output,
        consumerGroup: group,
        redis: redisUrl,
        processing,
        sessionTimeoutMs: 6_000,
        ...(worker ? { featureRef: featureRef("hopping30sAlo"), worker } : {}),
      };
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
      await assertStreamedWindows(streamed, expected, processing, session.redis, feature.name);
      await a.stop();
    });
  }
});
