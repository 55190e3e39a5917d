// A local broker killed with SIGKILL and started again on the same port and log dir loses nothing. Each test
// runs a broker of its own (not the session's), so killing it never disturbs another test.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { startBroker } from "../../src/broker/index.js";
import type { BrokerHandle } from "../../src/broker/types.js";
import { pidAlive } from "../../src/infra/process.js";
import { pingRedis } from "../../src/redis/ping.js";
import { createTopics, openProducer, readTopics, topicOffsets } from "../../src/kafka/index.js";
import type { ServicesRestartResult } from "../../src/services/lifecycle.js";
import type { ServicesState } from "../../src/services/state.js";
import { waitFor } from "../../src/util/net.js";
import { quixlab } from "../helpers/cli.js";
import { testBrokers, uniqueName } from "../harness/services.js";

const log = (line: string) => process.stderr.write(`[broker-restart] ${line}\n`);

/** `count` keyed messages `${prefix}-${i}`, spread over the topic's partitions by key. */
function messages(topic: string, prefix: string, count: number) {
  return Array.from({ length: count }, (_, i) => ({ topic, key: `k${i % 7}`, value: `${prefix}-${i}` }));
}

/** Send `msgs` with a producer of their own, acknowledged by the broker. */
async function send(brokers: string[], clientId: string, msgs: ReturnType<typeof messages>): Promise<void> {
  const producer = await openProducer(brokers, { clientId });
  try {
    await producer.send(msgs);
  } finally {
    await producer.disconnect();
  }
}

/** A new topic of this test with `count` messages in it. */
async function seedTopic(brokers: string[], t: { name: string }, partitions: number, prefix: string, count: number) {
  const topic = uniqueName(t, "in");
  await createTopics(brokers, [{ topic, partitions }]);
  const sent = messages(topic, prefix, count);
  await send(brokers, uniqueName(t, "producer"), sent);
  return { topic, sent };
}

/** The CLI in a temp project of the test's own, blind to the session's services; `services down` at the end. */
function servicesCli(t: { after(fn: () => Promise<void>): void }) {
  const cwd = mkdtempSync(join(tmpdir(), "quixlab-services-restart-"));
  const cli = (...args: string[]) => quixlab(args, { cwd, env: { KAFKA_BROKERS: undefined, REDIS_URL: undefined } });
  t.after(async () => {
    await cli("services", "down");
    rmSync(cwd, { recursive: true, force: true });
  });
  return cli;
}

/** Every value in `topic` from the beginning, once `expected` have arrived, per partition in offset order. */
async function readAll(brokers: string[], topic: string, expected: number): Promise<Map<number, string[]>> {
  const byPartition = new Map<number, string[]>();
  let seen = 0;
  const reader = await readTopics(brokers, {
    groupId: uniqueName(topic, "reader"),
    topics: [topic],
    onBatch: (batch) => {
      const values = byPartition.get(batch.partition) ?? [];
      for (const m of batch.messages) values.push(String(m.value));
      byPartition.set(batch.partition, values);
      seen += batch.messages.length;
    },
  });
  try {
    await waitFor(async () => seen >= expected, { timeoutMs: 60_000, intervalMs: 50, what: `${expected} messages in ${topic}` });
  } finally {
    await reader.stop();
  }
  return byPartition;
}

/** Values grouped by their message's key (`k${i % 7}` for value `${prefix}-${i}`), in the order given. */
function byKey(values: Iterable<string>): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const v of values) {
    const key = `k${Number(v.split("-").at(-1)) % 7}`;
    groups.set(key, [...(groups.get(key) ?? []), v]);
  }
  return groups;
}

