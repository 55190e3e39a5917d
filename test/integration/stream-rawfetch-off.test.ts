/**
 * The path without the fetch patch (src/kafka/rawfetch.ts): with the worker on and `rawFetch: false`, kafkajs
 * decodes every batch, the step packs its messages for the worker, and the output is the same windows as the
 * batch path (and as the patched path gives, stream-input-batches.test.ts).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CompressionTypes, Partitioners } from "kafkajs";
import { rawBatchesServed } from "../../src/kafka/rawfetch.js";
import { produceEof } from "../../src/stream/control.js";
import { runStep } from "../../src/stream/step.js";
import { generateTicks } from "../../src/tick/generate.js";
import { featureRef, inputs5sWorker } from "../fixtures/stream-features.js";
import { uniqueName } from "../harness/services.js";
import { asProducer, byWindow, dedupe, readOutputUntilEof, type StreamSession, streamSession, until } from "./stream-helpers.js";

const PARTITIONS = 2;
const keyOf = (line: string) => (JSON.parse(line) as { product_id: string }).product_id;
const messages = (lines: readonly string[]) => lines.map((v) => ({ key: keyOf(v), value: v }));

describe("stream step without the fetch patch", () => {
  let s: StreamSession;
  before(async () => {
    s = await streamSession();
  });
  after(async () => {
    await s?.close();
  });

  it("worker on, rawFetch off: kafkajs decodes, nothing comes undecoded, the windows are the batch's", async () => {
    const input = uniqueName("rawoff-in");
    const output = uniqueName("rawoff-out");
    await s.admin.createTopics({ waitForLeaders: true, topics: [{ topic: input, numPartitions: PARTITIONS }] });
    const ticks = generateTicks({ n: 6_000, products: 3, seed: 79 });
    const [plain, gzip] = [ticks.slice(0, 4_000), ticks.slice(4_000)];
    const producer = s.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const lines: string[] = [];
    const rawBefore = rawBatchesServed();
    const step = await runStep(inputs5sWorker, {
      brokers: s.brokers,
      inputTopic: input,
      outputTopic: output,
      consumerGroup: uniqueName("rawoff-group"),
      redis: null,
      featureRef: featureRef("inputs5sWorker"),
      worker: true,
      rawFetch: false,
      log: (line) => void lines.push(line),
    });
    try {
      await step.ready;
      await producer.send({ topic: input, acks: -1, messages: messages(plain) });
      await until("the plain ticks to be consumed", () => step.metrics().consumed >= plain.length);
      await producer.send({ topic: input, acks: -1, compression: CompressionTypes.GZIP, messages: messages(gzip) });
      await produceEof(asProducer(producer), input, PARTITIONS);
      const streamed = dedupe(await readOutputUntilEof(s.kafka, output, PARTITIONS));
      const expected = (await inputs5sWorker.batchRecords(ticks)).records;
      assert.ok(expected.length > 10);
      assert.deepEqual([...streamed].sort(byWindow), expected);
      assert.equal(rawBatchesServed(), rawBefore, "no batch came undecoded");
      assert.ok(lines.some((l) => l.includes("kafkajs decodes the records")), "the step says how it decodes");
    } finally {
      await step.stop();
      await producer.disconnect();
    }
  });
});
