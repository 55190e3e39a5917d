import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { loadPipeline } from "../../src/pipeline/load.js";
import { type PlanInput, planPipeline } from "../../src/pipeline/plan.js";
import { dockerfileBase, dockerRunCommand } from "../../src/pipeline/runtime.js";

/** A project in the form Quix's templates write: several app folders, one of each kind `up` must decide about. */
const QUIX_YAML = `# quix.yaml (metadata 2.0 would do as well: the decisions do not depend on it)
metadata:
  version: 1.0
deployments:
  - name: candles
    application: candles
    version: v1
    deploymentType: Service
    resources: { cpu: 200, memory: 500, replicas: 2 }
    variables:
      - { name: input, inputType: InputTopic, required: true, value: ticks }
  - name: sink
    application: sink
    version: v1
    deploymentType: Service
    resources: { cpu: 200, memory: 500, replicas: 1 }
    variables: []
  - name: grafana
    application: grafana
    version: v1
    deploymentType: Service
    resources: { cpu: 200, memory: 500, replicas: 1 }
    variables: []
  - name: old
    application: candles
    version: v1
    deploymentType: Service
    disabled: true
    resources: { cpu: 200, memory: 500, replicas: 1 }
    variables: []
  - name: settings
    application: DynamicConfiguration
    version: latest
    deploymentType: Managed
    plugin:
      embeddedView:
        enabled: true
    resources:
      limits: { cpu: 200, memory: 500 }
      replicas: 1
    variables: []
  - name: library
    libraryItemId: 7abe02e1-1e75-4783-864c-46b930b42afe
    version: latest
    deploymentType: Service
    variables: []
  - name: prebuilt
    image: example/thing:1.0
    version: v1
    deploymentType: Service
    resources: { cpu: 200, memory: 500, replicas: 1 }
    variables: []
topics:
  - name: ticks
    configuration: { partitions: 1, replicationFactor: 1, retentionInMinutes: 60, retentionInBytes: 1000000, cleanupPolicy: DeleteAndCompact }
`;

const app = (name: string, language: string, entry?: string) =>
  `name: ${name}\nlanguage: ${language}\nvariables:\n  - name: output\n    inputType: OutputTopic\n    defaultValue: ${name}-out\n    required: true\ndockerfile: dockerfile\n${entry ? `runEntryPoint: ${entry}\n` : ""}defaultFile: ${entry ?? "dockerfile"}\n`;

