/**
 * The testcontainers providers on a real Docker engine, with the images built locally by .ci/images/build.sh
 * (no image registry is reachable from CI). Skipped only when no engine can be started here, saying why; under
 * CI=true that is a failure instead.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, it, type TestContext } from "node:test";
import { Partitioners } from "kafkajs";
import { type BrokerHandle, KAFKA_LOCAL_IMAGE, startBroker } from "../../src/broker/index.js";
import { createTopics, uniqueName } from "../../src/kafka/index.js";
import { kafkaClient } from "../../src/kafka/client.js";
import { isQuixlabError } from "../../src/errors/index.js";
import { replay } from "../../src/replay/replay.js";
import { writeTicksFile } from "../../src/tick/index.js";
import { dockerApi, ryukImage } from "../../src/infra/docker.js";
import { pingRedis, type RedisHandle, REDIS_LOCAL_IMAGE, startRedis } from "../../src/redis/provider.js";
import { ensureDocker, TESTCONTAINERS_ENV } from "../harness/docker.js";

const root = resolve(import.meta.dirname, "../..");
const COINBASE = join(root, "data/coinbase-ticker-2021-04-17.jsonl");
const say = (line: string) => process.stderr.write(`[testcontainers test] ${line}\n`);

// Ryuk's image cannot be built here: without it, the providers' stop() (and exit hooks) remove the containers.
for (const [k, v] of Object.entries(TESTCONTAINERS_ENV)) process.env[k] ??= v;

const docker = await ensureDocker({ images: true, log: say });
const skip = !docker.ok && !docker.engine && process.env.CI !== "true" ? `no Docker engine can start here: ${docker.why}` : false;
if (skip) say(`skipping: ${skip}`);

/** The environment of a session that was given no broker and no Redis, so `auto` decides. */
function undecidedEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.KAFKA_BROKERS;
  delete env.REDIS_URL;
  return env;
}

/** The container publishing `port` on the host (Testcontainers labels every container it starts). */
async function containerPublishing(port: number): Promise<{ Id: string; Image: string }> {
  const filters = encodeURIComponent(JSON.stringify({ label: ["org.testcontainers=true"] }));
  const { body } = await dockerApi("GET", `/containers/json?filters=${filters}`);
  const all = JSON.parse(body) as { Id: string; Image: string; Ports: { PublicPort?: number }[] }[];
  const found = all.find((c) => c.Ports.some((p) => p.PublicPort === port));
  assert.ok(found, `no running container publishes port ${port}`);
  return found;
}

async function containerGone(id: string): Promise<boolean> {
  return (await dockerApi("GET", `/containers/${id}/json`)).status === 404;
}

const portOf = (address: string) => Number(address.slice(address.lastIndexOf(":") + 1));

