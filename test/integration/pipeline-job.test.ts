/**
 * `quixlab up` with a Job deployment and a Redis it starts itself: the job runs to completion once per replica,
 * a second `up` is refused, and `down` also stops the Redis it started. Plus the usage errors of `up`.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Admin } from "kafkajs";
import { kafkaClient } from "../../src/kafka/client.js";
import { readPipelineState } from "../../src/pipeline/state.js";
import { pipelineStatus } from "../../src/pipeline/status.js";
import { pidAlive, pidRuns } from "../../src/infra/process.js";
import { pingRedis } from "../../src/redis/ping.js";
import { waitFor } from "../../src/util/net.js";
import { writeProject } from "../fixtures/pipeline/project.js";
import { testBrokers, uniqueName } from "../harness/services.js";
import { quixlab } from "../helpers/cli.js";

const cli = (cwd: string, ...args: string[]) => quixlab(args, { cwd, timeoutMs: 120_000 });

describe("quixlab up with a Job and a Redis of its own", () => {
  const seeds = uniqueName("pipeline-job", "seeds");
  const job = `seed-${Date.now().toString(36).slice(-4)}`;
  let dir: string;
  let brokers: string[];
  let admin: Admin;

  before(async () => {
    brokers = await testBrokers();
    dir = mkdtempSync(join(tmpdir(), "quixlab-pipeline-job-"));
    writeProject(dir, [{ name: job, app: "seed", type: "Job", replicas: 2, variables: { output: ["OutputTopic", seeds], count: ["FreeText", "3"] } }], [{ name: seeds, partitions: 1 }]);
    admin = kafkaClient(brokers).admin();
    await admin.connect();
  });

  after(async () => {
    if (dir && readPipelineState(dir)) await cli(dir, "down");
    await admin?.disconnect();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("rejects a missing descriptor and bad flags with exit 2", async () => {
    const missing = await cli(dir, "up", "--detach", "--descriptor", "nope.yaml");
    assert.equal(missing.code, 2);
    assert.match(missing.err, /nope\.yaml: file not found — pass the path of your quix\.yaml/);
    const bad = await cli(dir, "up", "--bogus");
    assert.equal(bad.code, 2);
    assert.match(bad.err, /usage: quixlab up/);
  });

  it("runs the Job once per replica to completion", async () => {
    const r = await cli(dir, "up", "--detach", "--broker", brokers.join(","), "--redis", "local");
    assert.equal(r.code, 0, `${r.out}\n${r.err}`);
    const status = await waitFor(
      async () => {
        const s = await pipelineStatus(dir, { metrics: false });
        return s.steps[0]?.state === "completed" ? s : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 200, what: "the job to complete" },
    );
    const s = status.steps[0]!;
    assert.equal(s.kind, "Job");
    assert.deepEqual(
      s.instances.map((x) => [x.state, x.restarts, x.lastExit?.code, x.lastExit?.line]),
      [
        ["completed", 0, 0, `wrote 3 messages to ${seeds}`],
        ["completed", 0, 0, `wrote 3 messages to ${seeds}`],
      ],
    );
    const [end] = await admin.fetchTopicOffsets(seeds);
    assert.equal(Number(end!.high), 6, "each replica wrote its 3 messages once");
    const plain = await cli(dir, "dashboard", "--once");
    assert.equal(plain.code, 0, plain.err);
    assert.match(plain.out, new RegExp(`${job}\\s+completed\\s+0/2`));
  });

  it("refuses a second pipeline in the same directory", async () => {
    const r = await cli(dir, "up", "--detach", "--broker", brokers.join(","), "--redis", "none");
    assert.equal(r.code, 1);
    assert.match(r.err, /a pipeline is already running here \(supervisor pid \d+/);
  });

  it("down also stops the Redis it started", async () => {
    const state = readPipelineState(dir)!;
    const redis = state.owned.redis;
    assert.equal(redis?.provider, "local");
    assert.ok(redis?.pid && pidRuns(redis.pid, "redis-server"));
    assert.equal(await pingRedis(state.redisUrl!), true);
    assert.equal(state.owned.broker, undefined, "the session's broker was given, not started: it is not ours to stop");
    const r = await cli(dir, "down", "--json");
    assert.equal(r.code, 0, r.err);
    const result = JSON.parse(r.out) as { found: boolean; running: number[]; forced: number[] };
    assert.equal(result.found, true);
    assert.deepEqual(result.forced, [], "the supervisor stopped everything itself");
    assert.ok(!pidAlive(state.supervisor.pid));
    assert.ok(!pidAlive(redis.pid));
    assert.ok(!existsSync(redis.dir!), "its files are removed");
    assert.equal(await pingRedis(state.redisUrl!, 500), false);
  });
});