describe("broker restart", () => {
  it("a broker of the test's own: SIGKILL, restart on the same port and dir, and every message is still there", { timeout: 300_000 }, async (t) => {
    // In a folder of the test's choosing (`parentDir`, as the bench puts its broker on tmpfs).
    const parent = mkdtempSync(join(tmpdir(), "quixlab-broker-parent-"));
    let started: BrokerHandle | undefined;
    t.after(async () => {
      try {
        await started?.stop();
      } finally {
        rmSync(parent, { recursive: true, force: true });
      }
    });
    const broker = await startBroker({ provider: "local", log, parentDir: parent });
    started = broker;
    assert.ok(broker.kill && broker.restart && broker.dir, "the local provider can kill and restart");
    const [address] = broker.brokers;
    const { pid, dir } = broker;
    assert.equal(dirname(dir), parent, "the broker's dir is made in parentDir");
    const { topic, sent: before } = await seedTopic(broker.brokers, t, 3, "before", 300);

    await broker.kill();
    assert.equal(pidAlive(pid!), false, "the broker's process is gone");
    assert.equal(existsSync(dir), true, "its dir is kept");

    await broker.restart();
    assert.notEqual(broker.pid, pid, "a new process");
    assert.equal(pidAlive(broker.pid!), true);
    assert.deepEqual(broker.brokers, [address], "the same port");
    assert.equal(broker.dir, dir, "the same log dir");

    // The restarted broker takes writes too, after what it kept.
    const after = messages(topic, "after", 100);
    await send(broker.brokers, uniqueName(t, "producer2"), after);

    const offsets = await topicOffsets(broker.brokers, topic);
    assert.equal(
      offsets.reduce((n, p) => n + p.high - p.low, 0),
      before.length + after.length,
    );
    const read = await readAll(broker.brokers, topic, before.length + after.length);
    const all = [...read.values()].flat();
    assert.deepEqual(all.toSorted(), [...before, ...after].map((m) => m.value).toSorted(), "nothing lost, nothing repeated");
    // Per key, the order sent: each partition kept its order across the crash.
    const sentByKey = byKey([...before, ...after].map((m) => m.value));
    const readByKey = new Map([...read.values()].flatMap((values) => [...byKey(values)]));
    assert.deepEqual(new Map([...readByKey].sort()), new Map([...sentByKey].sort()));

    await broker.stop();
    assert.equal(pidAlive(broker.pid!), false);
    assert.equal(existsSync(dir), false, "stop() still removes the dir after a restart");
  });

  it("quixlab services restart --only kafka --kill: same port and dir, a new pid, the messages kept", { timeout: 300_000 }, async (t) => {
    const cli = servicesCli(t);

    const up = await cli("services", "up", "--broker", "local", "--redis", "none", "--json");
    assert.equal(up.code, 0, up.err);
    const { broker } = JSON.parse(up.out) as ServicesState;
    assert.ok(broker?.pid && broker.dir);
    const { topic, sent } = await seedTopic(broker.brokers, t, 2, "kept", 200);

    const restart = await cli("services", "restart", "--only", "kafka", "--kill", "--json");
    assert.equal(restart.code, 0, restart.err);
    const result = JSON.parse(restart.out) as ServicesRestartResult["state"] & Pick<ServicesRestartResult, "restarted">;
    assert.deepEqual(result.restarted, { broker: true, redis: false });
    assert.ok(result.broker?.pid);
    assert.notEqual(result.broker.pid, broker.pid);
    assert.deepEqual([result.broker.brokers, result.broker.dir, result.broker.provider], [broker.brokers, broker.dir, "local"]);
    assert.equal(pidAlive(broker.pid), false, "the old broker is gone");
    // The CLI has exited; the restarted broker must still run, and status sees it.
    assert.equal(pidAlive(result.broker.pid), true);
    const status = await cli("services", "status", "--json");
    assert.equal(status.code, 0, status.err);

    const read = await readAll(broker.brokers, topic, sent.length);
    assert.deepEqual([...read.values()].flat().toSorted(), sent.map((m) => m.value).toSorted());

    const human = await cli("services", "restart");
    assert.equal(human.code, 0, human.err);
    assert.match(human.out, new RegExp(`kafka +local +${broker.brokers[0]} +pid \\d+ +restarted in \\d+ ms`));

    const wrong = await cli("services", "restart", "--only", "zookeeper");
    assert.equal(wrong.code, 2);
    assert.match(wrong.err, /unknown service 'zookeeper' in --only — use --only kafka or --only redis/);
  });

  it("services restart leaves a broker you run alone and starts Redis again on the same URL; --only names what it cannot restart", { timeout: 120_000 }, async (t) => {
    const cli = servicesCli(t);
    const [session] = await testBrokers();

    const up = await cli("services", "up", "--broker", session!, "--json");
    assert.equal(up.code, 0, up.err);
    const { broker, redis } = JSON.parse(up.out) as ServicesState;
    assert.ok(redis?.pid && redis.dir);
    assert.equal(broker?.provider, "external");

    const restart = await cli("services", "restart", "--json");
    assert.equal(restart.code, 0, restart.err);
    const result = JSON.parse(restart.out) as ServicesRestartResult["state"] & Pick<ServicesRestartResult, "restarted">;
    assert.deepEqual(result.restarted, { broker: false, redis: true });
    assert.deepEqual(result.broker, broker, "the broker you run is left as it is");
    assert.deepEqual([result.redis?.url, result.redis?.dir, result.redis?.provider], [redis.url, redis.dir, redis.provider]);
    assert.notEqual(result.redis?.pid, redis.pid);
    assert.equal(pidAlive(redis.pid), false);
    assert.equal(await pingRedis(redis.url, 2_000), true, "the same URL answers");

    const refused = await cli("services", "restart", "--only", "kafka");
    assert.equal(refused.code, 2);
    assert.match(refused.err, new RegExp(`the recorded kafka is not one quixlab runs \\(external at ${session}\\)`));
  });
});
