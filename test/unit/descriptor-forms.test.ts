import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import {
  deploymentEnvironment,
  effectiveVariables,
  loadAppDescriptor,
  loadDescriptor,
  parseVariablesFile,
  placeholderLookup,
  resolvePlaceholders,
} from "../../src/descriptor/index.js";

const project = (path: string) => readFileSync(new URL(`../fixtures/descriptor/projects/quix-v2/${path}`, import.meta.url), "utf8");
const where = (errors: readonly { line: number; column: number; code: string }[]) => errors.map((e) => `${e.line}:${e.column} ${e.code}`);

const V2 = project("quix.yaml");
const ORDER_APP = loadAppDescriptor(project("order-processor/app.yaml")).value;

describe("loadDescriptor: Quix's documented forms", () => {
  it("reads a v2.0 project with placeholders, a Managed and a disabled deployment, without errors", () => {
    const { value, errors, placeholders } = loadDescriptor(V2);
    assert.deepEqual(errors, []);
    assert.deepEqual(
      placeholders.map((p) => `${p.name}@${p.line}:${p.column}`),
      ["CPU@16:14", "MEMORY@17:17", "REPLICAS@18:17", "DISABLED@29:15", "URL_PREFIX@32:18", "ENV_NAME@32:33", "PRIORITY_TOPIC@44:16", "PARTITIONS@102:19"],
    );
    const [demo, orders, priority, backups, dashboard, managed] = value.deployments;
    assert.equal(managed!.deploymentType, "Managed");
    assert.equal(managed!.configuration?.topic, "config-updates");
    assert.equal(managed!.configuration?.mongoPort, 27017);
    assert.deepEqual(Object.keys(managed!.extra), ["plugin"]);
    assert.equal(managed!.inherits, false, "managed deployments do not inherit");
    assert.equal(priority!.disabled, true);
    assert.equal(orders!.disabled, false, "a placeholder stands for a value known later: Quix's default meanwhile");
    assert.equal(orders!.extra.publicAccess && (orders!.extra.publicAccess as { urlPrefix: string }).urlPrefix, "{{URL_PREFIX}}-{{ENV_NAME}}");
    assert.deepEqual(demo!.resources, { cpu: 200, memory: 500, replicas: 1, form: "limits" });
    assert.equal(backups!.resourcesDeclared, false);
    assert.deepEqual(backups!.resources, { cpu: 200, memory: 500, replicas: 1, form: "flat" });
    assert.deepEqual(dashboard!.resources, { cpu: 500, memory: 1000, replicas: 1, form: "flat" });
    assert.equal(priority!.variables[0]!.value, "{{PRIORITY_TOPIC}}", "text keeps the placeholder verbatim");
    assert.equal(value.topics[3]!.configuration.cleanupPolicy, "Compact");
    assert.equal(value.topics[0]!.configuration.cleanupPolicy, undefined);
  });

  it("requires inputType in a v1.0 entry but not in a v2.0 override", () => {
    const v1 = V2.replace("version: 2.0", "version: 1.0");
    const errors = loadDescriptor(v1).errors;
    assert.ok(errors.length > 0);
    assert.ok(errors.every((e) => e.code === "missing-field" && /inputType/.test(e.message)), JSON.stringify(errors));
    assert.deepEqual(where(errors).slice(0, 1), ["35:9 missing-field"]);
  });

  it("rejects what Quix documents as invalid: an unknown deploymentType or cleanupPolicy, a non-boolean disabled", () => {
    const bad = V2.replace("deploymentType: Managed", "deploymentType: Managd").replace("cleanupPolicy: Compact", "cleanupPolicy: compact").replace("disabled: true", "disabled: yes please");
    assert.deepEqual(where(loadDescriptor(bad).errors), ["41:15 wrong-type", "76:21 unknown-deployment-type", "112:22 unknown-cleanup-policy"]);
    const e = loadDescriptor(bad).errors.find((x) => x.code === "unknown-cleanup-policy")!;
    assert.match(e.remedy, /did you mean Compact\?/);
  });
});

