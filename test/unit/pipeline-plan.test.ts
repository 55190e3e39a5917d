import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { DescriptorInvalidError } from "../../src/descriptor/file.js";
import { InputError } from "../../src/errors/index.js";
import { loadPipeline } from "../../src/pipeline/load.js";
import { planPipeline, replicaEnvironment } from "../../src/pipeline/plan.js";

const fixtures = fileURLToPath(new URL("../fixtures/pipeline/", import.meta.url));

async function planFixture(brokerCount = 1, redisUrl: string | null = "redis://127.0.0.1:6379") {
  const p = await loadPipeline("quix.yaml", fixtures);
  return planPipeline({ ...p, brokers: ["127.0.0.1:9092", "127.0.0.1:9093"], brokerCount, redisUrl, node: "/usr/bin/node", tsx: "file:///x/tsx/loader.mjs" });
}

describe("planPipeline", () => {
  it("starts Running/unset deployments with their replicas and skips Stopped ones", async () => {
    const plan = await planFixture();
    assert.deepEqual(
      plan.steps.map((s) => [s.name, s.kind, s.replicas]),
      [
        ["ohlc", "Service", 2],
        ["counter", "Service", 1],
      ],
    );
    assert.deepEqual(plan.skipped, [{ name: "seed", reason: "desiredStatus is Stopped" }]);
  });

  it("runs the app.yaml runEntryPoint with tsx, in the application folder", async () => {
    const [ohlc] = (await planFixture()).steps;
    assert.equal(ohlc!.cwd, join(fixtures, "ohlc"));
    assert.deepEqual(ohlc!.command, ["/usr/bin/node", "--import", "file:///x/tsx/loader.mjs", join(fixtures, "ohlc", "main.ts")]);
  });

  it("passes variables (app defaults under deployment values) and the connection variables", async () => {
    const [ohlc, counter] = (await planFixture()).steps;
    assert.equal(ohlc!.env.input, "ticks");
    assert.equal(ohlc!.env.output, "candles");
    assert.equal(ohlc!.env.window, "1m", "app.yaml default");
    assert.equal(ohlc!.env.Quix__Broker__Address, "127.0.0.1:9092,127.0.0.1:9093");
    assert.equal(ohlc!.env.KAFKA_BROKERS, "127.0.0.1:9092,127.0.0.1:9093");
    assert.equal(ohlc!.env.REDIS_URL, "redis://127.0.0.1:6379");
    assert.equal(ohlc!.env.QUIXLAB_STEP, "ohlc");
    assert.equal(ohlc!.env.consumer_group, "ohlc", "one group per deployment");
    assert.equal(counter!.env.consumer_group, "counter");
    assert.deepEqual([counter!.inputs, counter!.outputs], [["candles"], ["candle-counts"]]);
  });

  it("says none for Redis when the pipeline runs without it, so an inherited REDIS_URL is not used", async () => {
    const [ohlc] = (await planFixture(1, null)).steps;
    assert.equal(ohlc!.env.REDIS_URL, "none");
  });

  it("adds the replica's identity per process, over the inherited environment", async () => {
    const [ohlc] = (await planFixture()).steps;
    const env = replicaEnvironment(ohlc!, 1, { PATH: "/bin", input: "inherited" });
    assert.equal(env.PATH, "/bin");
    assert.equal(env.input, "ticks", "the deployment's value wins over the inherited one");
    assert.equal(env.QUIXLAB_REPLICA, "1");
    assert.equal(env.QUIXLAB_REPLICA_ID, "1");
  });

  it("plans declared topics with partitions and retention, caps replication at the broker count, adds undeclared ones", async () => {
    const plan = await planFixture(1);
    assert.deepEqual(
      plan.topics.map((t) => [t.name, t.partitions, t.replicationFactor, t.declared]),
      [
        ["ticks", 2, 1, true],
        ["candles", 2, 1, true],
        ["candle-counts", 1, 1, false],
      ],
    );
    assert.deepEqual(plan.topics[0]!.config, { "retention.ms": String(60 * 60_000), "retention.bytes": "104857600" });
    assert.deepEqual(plan.topics[1]!.config, { "retention.ms": "-1", "retention.bytes": "-1" });
    assert.match(plan.warnings.join("\n"), /"ticks": replicationFactor 2 capped at 1/);
    const three = await planFixture(3);
    assert.equal(three.topics[0]!.replicationFactor, 2, "not capped when there are enough brokers");
    assert.deepEqual(three.warnings, []);
  });

  it("keeps a deployment's own consumer_group", async () => {
    const p = await loadPipeline("quix.yaml", fixtures);
    const d = p.descriptor.deployments[1]!;
    const descriptor = {
      ...p.descriptor,
      deployments: [{ ...d, variables: [...d.variables, { name: "consumer_group", inputType: "FreeText" as const, required: false, value: "shared" }] }],
    };
    const plan = planPipeline({ ...p, descriptor, brokers: ["b:1"], brokerCount: 1, redisUrl: null, node: "node", tsx: "tsx" });
    assert.equal(plan.steps[0]!.consumerGroup, "shared");
    assert.equal(plan.steps[0]!.env.consumer_group, "shared");
  });
});

describe("loadPipeline", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "quixlab-pipeline-load-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const descriptor = (app: string) =>
    `metadata:\n  version: 1.0\ndeployments:\n  - name: a\n    application: ${app}\n    version: v1\n    deploymentType: Service\n    resources:\n      cpu: 100\n      memory: 100\n      replicas: 1\n    variables: []\ntopics: []\n`;

  it("names the missing app.yaml and the deployment", async () => {
    await writeFile(join(dir, "missing.yaml"), descriptor("nowhere"));
    await assert.rejects(loadPipeline("missing.yaml", dir), (e: unknown) => {
      assert.ok(e instanceof InputError);
      assert.match(e.message, /deployment "a": nowhere\/app\.yaml not found/);
      assert.match(e.remedy ?? "", /runEntryPoint/);
      return true;
    });
  });

  it("names a runEntryPoint that does not exist", async () => {
    await mkdir(join(dir, "app1"), { recursive: true });
    await writeFile(join(dir, "app1", "app.yaml"), await readFile(join(fixtures, "counter", "app.yaml"), "utf8"));
    await writeFile(join(dir, "entry.yaml"), descriptor("app1"));
    await assert.rejects(loadPipeline("entry.yaml", dir), /runEntryPoint main\.ts not found \(app1\/main\.ts\)/);
    await writeFile(join(dir, "app1", "main.ts"), "");
    const p = await loadPipeline("entry.yaml", dir);
    assert.equal(p.apps.get("app1")?.runEntryPoint, "main.ts");
  });

  it("refuses an invalid descriptor with every problem located", async () => {
    await writeFile(join(dir, "bad.yaml"), "metadata:\n  version: 1.0\ndeployments:\n  - name: a\n    deploymentType: Nope\n");
    await assert.rejects(loadPipeline("bad.yaml", dir), (e: unknown) => {
      assert.ok(e instanceof DescriptorInvalidError);
      assert.ok(e.errors.length >= 1);
      assert.ok(e.errors.every((x) => x.file === "bad.yaml" && x.line > 0));
      return true;
    });
  });
});
