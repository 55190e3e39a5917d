/**
 * promote into a quix.yaml in Quix's `metadata.version: 2.0` form, full of `{{NAME}}` placeholders and comments
 * (test/fixtures/descriptor/projects/quix-v2, built from Quix's documentation): the new deployment's variables are
 * written as v2.0 overrides only (none equal to the app.yaml default), every byte outside the edited deployment and
 * the new topics stays as it was, and a later promote keeps topics that only the app.yaml says.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { parseDocument } from "yaml";
import { loadAppDescriptor, loadDescriptor } from "../../src/descriptor/index.js";
import { InputError } from "../../src/errors/index.js";
import { parseNotebook } from "../../src/notebook/model.js";
import { type PromoteInput, type PromotePlan, planPromote } from "../../src/promote/plan.js";
import { readTemplate } from "../../src/promote/template.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const v2 = readFileSync(`${root}test/fixtures/descriptor/projects/quix-v2/quix.yaml`, "utf8");
const ohlc = parseNotebook(readFileSync(`${root}notebooks/ohlc.ipynb`, "utf8"), "notebooks/ohlc.ipynb");
const SHA = "a".repeat(40);

function input(over: Partial<PromoteInput> = {}): PromoteInput {
  return {
    notebook: ohlc,
    notebookPath: "notebooks/ohlc.ipynb",
    exportName: "ohlc1m",
    featureName: "ohlc1m",
    deployment: "candles-1m",
    descriptorText: v2,
    appDir: "candles-1m",
    existingFiles: {},
    template: readTemplate("app"),
    versions: { quixlab: "0.1.0", tsx: "^4.20.0", typescript: "~5.8.3", "@types/node": "^20.19.0" },
    newVersion: SHA,
    ...over,
  };
}

const appOf = (plan: PromotePlan) => String(plan.files.find((f) => f.path === "candles-1m/app.yaml")!.content);
const filesAfter = (plan: PromotePlan) => Object.fromEntries(plan.files.map((f) => [f.path.slice("candles-1m/".length), f.content]));

describe("promote into a v2.0 quix.yaml with placeholders", () => {
  const plan = planPromote(input({ input: "f1-data" }));
  const after = plan.descriptorAfter;

  it("keeps every line of the file as it was, placeholders and comments included, and only appends", () => {
    const deploymentsEnd = v2.indexOf("\n# This section describes the Topics");
    const topicsEnd = v2.length;
    // The deployment is appended at the end of deployments:, the topics at the end of topics:; the rest is verbatim.
    assert.ok(after.startsWith(v2.slice(0, deploymentsEnd)), "everything up to the last deployment is byte for byte");
    assert.ok(after.includes(v2.slice(deploymentsEnd, topicsEnd).trimEnd()), "the topics section is byte for byte, then the new topics");
    for (const p of ["{{CPU}}", "{{MEMORY}}", "{{REPLICAS}}", "{{DISABLED}}", "{{URL_PREFIX}}-{{ENV_NAME}}", "{{PRIORITY_TOPIC}}", "{{PARTITIONS}}"]) {
      assert.ok(after.includes(p), `${p} is kept`);
    }
  });

  it("writes the deployment as v2.0 overrides: the values equal to the app.yaml defaults are left out", () => {
    const loaded = loadDescriptor(after, "quix.yaml");
    assert.deepEqual(
      loaded.errors.map((e) => e.message),
      [],
    );
    const raw = parseDocument(after.replace(/\{\{[^}]+\}\}/g, "0")).toJS() as { deployments: { name: string; variables?: unknown[] }[] };
    const mine = raw.deployments.find((d) => d.name === "candles-1m")!;
    assert.equal(mine.variables, undefined, "app.yaml's defaults are the promoted values, so there is nothing to override");
    const app = loadAppDescriptor(appOf(plan), "app.yaml");
    assert.deepEqual(
      app.value.variables.filter((v) => ["input", "output", "dlq", "late", "consumer_group"].includes(v.name)).map((v) => [v.name, v.defaultValue]),
      [
        ["input", "f1-data"],
        ["output", "candles-1m"],
        ["dlq", "f1-data.dlq"],
        ["late", "candles-1m.late"],
        ["consumer_group", "candles-1m"],
      ],
    );
    const names = loaded.value.topics.map((t) => t.name);
    for (const t of ["f1-data", "candles-1m", "f1-data.dlq", "candles-1m.late", "candles-1m.ohlc1m.changelog"]) assert.ok(names.includes(t), `${t} is declared`);
    assert.equal(names.filter((n) => n === "f1-data").length, 1, "the declared input topic is not declared twice");
  });

  it("a later promote without --input keeps the topic the app.yaml holds, and changes nothing", () => {
    const again = planPromote(input({ descriptorText: after, existingFiles: filesAfter(plan) }));
    assert.equal(loadAppDescriptor(appOf(plan), "app.yaml").value.variables.find((v) => v.name === "input")!.defaultValue, "f1-data");
    assert.equal(again.descriptorAfter, after);
    assert.equal(again.noop, true);
  });

  it("a new --input moves the app.yaml default, so the deployment still overrides nothing; resources change in place", () => {
    const moved = planPromote(input({ descriptorText: after, existingFiles: filesAfter(plan), replicas: 3, input: "orders" }));
    const raw = parseDocument(moved.descriptorAfter.replace(/\{\{[^}]+\}\}/g, "0")).toJS() as { deployments: { name: string; variables?: unknown[] }[] };
    // app.yaml follows the flag (its default becomes "orders"), so even now there is nothing to override.
    assert.equal(raw.deployments.find((d) => d.name === "candles-1m")!.variables, undefined);
    assert.match(moved.descriptorAfter, /replicas: 3/);
  });
});

describe("promote over values it must keep", () => {
  const v1 = (vars: string) =>
    `metadata:\n  version: 1.0\ndeployments:\n  - name: candles-1m\n    application: candles-1m\n    version: v1\n    deploymentType: Service\n    resources:\n      cpu: 200\n      memory: 500\n      replicas: 1\n    variables:\n${vars}topics: []\n`;
  const variable = (name: string, value: string, type = "FreeText") => `      - name: ${name}\n        inputType: ${type}\n        required: false\n        value: ${value}\n`;

  it("an input given by a {{NAME}} placeholder needs --input, and the placeholder stays", () => {
    const text = v1(variable("input", "{{IN_TOPIC}}", "InputTopic"));
    assert.throws(
      () => planPromote(input({ descriptorText: text })),
      (e: unknown) => e instanceof InputError && /sets input with a \{\{NAME\}\} placeholder/.test(e.message) && /--input/.test(e.remedy ?? ""),
    );
    const plan = planPromote(input({ descriptorText: text, input: "ticks" }));
    assert.match(plan.descriptorAfter, /value: \{\{IN_TOPIC\}\}/, "promote does not overwrite the placeholder");
    const names = loadDescriptor(plan.descriptorAfter).value.topics.map((t) => t.name);
    assert.deepEqual(names, ["ticks", "candles-1m", "ticks.dlq", "candles-1m.late", "candles-1m.ohlc1m.changelog"]);
    assert.ok(!names.some((n) => /[\uE000-\uE01F]/.test(n)), "no masked token leaks into a topic name");
  });

  it("a consumer group set in quix.yaml is kept, and the changelog is declared under it", () => {
    const plan = planPromote(input({ descriptorText: v1(variable("consumer_group", "candles-prod")) }));
    const loaded = loadDescriptor(plan.descriptorAfter);
    const dep = loaded.value.deployments[0]!;
    assert.equal(dep.variables.find((v) => v.name === "consumer_group")!.value, "candles-prod");
    assert.ok(loaded.value.topics.some((t) => t.name === "candles-prod.ohlc1m.changelog" && t.configuration.cleanupPolicy === "Compact"));
    assert.ok(!loaded.value.topics.some((t) => t.name === "candles-1m.ohlc1m.changelog"), "no second changelog under the deployment's name");
  });

  it("a declared changelog without a cleanupPolicy is made Compact; one with a policy is left as it is", () => {
    const topic = (policy: string) =>
      `  - name: candles-1m.ohlc1m.changelog\n    persisted: false\n    configuration:\n      partitions: 1\n      replicationFactor: 1\n      retentionInMinutes: -1\n      retentionInBytes: -1\n${policy}`;
    const bare = v1("").replace("topics: []\n", `topics:\n${topic("")}`);
    assert.equal(loadDescriptor(planPromote(input({ descriptorText: bare })).descriptorAfter).value.topics[0]!.configuration.cleanupPolicy, "Compact");
    const both = v1("").replace("topics: []\n", `topics:\n${topic("      cleanupPolicy: DeleteAndCompact\n")}`);
    assert.deepEqual(loadDescriptor(both).errors, [], "DeleteAndCompact is one of Quix's values");
    assert.equal(loadDescriptor(planPromote(input({ descriptorText: both })).descriptorAfter).value.topics[0]!.configuration.cleanupPolicy, "DeleteAndCompact");
  });
});