describe("effectiveVariables: v2.0 inheritance", () => {
  const { value } = loadDescriptor(V2);
  const orders = value.deployments[1]!;
  const priority = value.deployments[2]!;

  it("merges app.yaml with the overrides, matching names case-insensitively", () => {
    const ev = effectiveVariables(orders, ORDER_APP);
    assert.deepEqual(
      ev.map((v) => [v.name, v.inputType, v.value ?? v.variableKey ?? v.variableGroupId, v.source]),
      [
        ["input", "InputTopic", "f1-data", "deployment"],
        ["output", "OutputTopic", "processed-orders", "app"],
        ["LOG_LEVEL", "Options", "info", "app"],
        ["API_KEY", "ProjectVariable", "THIRD_PARTY_API_KEY", "app"],
        ["redis", "VariableGroup", "redis-config", "none"],
      ],
    );
    assert.equal(ev[3]!.secret, true);
    assert.deepEqual(deploymentEnvironment(priority, ORDER_APP), { input: "{{PRIORITY_TOPIC}}", output: "processed-orders", LOG_LEVEL: "debug" });
  });

  it("inherits nothing under v1.0", () => {
    const v1 = loadDescriptor(V2.replace("version: 2.0", "version: 1.0")).value.deployments[1]!;
    assert.equal(v1.inherits, false);
    assert.deepEqual(
      effectiveVariables(v1, ORDER_APP).map((v) => v.name),
      ["INPUT"],
    );
  });

  it("checks topics on the effective variables: an app.yaml default counts as written", () => {
    const apps = (a: string) => (a === "order-processor" ? ORDER_APP : loadAppDescriptor(project(`${a === "demo-data" ? "demo-data" : a === "backup-manager" ? "backup-manager" : "dashboard"}/app.yaml`)).value);
    assert.deepEqual(loadDescriptor(V2, "quix.yaml", { apps }).errors, []);
    // Dashboard reads processed-orders by its app.yaml default; order-processor writes it by its own default.
    const undeclared = V2.replace("  - name: processed-orders\n", "");
    assert.deepEqual(loadDescriptor(undeclared, "quix.yaml", { apps }).errors, [], "no false unknown-topic");
    // Order processor without its override reads its default "orders": with that topic undeclared, no one writes it.
    const noOrders = V2.replace("  - name: orders\n    dataTier: Bronze\n", "").replace(/ {4}variables:\n {6}# Override.*\n.*INPUT\n.*f1-data\n/, "");
    const errors = loadDescriptor(noOrders, "quix.yaml", { apps }).errors;
    assert.deepEqual(where(errors), ["20:11 unknown-topic"]);
    assert.match(errors[0]!.message, /deployment "Order processor" reads topic "orders" \(its app\.yaml default for "input"\)/);
    // Without the app.yaml files, an inheriting project's topics are unknown: no guess either way.
    assert.deepEqual(loadDescriptor(noOrders).errors, []);
  });

  it("checks an Options override against the app.yaml's options", () => {
    const apps = () => ORDER_APP;
    const bad = V2.replace("value: debug", "value: verbose");
    const errors = loadDescriptor(bad, "quix.yaml", { apps }).errors.filter((e) => e.code === "invalid-option");
    assert.deepEqual(where(errors), ["46:16 invalid-option"]);
    assert.match(errors[0]!.message, /"verbose", not one of its options in app\.yaml \(info, debug\)/);
  });
});

describe("loadAppDescriptor: documented app.yaml forms", () => {
  it("reads Options, ProjectVariable and VariableGroup variables, any language, no runEntryPoint", () => {
    const backup = loadAppDescriptor(project("backup-manager/app.yaml"));
    assert.deepEqual(backup.errors, []);
    assert.equal(backup.value.language, "docker");
    assert.equal(backup.value.runEntryPoint, undefined);
    assert.deepEqual(backup.value.variables[0]!.options, [{ label: "mongo", value: "mongo" }, { label: "json", value: "json" }]);
    const redis = ORDER_APP.variables.find((v) => v.inputType === "VariableGroup")!;
    assert.deepEqual(redis.members?.map((m) => m.key), ["REDIS_HOST", "REDIS_PORT", "REDIS_PASSWORD"]);
    for (const language of ["nodejs", "NodeJS", "python", "typescript"]) {
      assert.deepEqual(loadAppDescriptor(`name: a\nlanguage: ${language}\ndockerfile: dockerfile\n`).errors, [], language);
    }
  });

  it("rejects an Options default that is not one of the options, and an Options variable without options", () => {
    const bad = project("backup-manager/app.yaml").replace("defaultValue: json", "defaultValue: yaml");
    assert.deepEqual(where(loadAppDescriptor(bad).errors), ["7:19 invalid-option"]);
    const none = "name: a\ndockerfile: d\nvariables:\n  - name: X\n    inputType: Options\n    defaultValue: a\n";
    assert.deepEqual(where(loadAppDescriptor(none).errors), ["4:5 missing-field"]);
  });
});

describe("placeholders", () => {
  it("parse wherever they stand, even where unquoted {{ would be YAML's flow mapping", () => {
    const text = "metadata:\n  version: 2.0\ndeployments:\n  - name: a\n    application: a\n    version: {{VERSION}}\n    deploymentType: {{TYPE}}\n    resources: { cpu: {{CPU}}, memory: 500 }\n";
    const l = loadDescriptor(text);
    assert.deepEqual(l.errors, []);
    assert.equal(l.value.deployments[0]!.version, "{{VERSION}}");
    assert.equal(l.value.deployments[0]!.deploymentType, "Service");
    assert.equal(String(l.doc), text, "rendered back byte for byte");
  });

  it("resolve from --var, then .quix.yaml.variables, then the environment, and name the unresolved ones", () => {
    const lookup = placeholderLookup({ vars: { CPU: "300" }, file: { CPU: "100", MEMORY: "500" }, env: { MEMORY: "1", REPLICAS: "2" } });
    const r = resolvePlaceholders("cpu: {{CPU}}\nmemory: {{ MEMORY }}\nreplicas: {{REPLICAS}}\nurl: {{A}}-{{B}}\n", lookup);
    assert.equal(r.text, "cpu: 300\nmemory: 500\nreplicas: 2\nurl: {{A}}-{{B}}\n");
    assert.deepEqual(r.unresolved, ["A", "B"]);
    assert.deepEqual(r.resolved, ["CPU", "MEMORY", "REPLICAS"]);
  });

  it("type-check the resolved values where the placeholder stands", () => {
    const values = parseVariablesFile(project(".quix.yaml.variables")).values;
    const ok = loadDescriptor(V2, "quix.yaml", { resolve: placeholderLookup({ file: values }) });
    assert.deepEqual(ok.errors, []);
    assert.deepEqual(ok.value.deployments[0]!.resources, { cpu: 200, memory: 500, replicas: 2, form: "limits" });
    assert.equal(ok.value.topics[0]!.configuration.partitions, 2);
    assert.equal(ok.value.deployments[2]!.variables[0]!.value, "orders");
    const bad = loadDescriptor(V2, "quix.yaml", { resolve: placeholderLookup({ file: { ...values, REPLICAS: "two", DISABLED: "maybe" }, vars: {} }) });
    assert.deepEqual(where(bad.errors), ["18:17 wrong-type", "29:15 wrong-type"]);
    assert.match(bad.errors[0]!.message, /replicas must be a number, found text "two"/);
    const missing = loadDescriptor(V2, "quix.yaml", { resolve: placeholderLookup({ file: { CPU: "1" } }) });
    assert.ok(missing.errors.every((e) => e.code === "unresolved-placeholder"));
    assert.match(missing.errors[0]!.message, /\{\{MEMORY\}\}, which has no value/);
  });

  it(".quix.yaml.variables: KEY=VALUE lines, dotted keys, comments skipped, bad lines named", () => {
    const r = parseVariablesFile("# local values\nCPU=200\n\ndeployment.environment=develop\nURL='a=b'\nnot a line\n");
    assert.deepEqual(r.values, { CPU: "200", "deployment.environment": "develop", URL: "a=b" });
    assert.deepEqual(r.bad, [6]);
  });
});

describe("pipelineGraph of a v2.0 project", () => {
  it("links deployments through the topics their app.yaml defaults name", async () => {
    const { pipelineGraph } = await import("../../src/descriptor/index.js");
    const d = loadDescriptor(V2).value;
    const app = (a: string) => loadAppDescriptor(project(`${a}/app.yaml`)).value;
    const edges = (g: ReturnType<typeof pipelineGraph>) => g.edges.map((e) => `${e.from} -> ${e.to}`);
    const full = edges(pipelineGraph(d, (a) => (a === "DynamicConfiguration" ? undefined : app(a))));
    assert.ok(full.includes("deployment:Demo Data -> topic:f1-data"), full.join("\n"));
    assert.ok(full.includes("topic:f1-data -> deployment:Order processor"));
    assert.ok(full.includes("deployment:Order processor -> topic:processed-orders"));
    assert.ok(full.includes("topic:processed-orders -> deployment:Dashboard"));
    assert.ok(!edges(pipelineGraph(d)).includes("topic:processed-orders -> deployment:Dashboard"), "without app.yaml the inherited links are unknown");
  });
});

describe("keys Quix's own templates repeat", () => {
  it("count once, as their last value (template-predictive-maintenance lists replicationFactor twice)", () => {
    const text = "metadata:\n  version: 1.0\ntopics:\n  - name: t\n    configuration:\n      replicationFactor: 1\n      retentionInMinutes: 60\n      replicationFactor: 2\n";
    const l = loadDescriptor(text);
    assert.deepEqual(l.errors, []);
    assert.equal(l.value.topics[0]!.configuration.replicationFactor, 2);
    assert.equal(l.value.topics[0]!.configuration.retentionInMinutes, 60);
  });
});

describe("a global-variable group member as a placeholder", () => {
  // quix-docs deployments/variables-overview.md, "A complete example".
  const DOC = `metadata:
  version: 2.0
deployments:
  - name: Order processor
    application: order-processor
    deploymentType: Service
    resources:
      limits:
        cpu: {{CPU}}                              # project variable
        memory: {{MEMORY}}                        # project variable
      replicas: {{release-tiers:REPLICA_COUNT}}   # global-variable group member
    variables:
      - name: redis
        inputType: VariableGroup                  # the whole redis-config group
        variableGroupId: redis-config
        required: true
`;

  it("parses, and resolves from the exact token as .quix.yaml.variables names it", () => {
    const plain = loadDescriptor(DOC);
    assert.deepEqual(plain.errors, []);
    assert.deepEqual(
      plain.placeholders.map((p) => p.name),
      ["CPU", "MEMORY", "release-tiers:REPLICA_COUNT"],
    );
    const file = parseVariablesFile("CPU=200\nMEMORY=500\nrelease-tiers:REPLICA_COUNT=3\n").values;
    const r = loadDescriptor(DOC, "quix.yaml", { resolve: placeholderLookup({ file }) });
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.value.deployments[0]!.resources, { cpu: 200, memory: 500, replicas: 3, form: "limits" });
    assert.equal(String(plain.doc), DOC);
  });

  it("a required reference without its id or value is valid in the file (Quix checks it when it starts the deployment)", () => {
    assert.deepEqual(loadDescriptor(DOC.replace("        variableGroupId: redis-config\n", "")).errors, []);
    // InfluxCommunity/quix-anomaly-detection-example ships a required token left blank for the user.
    assert.deepEqual(loadDescriptor(DOC.replace("        variableGroupId: redis-config\n", "").replace("inputType: VariableGroup", "inputType: FreeText\n        value:")).errors, []);
  });
});