describe("how up runs each deployment", () => {
  let dir: string;
  let base: Omit<PlanInput, "docker" | "runtime">;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "quixlab-runtime-"));
    const files: Record<string, string> = {
      "quix.yaml": QUIX_YAML,
      "candles/app.yaml": app("candles", "nodejs", "main.ts"),
      "candles/main.ts": "console.log('hi')\n",
      "candles/dockerfile": "FROM node:20-slim\nCOPY . .\nCMD [\"node\", \"--import\", \"tsx\", \"main.ts\"]\n",
      "sink/app.yaml": app("sink", "python", "main.py"),
      "sink/main.py": "print('hi')\n",
      "sink/dockerfile": "FROM --platform=linux/amd64 python:3.11-slim AS run\nCOPY . .\nCMD [\"python\", \"main.py\"]\n",
      "grafana/app.yaml": app("grafana", "docker"),
      "grafana/dockerfile": "# a service from Quix's library\nFROM grafana/grafana:10.0.0\n",
    };
    for (const [path, text] of Object.entries(files)) {
      await mkdir(join(dir, path, ".."), { recursive: true });
      await writeFile(join(dir, path), text);
    }
    const p = await loadPipeline("quix.yaml", dir);
    base = { ...p, brokers: ["127.0.0.1:9092"], brokerCount: 1, redisUrl: null, node: "/usr/bin/node", tsx: "file:///x/tsx.mjs", hasImage: () => false };
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const reasons = (plan: ReturnType<typeof planPipeline>) => Object.fromEntries(plan.skipped.map((s) => [s.name, s.reason]));

  it("without a Docker engine runs the Node app and says why each other one is not started", () => {
    const plan = planPipeline({ ...base, docker: false });
    assert.deepEqual(
      plan.steps.map((s) => [s.name, s.runtime, s.replicas]),
      [["candles", "process", 2]],
    );
    const why = reasons(plan);
    assert.deepEqual(Object.keys(why).sort(), ["grafana", "library", "old", "prebuilt", "settings", "sink"]);
    assert.match(why.library!, /a Quix library item \(libraryItemId 7abe02e1-1e75-4783-864c-46b930b42afe\)/);
    assert.match(why.settings!, /a Managed deployment: Quix Cloud runs it from its own service image/);
    assert.match(why.sink!, /a python app \(runEntryPoint main\.py\) runs only in its Docker image; its Dockerfile builds FROM python:3\.11-slim, and no Docker engine answers/);
    assert.match(why.grafana!, /a docker app \(no runEntryPoint\).*FROM grafana\/grafana:10\.0\.0.*no Docker engine/);
    assert.match(why.old!, /disabled: true/);
    assert.equal(plan.topics.find((t) => t.name === "ticks")!.config["cleanup.policy"], "delete,compact", "as quix-streams maps DeleteAndCompact");
    assert.match(why.prebuilt!, /prebuilt image example\/thing:1\.0.*no Docker engine/);
  });

  it("with an engine builds the other apps' Dockerfiles and runs them as containers with exactly the step's variables", () => {
    const plan = planPipeline({ ...base, docker: true });
    const by = Object.fromEntries(plan.steps.map((s) => [s.name, s]));
    assert.deepEqual(Object.keys(by), ["candles", "sink", "grafana"]);
    assert.equal(by.candles!.runtime, "process", "a Node app with a Node Dockerfile stays a quick process in auto");
    const sink = by.sink!;
    assert.equal(sink.runtime, "docker");
    assert.match(sink.image!, /^quixlab-local\/sink:[0-9a-f]{12}$/);
    assert.deepEqual(sink.build, { tag: sink.image, context: join(dir, "sink"), dockerfile: join(dir, "sink", "dockerfile") });
    const cmd = sink.command;
    assert.deepEqual(cmd.slice(0, 5), ["docker", "run", "--rm", "--init", "--network"]);
    assert.equal(cmd[cmd.length - 1], sink.image);
    const passed = cmd.flatMap((a, i) => (a === "-e" ? [cmd[i + 1]] : []));
    assert.ok(passed.includes("output") && passed.includes("Quix__Broker__Address") && passed.includes("QUIXLAB_REPLICA"), passed.join(","));
    assert.ok(!passed.includes("PATH"), "the host's environment does not leak into the container");
    assert.equal(sink.env.output, "sink-out", "app.yaml default");
    assert.match(reasons(plan).prebuilt!, /does not have \(docker pull or docker build it first\)/);
    assert.match(reasons(plan).settings!, /Managed/, "a Managed deployment is not run even with an engine");
  });

  it("--runtime docker puts the Node app in its container too; a prebuilt image the engine has runs as is", () => {
    const plan = planPipeline({ ...base, docker: true, runtime: "docker", hasImage: (i) => i === "example/thing:1.0" });
    const by = Object.fromEntries(plan.steps.map((s) => [s.name, s]));
    assert.equal(by.candles!.runtime, "docker");
    assert.equal(by.candles!.replicas, 2);
    assert.equal(by.prebuilt!.image, "example/thing:1.0");
    assert.equal(by.prebuilt!.build, undefined);
  });

  it("--runtime process starts no containers and says so", () => {
    const plan = planPipeline({ ...base, docker: true, runtime: "process" });
    assert.deepEqual(
      plan.steps.map((s) => s.name),
      ["candles"],
    );
    assert.match(reasons(plan).sink!, /--runtime process runs no containers/);
  });

  it("reads the image a Dockerfile runs: the last stage, past flags, ARGs and stage names", () => {
    assert.equal(dockerfileBase("# x\nARG V=1\nfrom --platform=$BUILDPLATFORM node:20-slim as build\nRUN npm ci\n"), "node:20-slim");
    assert.equal(dockerfileBase("FROM node:20 AS build\nRUN npm ci\nFROM python:3.11-slim\nCOPY --from=build /a /a\n"), "python:3.11-slim", "the last stage runs");
    assert.equal(dockerfileBase(["ARG PY=3.12", "FROM python:$" + "{PY}-slim AS base", "FROM base AS run", ""].join("\n")), "python:3.12-slim", "ARG defaults and stage names resolved");
    assert.equal(dockerfileBase("RUN true\n"), undefined);
    assert.deepEqual(dockerRunCommand("img:1", ["b", "a"], "L", "/bin/docker"), [
      "/bin/docker",
      "run",
      "--rm",
      "--init",
      "--network",
      "host",
      "--label",
      "quixlab.pipeline=L",
      "-e",
      "QUIXLAB_REPLICA",
      "-e",
      "QUIXLAB_REPLICA_ID",
      "-e",
      "a",
      "-e",
      "b",
      "img:1",
    ]);
  });
});