describe("testcontainers providers (real Docker engine, locally built images)", { skip }, () => {
  let broker: BrokerHandle | undefined;
  let redis: RedisHandle | undefined;
  const logs: string[] = [];
  const log = (line: string) => {
    logs.push(line);
    say(line);
  };

  before(() => {
    // In CI, or with an engine whose images failed to build, a missing piece is a failure, not a skip.
    if (!docker.ok) assert.fail(docker.why);
  });
  after(async () => {
    await Promise.allSettled([broker?.stop(), redis?.stop()]);
  });

  it("auto chooses Testcontainers for Kafka when Docker answers and KAFKA_BROKERS is unset", { timeout: 240_000 }, async () => {
    const started = Date.now();
    broker = await startBroker({ provider: "auto", env: undecidedEnv(), log });
    say(`Kafka container started in ${Date.now() - started} ms (startupMs ${broker.startupMs})`);
    assert.equal(broker.provider, "testcontainers");
    assert.ok(logs.some((l) => l.includes("kafka: testcontainers provider (a Docker engine answered)")), logs.join("\n"));
  });

  it("round-trips a topic: create, produce, consume", { timeout: 120_000 }, async (t: TestContext) => {
    assert.ok(broker, "the broker of the previous test");
    const topic = uniqueName(`tc-${t.name.slice(0, 20)}`);
    assert.equal(await createTopics(broker.brokers, [{ topic, partitions: 2 }]), true);
    const kafka = kafkaClient(broker.brokers, { clientId: topic });
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const sent = Array.from({ length: 100 }, (_, i) => ({ key: `k${i % 7}`, value: String(i) }));
    await producer.send({ topic, acks: -1, messages: sent });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: uniqueName(topic, "group") });
    t.after(() => consumer.disconnect());
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received: string[] = [];
    await new Promise<void>((done, fail) => {
      consumer.on(consumer.events.CRASH, (e) => fail(e.payload.error));
      consumer
        .run({
          eachMessage: async ({ message }) => {
            received.push(String(message.value));
            if (received.length === sent.length) done();
          },
        })
        .catch(fail);
    });
    assert.deepEqual(received.map(Number).sort((a, b) => a - b), sent.map((m) => Number(m.value)));
  });

  it("starts Redis in a container that answers PING (auto, REDIS_URL unset)", { timeout: 120_000 }, async () => {
    redis = await startRedis({ provider: "auto", env: undecidedEnv(), log });
    assert.equal(redis.provider, "testcontainers");
    assert.ok(redis.url && (await pingRedis(redis.url, 5_000)), `no PONG from ${redis.url}`);
  });

  it("stop() removes both containers", { timeout: 60_000 }, async () => {
    assert.ok(broker && redis?.url, "the services of the previous tests");
    const kafkaContainer = await containerPublishing(portOf(broker.brokers[0]!));
    const redisContainer = await containerPublishing(Number(new URL(redis.url).port));
    // Whichever images the engine had: the locally built ones here, Docker Hub's where a registry answers.
    say(`containers: ${kafkaContainer.Image} ${kafkaContainer.Id.slice(0, 12)}, ${redisContainer.Image} ${redisContainer.Id.slice(0, 12)}`);
    await Promise.all([broker.stop(), redis.stop()]);
    assert.equal(await containerGone(kafkaContainer.Id), true, `Kafka container ${kafkaContainer.Id} still exists`);
    assert.equal(await containerGone(redisContainer.Id), true, `Redis container ${redisContainer.Id} still exists`);
    await broker.stop(); // a second stop is a no-op
  });

  it("replays the recorded Coinbase file through a Testcontainers broker and Redis with parity", { timeout: 300_000 }, async () => {
    const lines: string[] = [];
    const report = await replay({
      ref: "src/feature/shipped/ohlc.ts#ohlc1m",
      ticks: COINBASE,
      cwd: root,
      broker: "testcontainers",
      redis: "testcontainers",
      log: (line) => lines.push(line),
    });
    assert.equal(report.parity.ok, true, JSON.stringify(report.parity));
    assert.equal(report.ticks, 107);
    assert.equal(report.broker.provider, "testcontainers");
    assert.equal(report.redis.provider, "testcontainers");
    assert.ok(report.redis.windowsStored > 0, "windows reached the online store");
  });

  it("crash recovery through Testcontainers: replay --chaos 3 keeps parity (the step SIGKILLed and restarted)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "quixlab-tc-chaos-"));
    try {
      const ticks = join(dir, "generated.jsonl");
      await writeTicksFile(ticks, { n: 20_000, products: 3, seed: 5, intervalMs: 12, outOfOrderMs: 1_000 });
      const report = await replay({ ref: "src/feature/shipped/ohlc.ts#ohlc1m", ticks, cwd: root, broker: "testcontainers", redis: "testcontainers", chaos: 3, seed: 3 });
      assert.equal(report.parity.ok, true, JSON.stringify(report.parity));
      assert.equal(report.chaos.kills, 3);
      assert.equal(report.broker.provider, "testcontainers");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("auto falls back to local, saying why, when the engine cannot supply the Kafka image", { timeout: 180_000 }, async () => {
    const env = { ...undecidedEnv(), QUIXLAB_KAFKA_IMAGE: "quixlab/no-such-image:0.0.0" };
    const lines: string[] = [];
    const fallback = await startBroker({ provider: "auto", env, log: (l) => lines.push(l) });
    try {
      assert.equal(fallback.provider, "local");
      const reason = lines.find((l) => l.startsWith("kafka: local provider"));
      assert.match(reason ?? "", /a Docker engine answered, but the Docker engine has no quixlab\/no-such-image:0\.0\.0 and cannot pull it/, lines.join("\n"));
    } finally {
      await fallback.stop();
    }
    // Asked for explicitly, the same gap is an error with a remedy.
    await assert.rejects(startBroker({ provider: "testcontainers", env }), (e: unknown) => {
      assert.ok(isQuixlabError(e));
      assert.match(e.message, /cannot run Kafka: the Docker engine has no quixlab\/no-such-image/);
      assert.match(e.remedy ?? "", new RegExp(`build ${KAFKA_LOCAL_IMAGE.replace(/[./]/g, "\\$&")}`));
      return true;
    });
  });

  it("Redis auto falls back to a redis-server of its own, saying why, when the engine cannot supply the image", { timeout: 120_000 }, async () => {
    const env = { ...undecidedEnv(), QUIXLAB_REDIS_IMAGE: "quixlab/no-such-redis:0.0.0" };
    const lines: string[] = [];
    const fallback = await startRedis({ provider: "auto", env, log: (l) => lines.push(l) });
    try {
      assert.notEqual(fallback.provider, "testcontainers");
      assert.ok(fallback.url && (await pingRedis(fallback.url, 5_000)), `no PONG from ${fallback.url}`);
      const reason = lines.find((l) => l.startsWith(`redis: ${fallback.provider} provider`));
      assert.match(reason ?? "", /a Docker engine answered, but the Docker engine has no quixlab\/no-such-redis:0\.0\.0 and cannot pull it/, lines.join("\n"));
    } finally {
      await fallback.stop();
    }
  });

  it("checks for the Ryuk image the installed Testcontainers starts", () => {
    const reaper = readFileSync(join(root, "node_modules/testcontainers/build/reaper/reaper.js"), "utf8");
    assert.ok(reaper.includes(`"${ryukImage({})}"`), `testcontainers no longer starts ${ryukImage({})}: update ryukImage()`);
    assert.equal(ryukImage({ TESTCONTAINERS_RYUK_DISABLED: "true" }), undefined);
  });

  it("knows the locally built images by their tags", async () => {
    for (const image of [KAFKA_LOCAL_IMAGE, REDIS_LOCAL_IMAGE, "node:20-slim"]) {
      assert.equal((await dockerApi("GET", `/images/${image}/json`)).status, 200, `${image} is not in the engine`);
    }
  });
});
