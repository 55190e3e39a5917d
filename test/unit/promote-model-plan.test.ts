import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { loadAppDescriptor, loadDescriptor } from "../../src/descriptor/index.js";
import { InputError } from "../../src/errors/index.js";
import { parseNotebook } from "../../src/notebook/model.js";
import { MODEL_REDIS_DEFAULT, type ModelPromoteInput, planModelPromote } from "../../src/promote/model-plan.js";
import { modelTemplate } from "../../src/promote/template.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const notebook = parseNotebook(readFileSync(`${root}notebooks/model.ipynb`, "utf8"), "notebooks/model.ipynb");
const versions = { quixlab: "0.1.0", tsx: "^4.20.0", typescript: "~5.8.3", "@types/node": "^20.19.0" };

/** A deployment as promote writes a feature's (the feature is named by its changelog topic, declared beside). */
const feature = (name: string, output: string) => `  - name: ${name}
    application: ${name}
    version: v1
    deploymentType: Service
    resources: { cpu: 200, memory: 500, replicas: 1 }
    variables:
      - { name: input, inputType: InputTopic, required: true, value: ticks }
      - { name: output, inputType: OutputTopic, required: true, value: ${output} }
      - { name: consumer_group, inputType: FreeText, required: false, value: ${name} }
`;
const descriptor = (deployments: string, topics: string[]) =>
  `metadata:\n  version: 1.0\ndeployments:\n${deployments}topics:\n${topics.map((t) => `  - name: ${t}\n`).join("")}`;
const allThree = descriptor(feature("c1h", "candles-1h") + feature("c1m", "candles-1m") + feature("r60", "rolling"), [
  "ticks",
  "candles-1h",
  "candles-1m",
  "rolling",
  "c1h.ohlc1h.changelog",
  "c1m.ohlc1m.changelog",
  "r60.ohlc60s.changelog",
]);

function input(over: Partial<ModelPromoteInput> = {}): ModelPromoteInput {
  return {
    notebook,
    notebookPath: "notebooks/model.ipynb",
    exportName: "nextMinute",
    deployment: "next-minute",
    descriptorText: allThree,
    appDir: "next-minute",
    existingFiles: {},
    model: { name: "next-minute", trigger: "ohlc1m", features: ["ohlc1h", "ohlc1m", "ohlc60s"] },
    template: modelTemplate(),
    versions,
    newVersion: "a".repeat(40),
    ...over,
  };
}

describe("planModelPromote", () => {
  it("writes the model's app folder and a deployment reading the trigger feature's deployment output", () => {
    const plan = planModelPromote(input());
    assert.deepEqual(
      plan.files.map((f) => f.path),
      ["next-minute/.dockerignore", "next-minute/Dockerfile", "next-minute/app.yaml", "next-minute/main.ts", "next-minute/model.ts", "next-minute/package.json", "next-minute/tsconfig.json"],
    );
    const file = (n: string) => String(plan.files.find((f) => f.path === `next-minute/${n}`)!.content);
    assert.match(file("main.ts"), /import \{ nextMinute as model \} from "\.\/model\.js";/);
    assert.match(file("main.ts"), /resolveModelStepConfig\(process\.env/);
    assert.doesNotMatch(file("main.ts"), /\{\{/);
    assert.match(file("model.ts"), /defineModel\(/);
    const app = loadAppDescriptor(file("app.yaml"), "app.yaml");
    assert.deepEqual(app.errors, []);
    assert.equal(app.value.name, "next-minute");
    assert.deepEqual(
      Object.fromEntries(app.value.variables.map((v) => [v.name, v.defaultValue])),
      { input: "candles-1m", output: "next-minute", dlq: "candles-1m.dlq", consumer_group: "next-minute", REDIS_URL: MODEL_REDIS_DEFAULT },
    );
    const after = loadDescriptor(plan.descriptorAfter, "quix.yaml");
    assert.deepEqual(after.errors, []);
    const dep = after.value.deployments.find((d) => d.name === "next-minute")!;
    assert.equal(dep.application, "next-minute");
    assert.equal(dep.version, "a".repeat(40));
    assert.deepEqual(Object.fromEntries(dep.variables.map((v) => [v.name, v.value])), {
      input: "candles-1m",
      output: "next-minute",
      dlq: "candles-1m.dlq",
      consumer_group: "next-minute",
      REDIS_URL: MODEL_REDIS_DEFAULT,
    });
    const topics = after.value.topics.map((t) => t.name);
    for (const t of ["next-minute", "candles-1m.dlq"]) assert.ok(topics.includes(t), t);
    assert.ok(!topics.some((t) => t.startsWith("next-minute.") && t.endsWith(".changelog")), "a model step keeps no state: no changelog");
  });

  it("refuses when a feature of the vector runs in no deployment, naming which and what to do", () => {
    const two = descriptor(feature("c1m", "candles-1m"), ["ticks", "candles-1m", "c1m.ohlc1m.changelog"]);
    assert.throws(
      () => planModelPromote(input({ descriptorText: two })),
      (e: unknown) => e instanceof InputError && /reads 'ohlc1h', 'ohlc60s' from the store, and no deployment in quix\.yaml runs them/.test(e.message) && /promote each of those features first/.test(e.remedy ?? ""),
    );
    assert.throws(() => planModelPromote(input({ descriptorText: null })), /no deployment in quix\.yaml runs them/);
  });

  it("keeps a REDIS_URL set in quix.yaml and the topics a deployment already names; an unchanged model is a no-op", () => {
    const first = planModelPromote(input());
    const edited = first.descriptorAfter.replace(`value: ${MODEL_REDIS_DEFAULT}`, "value: redis://store.internal:6380");
    assert.notEqual(edited, first.descriptorAfter);
    const files = Object.fromEntries(first.files.map((f) => [f.path.slice("next-minute/".length), f.content]));
    const again = planModelPromote(input({ descriptorText: edited, existingFiles: files }));
    assert.equal(again.noop, true, JSON.stringify(again.changes));
    const moved = planModelPromote(input({ descriptorText: edited, existingFiles: files, output: "preds" }));
    const dep = loadDescriptor(moved.descriptorAfter, "quix.yaml").value.deployments.find((d) => d.name === "next-minute")!;
    assert.equal(dep.variables.find((v) => v.name === "REDIS_URL")!.value, "redis://store.internal:6380");
    assert.equal(dep.variables.find((v) => v.name === "output")!.value, "preds");
  });

  it("refuses a folder that holds another app, and bad names", () => {
    assert.throws(() => planModelPromote(input({ existingFiles: { "main.ts": "// mine\n" } })), /already holds files quixlab did not generate/);
    assert.throws(() => planModelPromote(input({ deployment: "bad name" })), /bad deployment name/);
  });
});
