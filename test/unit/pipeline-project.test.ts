/**
 * `quixlab up`'s plan of a whole Quix project in the v2.0 form (test/fixtures/descriptor/projects/quix-v2: built
 * from Quix's documentation, several app folders): placeholders filled from `.quix.yaml.variables`, `--var` and
 * the environment, `disabled` (also as a placeholder) honoured, inherited app.yaml variables in the environment,
 * and each deployment that cannot run here named with its reason.
 */
import assert from "node:assert/strict";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { DescriptorInvalidError } from "../../src/descriptor/file.js";
import { loadPipeline } from "../../src/pipeline/load.js";
import { planPipeline } from "../../src/pipeline/plan.js";

const fixture = fileURLToPath(new URL("../fixtures/descriptor/projects/quix-v2/", import.meta.url));

describe("up's plan of a whole v2.0 Quix project", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "quixlab-up-project-"));
    await cp(fixture, dir, { recursive: true });
    // The Python apps' Dockerfiles, where their app.yaml says (build/dockerfile).
    for (const app of ["demo-data", "order-processor"]) {
      await mkdir(join(dir, app, "build"), { recursive: true });
      await writeFile(join(dir, app, "build", "dockerfile"), "FROM python:3.11-slim\nCOPY . .\nCMD [\"python\", \"main.py\"]\n");
    }
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const plan = async (opts: Parameters<typeof loadPipeline>[2], docker: boolean) => {
    const p = await loadPipeline("quix.yaml", dir, opts);
    return { loaded: p, plan: planPipeline({ ...p, brokers: ["127.0.0.1:9092"], brokerCount: 1, redisUrl: null, node: "node", tsx: "tsx", docker }) };
  };

  it("fills placeholders from .quix.yaml.variables and runs the Python apps in Docker with their inherited variables", async () => {
    const { loaded, plan: p } = await plan({ env: {} }, true);
    const demo = loaded.descriptor.deployments.find((d) => d.name === "Demo Data")!;
    assert.deepEqual([demo.resources.cpu, demo.resources.memory, demo.resources.replicas], [200, 500, 2], "from .quix.yaml.variables");
    const by = Object.fromEntries(p.steps.map((s) => [s.name, s]));
    assert.deepEqual(Object.keys(by).sort(), ["Demo Data", "Order processor"]);
    assert.equal(by["Demo Data"]!.runtime, "docker");
    assert.equal(by["Demo Data"]!.replicas, 2);
    assert.equal(by["Demo Data"]!.kind, "Job");
    const orders = by["Order processor"]!;
    assert.equal(orders.env.input, "f1-data", "the override INPUT matches app.yaml's input case-insensitively");
    assert.ok(orders.inputs.includes("f1-data"));
    const why = Object.fromEntries(p.skipped.map((s) => [s.name, s.reason]));
    assert.match(why["Priority orders"]!, /disabled: true/);
    assert.match(why["Dynamic Configuration Manager"]!, /Managed/);
    assert.match(why.Backups!, /dockerfile is not in backup-manager/);
    assert.match(why.Dashboard!, /a nodejs app \(no runEntryPoint\) runs in its Docker image, but dockerfile is not in dashboard/);
    const f1 = p.topics.find((t) => t.name === "f1-data")!;
    assert.equal(f1.partitions, 2, "partitions: {{PARTITIONS}}");
    assert.equal(p.topics.find((t) => t.name === "orders-changelog")!.config["cleanup.policy"], "compact");
  });

  it("--var wins over the file and the file over the environment; disabled may be a placeholder", async () => {
    const { plan: p } = await plan({ vars: { DISABLED: "true" }, env: { REPLICAS: "7", CPU: "999" } }, false);
    assert.deepEqual(
      p.steps.map((s) => s.name),
      [],
      "without Docker no Python app runs, and Order processor is disabled by --var",
    );
    const why = Object.fromEntries(p.skipped.map((s) => [s.name, s.reason]));
    assert.match(why["Order processor"]!, /disabled: true/);
    assert.match(why["Demo Data"]!, /a python app \(runEntryPoint main\.py\) runs only in its Docker image; its Dockerfile builds FROM python:3\.11-slim, and no Docker engine answers/);
  });

  it("names a placeholder without a value, and its line", async () => {
    const text = await readFile(join(dir, ".quix.yaml.variables"), "utf8");
    await writeFile(join(dir, ".quix.yaml.variables"), text.replace(/^REPLICAS=.*$/m, ""));
    try {
      await assert.rejects(plan({ env: {} }, false), (e: unknown) => {
        assert.ok(e instanceof DescriptorInvalidError);
        const unresolved = e.errors.filter((x) => x.code === "unresolved-placeholder");
        assert.equal(unresolved.length, 1, JSON.stringify(e.errors));
        assert.match(unresolved[0]!.message, /\{\{REPLICAS\}\}/);
        assert.equal(unresolved[0]!.line, 18, "replicas: {{REPLICAS}}");
        return true;
      });
      const { plan: p } = await plan({ env: { REPLICAS: "3" } }, true);
      assert.equal(p.steps.find((s) => s.name === "Demo Data")!.replicas, 3, "the environment fills what the file lacks");
    } finally {
      await writeFile(join(dir, ".quix.yaml.variables"), text);
    }
  });
});
