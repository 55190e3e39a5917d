/**
 * The step's worker reads plain record batches as fetched and leaves every other kind to kafkajs
 * (src/stream/rawfetch.ts): an input with plain, gzip-compressed, committed-transaction and aborted-transaction
 * batches, on the real broker, gives exactly the windows of the batch over the ticks a read_committed consumer sees.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CompressionTypes, type Kafka, Partitioners } from "kafkajs";
import { produceEof } from "../../src/stream/control.js";
import { rawBatchesServed } from "../../src/kafka/rawfetch.js";
import { runStep } from "../../src/stream/step.js";
import { generateTicks } from "../../src/tick/generate.js";
import { featureRef, inputs5sWorker } from "../fixtures/stream-features.js";
import { uniqueName } from "../harness/services.js";
import { asProducer, byWindow, dedupe, readOutputUntilEof, type StreamSession, streamSession, until } from "./stream-helpers.js";

const PARTITIONS = 2;
const keyOf = (line: string) => (JSON.parse(line) as { product_id: string }).product_id;
const messages = (lines: readonly string[]) => lines.map((v) => ({ key: keyOf(v), value: v }));

describe("stream step input: record batches of every kind", () => {
  let s: StreamSession;
  before(async () => {
    s = await streamSession();
  });
  after(async () => {
    await s?.close();
  });

  it("plain batches reach the worker undecoded; compressed and transactional ones through kafkajs; aborted ticks are skipped", async () => {
    const kafka: Kafka = s.kafka;
    const input = uniqueName("inputs-in");
    const output = uniqueName("inputs-out");
    await s.admin.createTopics({ waitForLeaders: true, topics: [{ topic: input, numPartitions: PARTITIONS }] });
    const ticks = generateTicks({ n: 10_000, products: 3, seed: 77 });
    const [plain, gzip, committed, aborted, tail] = [0, 1, 2, 3, 4].map((i) => ticks.slice(i * 2_000, (i + 1) * 2_000)) as [string[], string[], string[], string[], string[]];

    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
    const txProducer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, transactionalId: uniqueName("inputs-tx"), idempotent: true, maxInFlightRequests: 1 });
    await Promise.all([producer.connect(), txProducer.connect()]);
    const rawBefore = rawBatchesServed();
    const step = await runStep(inputs5sWorker, {
      brokers: s.brokers,
      inputTopic: input,
      outputTopic: output,
      consumerGroup: uniqueName("inputs-group"),
      redis: null,
      featureRef: featureRef("inputs5sWorker"),
      worker: true,
    });
    try {
      await step.ready;
      // First the plain batches alone, read before anything else is there: they come undecoded.
      await producer.send({ topic: input, acks: -1, messages: messages(plain) });
      await until("the plain ticks to be consumed", () => step.metrics().consumed >= plain.length);
      assert.ok(rawBatchesServed() > rawBefore, "the plain batches reached the worker undecoded");

      await producer.send({ topic: input, acks: -1, compression: CompressionTypes.GZIP, messages: messages(gzip) });
      const ok = await txProducer.transaction();
      await ok.send({ topic: input, acks: -1, messages: messages(committed) });
      await ok.commit();
      const no = await txProducer.transaction();
      await no.send({ topic: input, acks: -1, messages: messages(aborted) });
      await no.abort();
      await producer.send({ topic: input, acks: -1, messages: messages(tail) });
      await produceEof(asProducer(producer), input, PARTITIONS);

      const streamed = dedupe(await readOutputUntilEof(kafka, output, PARTITIONS));
      const expected = (await inputs5sWorker.batchRecords([...plain, ...gzip, ...committed, ...tail])).records;
      assert.ok(expected.length > 10);
      assert.deepEqual([...streamed].sort(byWindow), expected);
      assert.equal(step.metrics().consumed, plain.length + gzip.length + committed.length + tail.length + PARTITIONS, "every committed tick and the eof markers, no aborted one");
    } finally {
      await step.stop();
      await Promise.all([producer.disconnect(), txProducer.disconnect()]);
    }
  });

  it("a consumer started from the step's log callback gets kafkajs' messages, not undecoded batches", async () => {
    const input = uniqueName("inputs-log-in");
    await s.admin.createTopics({ waitForLeaders: true, topics: [{ topic: input, numPartitions: 1 }] });
    const ticks = generateTicks({ n: 500, products: 3, seed: 78 });
    const producer = s.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({ topic: input, acks: -1, messages: messages(ticks) });
    await produceEof(asProducer(producer), input, 1);
    await producer.disconnect();

    // What a caller might do: on the step's "end of input" line, read the input topic again.
    const reader = s.kafka.consumer({ groupId: uniqueName("inputs-log-reader"), maxWaitTimeInMs: 100 });
    const read: { value: Buffer | null }[] = [];
    let started = false;
    const step = await runStep(inputs5sWorker, {
      brokers: s.brokers,
      inputTopic: input,
      outputTopic: uniqueName("inputs-log-out"),
      consumerGroup: uniqueName("inputs-log-group"),
      redis: null,
      featureRef: featureRef("inputs5sWorker"),
      worker: true,
      log: (line) => {
        if (started || !line.includes("end of input")) return;
        started = true;
        void reader
          .connect()
          .then(() => reader.subscribe({ topic: input, fromBeginning: true }))
          .then(() => reader.run({ eachMessage: async ({ message }) => void read.push({ value: message.value }) }));
      },
    });
    try {
      await until("the reader to read every message", () => read.length >= ticks.length + 1);
      assert.equal(read.length, ticks.length + 1, "each tick and the eof marker once, not one placeholder");
      assert.deepEqual(
        read.slice(0, ticks.length).map((m) => m.value?.toString()),
        ticks,
      );
    } finally {
      await step.stop();
      await reader.disconnect();
    }
  });
});