describe("a deployment of a library item without an application folder", () => {
  it("is valid with libraryItemId alone (as Quix writes it, e.g. PatrickMiraP/iac-test)", () => {
    const text = "metadata:\n  version: 1.0\ndeployments:\n  - name: Demo Data\n    deploymentType: Service\n    libraryItemId: 7abe02e1-1e75-4783-864c-46b930b42afe\n";
    const l = loadDescriptor(text);
    assert.deepEqual(l.errors, []);
    assert.equal(l.value.deployments[0]!.application, undefined);
    assert.equal(l.value.deployments[0]!.extra.libraryItemId, "7abe02e1-1e75-4783-864c-46b930b42afe");
    assert.deepEqual(where(loadDescriptor(text.replace("    libraryItemId: 7abe02e1-1e75-4783-864c-46b930b42afe\n", "")).errors), ["4:5 missing-field"]);
  });
});

describe("a placeholder in a comment", () => {
  it("is kept as text, not listed, and not reported unresolved", () => {
    const text = "# set {{CPU}} per environment\nmetadata:\n  version: 1.0 # or {{VERSION}}\ndeployments: []\n";
    const l = loadDescriptor(text, "quix.yaml", { resolve: placeholderLookup({}) });
    assert.deepEqual(l.errors, []);
    assert.deepEqual(l.placeholders, []);
    assert.equal(String(l.doc), text);
  });
});
