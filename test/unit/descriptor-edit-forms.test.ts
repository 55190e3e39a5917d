import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { ensureTopic, loadAppDescriptor, loadDescriptor, planDescriptorEdit, upsertDeployment, upsertTopic } from "../../src/descriptor/index.js";

const project = (path: string) => readFileSync(new URL(`../fixtures/descriptor/projects/${path}`, import.meta.url), "utf8");
const V2 = project("quix-v2/quix.yaml");
const ORDER_APP = loadAppDescriptor(project("quix-v2/order-processor/app.yaml")).value;

/** The lines of `after` that are not in `before` and those of `before` not in `after`, in order. */
function changedLines(before: string, after: string): { added: string[]; removed: string[] } {
  const a = before.split("\n");
  const b = after.split("\n");
  let start = 0;
  while (start < a.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  return { removed: a.slice(start, endA), added: b.slice(start, endB) };
}

describe("editing a v2.0 file full of placeholders and comments", () => {
  it("writes a changed override as name + value only, and leaves every other byte alone", () => {
    const plan = planDescriptorEdit(V2, "quix.yaml", (doc) => {
      upsertDeployment(doc, { name: "Order processor", deploymentType: "Service", variables: [{ name: "input", inputType: "InputTopic", value: "orders" }, { name: "output", inputType: "OutputTopic", value: "orders-out" }] }, { app: ORDER_APP });
    });
    // input: the default ("orders") now, so its override goes; output: a new name + value override.
    assert.deepEqual(changedLines(V2, plan.after), { removed: ["      - name: INPUT", "        value: f1-data"], added: ["      - name: output", "        value: orders-out"] });
    assert.ok(plan.after.includes("urlPrefix: {{URL_PREFIX}}-{{ENV_NAME}}"));
  });

  it("adds a v2.0 deployment without a variables: block when every value is the app.yaml default, in the file's resources form", () => {
    const plan = planDescriptorEdit(V2, "quix.yaml", (doc) => {
      upsertDeployment(doc, { name: "More orders", application: "order-processor", version: "more-orders-v1", deploymentType: "Service", resources: { cpu: 100, memory: 200 }, variables: [{ name: "input", inputType: "InputTopic", value: "orders" }] }, { app: ORDER_APP });
    });
    const { added, removed } = changedLines(V2, plan.after);
    assert.deepEqual(removed, []);
    assert.deepEqual(added, [
      "  - name: More orders",
      "    application: order-processor",
      "    version: more-orders-v1",
      "    deploymentType: Service",
      "    resources:",
      "      limits:",
      "        cpu: 100",
      "        memory: 200",
      "      replicas: 1",
    ]);
  });

  it("never overwrites a placeholder: it stands for a per-environment value", () => {
    const plan = planDescriptorEdit(V2, "quix.yaml", (doc) => {
      assert.equal(upsertDeployment(doc, { name: "Demo Data", deploymentType: "Job", resources: { cpu: 300, memory: 600, replicas: 3 } }), "unchanged");
    });
    assert.equal(plan.after, V2);
  });

  it("declares a compacted changelog topic once, leaving an existing entry untouched", () => {
    const plan = planDescriptorEdit(V2, "quix.yaml", (doc) => {
      assert.equal(ensureTopic(doc, { name: "orders-changelog", configuration: { cleanupPolicy: "Delete", partitions: 9 } }), "unchanged");
      assert.equal(ensureTopic(doc, { name: "more-orders-changelog", configuration: { cleanupPolicy: "Compact" } }), "inserted");
    });
    assert.deepEqual(changedLines(V2, plan.after).added, [
      "  - name: more-orders-changelog",
      "    persisted: false",
      "    configuration:",
      "      partitions: 1",
      "      replicationFactor: 2",
      "      retentionInMinutes: 1440",
      "      retentionInBytes: 262144000",
      "      cleanupPolicy: Compact",
    ]);
    assert.equal(plan.descriptor.topics.at(-1)?.configuration.cleanupPolicy, "Compact");
  });

  it("refuses to write a cleanupPolicy Quix does not know", () => {
    assert.throws(
      () => planDescriptorEdit(V2, "quix.yaml", (doc) => upsertTopic(doc, { name: "orders-changelog", configuration: { cleanupPolicy: "Compacted" as never } })),
      /unknown cleanupPolicy "Compacted"/,
    );
  });
});

describe("editing a v1.0 file", () => {
  it("writes variables in full, keeping comments and the rest byte for byte", () => {
    const v1 = project("v1/quix.yaml");
    const plan = planDescriptorEdit(v1, "quix.yaml", (doc) => {
      upsertDeployment(doc, { name: "ohlc-5m", application: "ohlc-1m", version: "ohlc-5m-v1", deploymentType: "Service", resources: { cpu: 200, memory: 500 }, variables: [{ name: "input", inputType: "InputTopic", value: "ticks" }] });
    });
    const { added, removed } = changedLines(v1, plan.after);
    assert.deepEqual(removed, []);
    assert.deepEqual(added.slice(-6), ["    variables:", "      - name: input", "        inputType: InputTopic", "        description: ''", "        required: false", "        value: ticks"]);
    assert.deepEqual(loadDescriptor(plan.after).errors, []);
  });
});
