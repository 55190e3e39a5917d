/**
 * `quixlab add source` as a user runs it: the app folders and quix.yaml entries it writes validate (v1.0 and v2.0
 * files), a failed edit leaves every file as it was, and `quixlab up --detach` runs the replay source it added
 * into its topic on the session's real Kafka, with its metrics in Redis, until `down`. The project sits inside
 * the repository so its `quixlab` import resolves to this package; needs the package built (`npm run build`).
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { loadAppDescriptor, loadDescriptor } from "../../src/descriptor/index.js";
import { readMetrics } from "../../src/stream/metrics.js";
import { waitFor } from "../../src/util/net.js";
import { testServices, uniqueName } from "../harness/services.js";
import { quixlab, repoRoot } from "../helpers/cli.js";
import { readTopicUntil } from "./source-helpers.js";

const SAMPLE = join(repoRoot, "data", "coinbase-ticker-2021-04-17.jsonl");

describe("quixlab add source", { timeout: 300_000 }, () => {
  let parent: string;
  before(async () => {
    await mkdir(join(repoRoot, "tmp"), { recursive: true });
    parent = await mkdtemp(join(repoRoot, "tmp", "add-source-"));
  });
  after(async () => {
    if (existsSync(join(parent, "proj", ".quixlab", "pipeline.json"))) await quixlab(["down"], { cwd: join(parent, "proj") });
    await rm(parent, { recursive: true, force: true });
  });

  it("adds a replay source that validates, and quixlab up runs it into its topic until down", async (t) => {
    const proj = join(parent, "proj");
    await mkdir(proj);
    const topic = uniqueName(t, "ticks");
    const step = `feed-${Date.now().toString(36)}`;
    const added = await quixlab(["add", "source", "replay", "--name", step, "--ticks", SAMPLE, "--topic", topic, "--speed", "20x", "--loop", "--json"], { cwd: proj });
    assert.equal(added.code, 0, added.err);
    const r = JSON.parse(added.out) as { written: string[]; deploymentType: string; version: string };
    assert.equal(r.deploymentType, "Service", "a looping replay keeps running");
    for (const f of ["Dockerfile", "app.yaml", "main.ts", "package.json", "coinbase-ticker-2021-04-17.jsonl", "quixlab-0.1.0.tgz"]) assert.ok(r.written.includes(`${step}/${f}`), `${f} written`);
    assert.ok(r.written.includes("quix.yaml"));
    assert.equal(await readFile(join(proj, step, "coinbase-ticker-2021-04-17.jsonl"), "utf8"), await readFile(SAMPLE, "utf8"), "the recording travels in the folder");
    const app = loadAppDescriptor(await readFile(join(proj, step, "app.yaml"), "utf8"), "app.yaml");
    assert.deepEqual(app.errors, []);
    assert.equal(app.value.language, "nodejs");
    assert.deepEqual(app.value.variables.map((v) => [v.name, v.inputType, v.defaultValue]), [
      ["output", "OutputTopic", topic],
      ["ticks", "FreeText", "coinbase-ticker-2021-04-17.jsonl"],
      ["speed", "FreeText", "20x"],
      ["loop", "FreeText", "true"],
    ]);
    const quix = loadDescriptor(await readFile(join(proj, "quix.yaml"), "utf8"), "quix.yaml");
    assert.deepEqual(quix.errors, []);
    assert.deepEqual(quix.value.deployments.map((d) => [d.name, d.application, d.deploymentType, d.resources.replicas]), [[step, step, "Service", 1]]);
    assert.deepEqual(quix.value.topics.map((x) => x.name), [topic]);
    const validated = await quixlab(["descriptor", "validate", "--json"], { cwd: proj });
    assert.equal(validated.code, 0, validated.out + validated.err);
    assert.deepEqual((JSON.parse(validated.out) as { files: { file: string }[] }).files.map((f) => f.file), ["quix.yaml", `${step}/app.yaml`]);

    const { brokers, redisUrl } = await testServices();
    const up = await quixlab(["up", "--detach", "--broker", brokers.join(","), "--redis", redisUrl, "--timeout", "120"], { cwd: proj, timeoutMs: 200_000 });
    assert.equal(up.code, 0, up.out + up.err);
    // 107 lines a pass: a second pass means the loop runs under up as it does alone.
    const got = await readTopicUntil(brokers, topic, (m) => m.length >= 2 * 107, 120_000);
    assert.ok(got.every((m) => m.key !== null && JSON.parse(m.value).product_id === m.key), "keyed by product");
    const redis = new Redis(redisUrl);
    try {
      const m = await waitFor(async () => (await readMetrics(redis, step))[0], { timeoutMs: 30_000, what: "the source's metrics" });
      assert.equal(m.kind, "source");
      assert.equal(m.source?.type, "replay");
      assert.equal(m.outputTopic, topic);
      assert.ok(m.emitted > 0);
    } finally {
      redis.disconnect();
    }
    const down = await quixlab(["down"], { cwd: proj, timeoutMs: 120_000 });
    assert.equal(down.code, 0, down.out + down.err);
  });

  it("adds a Coinbase source to a v2.0 quix.yaml as overrides of its app.yaml; a second add with the same name updates it", async () => {
    const proj = join(parent, "v2");
    await mkdir(proj);
    await writeFile(join(proj, "quix.yaml"), "# mine\nmetadata:\n  version: 2.0\n\ndeployments: []\n\ntopics: []\n");
    const first = await quixlab(["add", "source", "coinbase", "--name", "coinbase", "--products", "BTC-USD,ETH-USD"], { cwd: proj });
    assert.equal(first.code, 0, first.err);
    assert.match(first.out, /^added the coinbase source coinbase \(Service, version uncommitted\) writing ticks$/m);
    const again = await quixlab(["add", "source", "coinbase", "--name", "coinbase", "--products", "BTC-USD,ETH-USD,SOL-USD", "--dir", "."], { cwd: proj });
    assert.equal(again.code, 0, again.err);
    const text = await readFile(join(proj, "quix.yaml"), "utf8");
    assert.match(text, /^# mine$/m, "comments kept");
    const quix = loadDescriptor(text, "quix.yaml");
    assert.deepEqual(quix.errors, []);
    assert.equal(quix.value.deployments.length, 1, "the second add updated the entry");
    // v2.0: values equal to the app.yaml's defaults are not written; the products moved with the second add.
    const app = loadAppDescriptor(await readFile(join(proj, "coinbase", "app.yaml"), "utf8"), "app.yaml").value;
    assert.equal(app.variables.find((v) => v.name === "products")?.defaultValue, "BTC-USD,ETH-USD,SOL-USD");
    assert.doesNotMatch(text, /wss:\/\/ws-feed/, "the default endpoint is the app.yaml's, not repeated as an override");
    const validated = await quixlab(["descriptor", "validate"], { cwd: proj });
    assert.equal(validated.code, 0, validated.out + validated.err);
    assert.match(await readFile(join(proj, "coinbase", "main.ts"), "utf8"), /resolveSourceConfig\("coinbase", process\.env/);
  });

  it("refuses bad flags (exit 2) and leaves every file as it was when quix.yaml would be invalid", async () => {
    const proj = join(parent, "bad");
    await mkdir(proj);
    const noProducts = await quixlab(["add", "source", "coinbase", "--name", "cb"], { cwd: proj });
    assert.equal(noProducts.code, 2);
    assert.match(noProducts.err, /missing --products — pass Coinbase product ids separated by commas/);
    const noTicks = await quixlab(["add", "source", "replay", "--name", "rp", "--ticks", "nope.jsonl"], { cwd: proj });
    assert.equal(noTicks.code, 2);
    assert.match(noTicks.err, /nope\.jsonl not found — pass an existing recording/);
    const wrongType = await quixlab(["add", "source", "kraken", "--name", "k"], { cwd: proj });
    assert.equal(wrongType.code, 2);
    // A deployment whose application folder is missing makes any edit of the file invalid.
    const broken = "metadata:\n  version: 1.0\ndeployments:\n  - name: x\n    application: x\n    deploymentType: Service\n    version: abc\n    resources: { cpu: 200, memory: 500, replicas: 1 }\n    variables:\n      - name: input\n        inputType: InputTopic\n        required: true\n        value: not-declared\ntopics: []\n";
    await writeFile(join(proj, "quix.yaml"), broken);
    const failed = await quixlab(["add", "source", "coinbase", "--name", "cb", "--products", "BTC-USD"], { cwd: proj });
    assert.notEqual(failed.code, 0, "the edit is refused");
    assert.equal(await readFile(join(proj, "quix.yaml"), "utf8"), broken, "quix.yaml as it was");
    assert.equal(existsSync(join(proj, "cb")), false, "no app folder left behind");
  });
});
