/**
 * `quixlab up` with a real Docker engine: a deployment that is no Node process (an app with only a Dockerfile, as
 * Quix's library services are) is built from its folder and runs in a container on the host network, with its
 * deployment's variables and the connection variables; a disabled deployment is not started; stopping the
 * pipeline reaches the container's process (SIGTERM), and `down` removes containers a dead supervisor left.
 *
 * The app speaks RESP by hand (node's `net` only), so the image needs no npm install: the base image is the
 * locally built node:20-slim (.ci/images/build.sh, cached by tag).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { pipelineDown } from "../../src/pipeline/down.js";
import { pipelineLabel } from "../../src/pipeline/runtime.js";
import { writePipelineState } from "../../src/pipeline/state.js";
import { runPipeline } from "../../src/pipeline/up.js";
import { ensureDocker } from "../harness/docker.js";
import { testServices, uniqueName } from "../harness/services.js";
import { until } from "./stream-helpers.js";

const say = (line: string) => process.stderr.write(`[pipeline-docker] ${line}\n`);
const docker = await ensureDocker({ images: true, log: say });
const skip = !docker.ok && !docker.engine && process.env.CI !== "true" ? `no Docker engine can start here: ${docker.why}` : false;

/** Writes what it was given to Redis, then waits; on SIGTERM it records that it was told to stop. */
const MAIN_JS = `
const net = require("node:net");
const url = new URL(process.env.REDIS_URL);
const resp = (...args) => "*" + args.length + "\\r\\n" + args.map((a) => "$" + Buffer.byteLength(a) + "\\r\\n" + a + "\\r\\n").join("");
const sock = net.connect(Number(url.port), url.hostname);
const key = process.env.marker_key + ":" + process.env.QUIXLAB_REPLICA;
const seen = { output: process.env.output, greeting: process.env.greeting, brokers: process.env.Quix__Broker__Address, step: process.env.QUIXLAB_STEP, home: process.env.HOME_FROM_HOST ?? null };
sock.write(resp("SET", key, JSON.stringify(seen)));
process.on("SIGTERM", () => sock.write(resp("SET", key + ":stopped", "1"), () => sock.end(() => process.exit(0))));
setInterval(() => {}, 1000);
`;

const QUIX_YAML = (key: string) => `metadata:
  version: 1.0
deployments:
  - name: sink
    application: sink
    version: v1
    deploymentType: Service
    resources:
      cpu: 100
      memory: 100
      replicas: 2
    variables:
      - name: greeting
        inputType: FreeText
        required: false
        value: hello from quix.yaml
      - name: marker_key
        inputType: FreeText
        required: true
        value: ${key}
  - name: parked
    application: sink
    version: v1
    deploymentType: Service
    disabled: true
    resources:
      cpu: 100
      memory: 100
      replicas: 1
    variables:
      - name: marker_key
        inputType: FreeText
        required: true
        value: ${key}-parked
topics: []
`;

const APP_YAML = `name: sink
language: docker
variables:
  - name: output
    inputType: OutputTopic
    defaultValue: sink-out
    required: true
dockerfile: dockerfile
defaultFile: dockerfile
`;

const containersOf = (label: string) =>
  execFileSync("docker", ["ps", "-aq", "--filter", `label=quixlab.pipeline=${label}`], { encoding: "utf8" })
    .split("\n")
    .filter(Boolean);

describe("up with a Docker engine", { skip, timeout: 300_000 }, () => {
  let dir: string;
  let redis: Redis;
  let services: Awaited<ReturnType<typeof testServices>>;
  const key = uniqueName("docker-sink");
  before(async () => {
    services = await testServices();
    redis = new Redis(services.redisUrl, { lazyConnect: true });
    await redis.connect();
    dir = mkdtempSync(join(tmpdir(), "quixlab-up-docker-"));
    mkdirSync(join(dir, "sink"));
    writeFileSync(join(dir, "quix.yaml"), QUIX_YAML(key));
    writeFileSync(join(dir, "sink", "app.yaml"), APP_YAML);
    writeFileSync(join(dir, "sink", "main.js"), MAIN_JS);
    writeFileSync(join(dir, "sink", "dockerfile"), 'FROM node:20-slim\nWORKDIR /app\nCOPY main.js .\nUSER node\nCMD ["node", "main.js"]\n');
  });
  after(async () => {
    await redis?.quit();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("builds the app's Dockerfile, runs each replica in a container with its variables, and stops it with SIGTERM", async () => {
    const lines: string[] = [];
    const pipeline = await runPipeline({
      cwd: dir,
      broker: services.brokers.join(","),
      redis: services.redisUrl,
      env: { ...process.env, HOME_FROM_HOST: "leaked" },
      log: (l) => lines.push(l),
    });
    let stopped = false;
    try {
      const state = pipeline.state();
      assert.deepEqual(
        state.steps.map((s) => [s.name, s.runtime, s.replicas.length]),
        [["sink", "docker", 2]],
        lines.join("\n"),
      );
      assert.deepEqual(state.skipped, [{ name: "parked", reason: "disabled: true (Quix does not deploy it either)" }]);
      assert.ok(lines.some((l) => /built quixlab-local\/sink:[0-9a-f]{12}/.test(l)), lines.join("\n"));
      const label = pipelineLabel(dir);
      assert.equal(state.containerLabel, label);
      const values = await until("both replicas wrote their marker", async () => {
        const v = await redis.mget(`${key}:0`, `${key}:1`);
        return v.every((x) => x !== null) ? v.map((x) => JSON.parse(x!)) : undefined;
      }, 60_000);
      for (const seen of values) {
        assert.deepEqual(seen, { output: "sink-out", greeting: "hello from quix.yaml", brokers: services.brokers.join(","), step: "sink", home: null });
      }
      assert.equal(containersOf(label).length, 2);
      assert.equal(await redis.exists(`${key}-parked:0`), 0, "the disabled deployment never ran");
      await pipeline.stop();
      stopped = true;
      assert.deepEqual(await redis.mget(`${key}:0:stopped`, `${key}:1:stopped`), ["1", "1"], "SIGTERM reached the step in its container");
      assert.deepEqual(containersOf(label), [], "--rm: no container is left");
    } finally {
      if (!stopped) await pipeline.stop();
    }
  });

  it("down removes the containers of a supervisor that died", async () => {
    const label = pipelineLabel(join(dir, "dead"));
    const id = execFileSync("docker", ["run", "-d", "--label", `quixlab.pipeline=${label}`, "node:20-slim", "sleep", "600"], { encoding: "utf8" }).trim();
    writePipelineState(dir, {
      version: 1,
      state: "running",
      supervisor: { pid: 2 ** 22 + 17, startedAt: new Date().toISOString() },
      descriptor: join(dir, "quix.yaml"),
      logFile: join(dir, ".quixlab", "pipeline.log"),
      brokers: services.brokers,
      redisUrl: null,
      owned: {},
      containerLabel: label,
      steps: [],
      skipped: [],
      updatedAt: new Date().toISOString(),
    });
    const result = await pipelineDown(dir);
    assert.equal(result.containers.length, 1);
    assert.ok(result.containers[0]!.startsWith(id.slice(0, 12)));
    assert.deepEqual(containersOf(label), []);
  });
});
