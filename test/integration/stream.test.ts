import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import type { Kafka } from "kafkajs";
import { kafkaClient } from "../../src/kafka/client.js";
import { ohlc } from "../../src/feature/shipped/ohlc.js";
import { getLatest } from "../../src/store/online.js";
import { readMetrics } from "../../src/stream/metrics.js";
import { rawBatchesServed } from "../../src/kafka/rawfetch.js";
import { runStep } from "../../src/stream/step.js";
import { generateTicks } from "../../src/tick/generate.js";
import { parseTickLine } from "../../src/tick/validate.js";
import { featureRef, sliding60sEos, sliding60sThread, sliding60sWorker } from "../fixtures/stream-features.js";
import { exits } from "../fixtures/worker-exits.js";
import { testServices, uniqueName } from "../harness/services.js";
import { byWindow, produceLines, readOutputUntilEof, readToEnd, storedWindows, until } from "./stream-helpers.js";

const PARTITIONS = 4;
const header = (h: Record<string, unknown>, name: string) => (h[name] === undefined ? undefined : String(h[name]));

describe("stream step on a real broker and Redis", () => {
  let kafka: Kafka;
  let brokers: string[];
  let redisUrl: string;
  let redis: Redis;
  let input: string;
  const lines = generateTicks({ n: 50_000, products: 3, seed: 4242, gaps: true, outOfOrderMs: 1_500, malformedRate: 0.002 });
  // Far behind every key's watermark by the end: late, in batch and in stream alike.
  const lateLine = JSON.stringify({ type: "ticker", product_id: "BTC-USD", price: "26000.00", last_size: "0.5", time: "2023-06-09T12:00:00.000000Z" });
  const all = [...lines, lateLine];
  // Not lines of a file, so only the stream sees them: a tombstone, bytes that are not UTF-8, a huge value.
  const oddities: (string | Buffer | null)[] = [null, Buffer.from([0xc3, 0x28, 0xff]), "x".repeat(200_000)];

  before(async () => {
    ({ brokers, redisUrl } = await testServices());
    kafka = kafkaClient(brokers);
    redis = new Redis(redisUrl);
    input = uniqueName("stream-ticks");
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: input, numPartitions: PARTITIONS }] });
    await admin.disconnect();
    await produceLines(kafka, input, [...all, ...oddities], PARTITIONS);
  });

  after(async () => {
    await redis?.quit();
  });

  const cases = [
    { processing: "at-least-once", worker: false, exportName: "sliding60sThread", feature: sliding60sThread },
    { processing: "at-least-once", worker: true, exportName: "sliding60sWorker", feature: sliding60sWorker },
    { processing: "exactly-once", worker: true, exportName: "sliding60sEos", feature: sliding60sEos },
  ] as const;
  for (const { processing, worker, exportName, feature } of cases) {
    const where = worker ? "in a worker thread" : "in the step's thread";
    it(`${processing}, ${where}: 50,000 ticks over 4 partitions give exactly the batch windows, in Kafka and in Redis`, async () => {
      const batch = await feature.batchRecords(all);
      assert.equal(batch.late, 1, "the batch also finds the late tick");
      const output = uniqueName(`${exportName}-out`);
      const logged: string[] = [];
      const rawBefore = rawBatchesServed();
      const step = await runStep(feature, {
        brokers,
        inputTopic: input,
        outputTopic: output,
        consumerGroup: uniqueName(`${exportName}-group`),
        redis: redisUrl,
        processing,
        featureRef: featureRef(exportName),
        worker,
        // Every case reads the same input: each gets its own dead-letter topic.
        dlqTopic: `${input}.${exportName}.dlq`,
        metricsIntervalMs: 200,
        log: (line) => logged.push(line),
      });
      try {
        const streamed = await readOutputUntilEof(kafka, output, PARTITIONS);
        // Exactly once: no repeats at all, even of identical windows.
        assert.equal(streamed.length, batch.records.length, "one message per window");
        // The worker decodes the record batches as fetched; the step's own thread gets kafkajs' messages.
        assert.equal(rawBatchesServed() > rawBefore, worker, `record batches passed on undecoded: ${rawBatchesServed() - rawBefore}`);
        assert.deepEqual([...streamed].sort(byWindow), batch.records);

        assert.deepEqual(await storedWindows(redis, feature.name), batch.records, "Redis holds the same final windows");
        const lastBtc = batch.records.filter((r) => r.key === "BTC-USD").at(-1);
        assert.deepEqual(await getLatest(redis, feature.name, "BTC-USD"), lastBtc);

        assert.equal(logged.some((l) => l.includes("decoding and windowing in a worker thread")), worker, "the step ran where it was asked to");
        const dlq = await readToEnd(kafka, `${input}.${exportName}.dlq`);
        assert.equal(dlq.length, batch.rejected + oddities.length);
        const rejectedLines = all.filter((l) => !parseTickLine(l).ok);
        assert.deepEqual(
          dlq.map((m) => m.value?.toString() ?? null).filter((v) => v !== null && all.includes(v)).sort(),
          rejectedLines.sort(),
          "the original bytes of every rejected line",
        );
        const reasons = new Set(dlq.map((m) => header(m.headers, "quixlab-reason")));
        for (const r of ["bad JSON", "missing field", "non-numeric", "empty value", "too large"]) assert.ok(reasons.has(r), `a '${r}' dead letter`);
        for (const m of dlq) {
          assert.equal(header(m.headers, "quixlab-source-topic"), input);
          assert.match(header(m.headers, "quixlab-source-partition") ?? "", /^[0-3]$/);
          assert.match(header(m.headers, "quixlab-source-offset") ?? "", /^\d+$/);
        }
        const tooLarge = dlq.find((m) => header(m.headers, "quixlab-reason") === "too large")!;
        assert.equal(header(tooLarge.headers, "quixlab-truncated"), undefined, "200 kB fits the dead letter whole");
        assert.equal(tooLarge.value?.length, 200_000);

        const late = await readToEnd(kafka, `${output}.late`);
        assert.equal(late.length, 1);
        assert.equal(late[0]!.value?.toString(), lateLine);
        assert.equal(late[0]!.key?.toString(), "BTC-USD");
        assert.equal(header(late[0]!.headers, "quixlab-reason"), "late");
        assert.ok(Number(header(late[0]!.headers, "quixlab-watermark")) > Date.UTC(2023, 5, 9, 12, 5));

        const m = step.metrics();
        assert.equal(m.emitted, batch.records.length);
        assert.equal(m.rejected, batch.rejected + oddities.length);
        assert.equal(m.late, 1);
        assert.equal(m.consumed, all.length + oddities.length + PARTITIONS);
        assert.deepEqual(m.eofPartitions, [0, 1, 2, 3]);
        assert.equal(m.windowsOpen, 0);
        assert.equal(m.redis, "up");
        assert.ok(m.latencyMs.p50 !== null && m.latencyMs.p99! >= m.latencyMs.p50);
        const published = await readMetrics(redis, m.step);
        assert.equal(published.length, 1);
        assert.equal(published[0]!.feature, feature.name);
        assert.ok(published[0]!.consumed > 0, "metrics reach Redis");
      } finally {
        await step.stop();
      }
      const [stopped] = await readMetrics(redis, step.metrics().step);
      assert.equal(stopped?.state, "stopped", "the final report says the step stopped");
    });
  }

  it("refuses to start when the worker's reference loads another feature or does not load", async () => {
    const opts = { brokers, inputTopic: input, outputTopic: uniqueName("refused-out"), consumerGroup: uniqueName("refused-group") };
    await assert.rejects(
      runStep(sliding60sThread, { ...opts, worker: true, featureRef: featureRef("sliding60sWorker") }),
      /cannot run this feature: it loaded stream_test_60s_alo_worker \(\w+\) from '.*#sliding60sWorker', not stream_test_60s_alo_thread/,
    );
    await assert.rejects(runStep(sliding60sThread, { ...opts, worker: true, featureRef: "/nowhere/features.ts#f" }), /cannot run this feature: it failed to load '\/nowhere\/features.ts#f': .*not found/);
    await assert.rejects(runStep(sliding60sThread, { ...opts, worker: true }), /the worker thread needs the feature's reference/);
    const exitsRef = `${fileURLToPath(new URL("../fixtures/worker-exits.ts", import.meta.url))}#exits`;
    await assert.rejects(runStep(exits, { ...opts, featureRef: exitsRef }), /the processing worker failed before it was ready: the processing worker exited \(code 3\)/);
  });

  it("ignores, with a warning, checkpoints of another version of the feature", async (t) => {
    const name = uniqueName(t).replace(/[^A-Za-z0-9._-]/g, "");
    const v1 = ohlc({ size: "10s", name });
    const v2 = ohlc({ size: "20s", name });
    assert.notEqual(v1.version, v2.version);
    const topic = uniqueName(t, "in");
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 2 }] });
    await admin.disconnect();
    await produceLines(kafka, topic, generateTicks({ n: 2_000, products: 3, seed: 1 }), 2);
    const opts = { brokers, inputTopic: topic, consumerGroup: uniqueName(t, "group") };
    const first = await runStep(v1, { ...opts, outputTopic: `${topic}-v1` });
    await readOutputUntilEof(kafka, `${topic}-v1`, 2);
    await first.stop();
    const lines: string[] = [];
    const second = await runStep(v2, { ...opts, outputTopic: `${topic}-v2`, log: (l) => lines.push(l) });
    try {
      await until("the restore to finish", () => second.metrics().restores === 2);
      const warned = lines.filter((l) => l.includes(`ignoring checkpoints of other feature versions (${v1.version}); this is ${v2.version}`));
      assert.equal(warned.length, 2, lines.join("\n"));
      assert.equal(second.metrics().windowsOpen, 0, "nothing of the old version's state was loaded");
    } finally {
      await second.stop();
    }
  });
});
