import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { deploymentEnvironment, formatDescriptorError, loadAppDescriptor, loadDescriptor } from "../../src/descriptor/index.js";

const fixture = (name: string) => readFileSync(new URL(`../fixtures/descriptor/${name}`, import.meta.url), "utf8");

// A small valid pipeline; tests change single lines of it, so every expected position is easy to check by eye.
const BASE = `metadata:
  version: 1.0
deployments:
  - name: source
    application: source
    version: v1
    deploymentType: Service
    resources:
      cpu: 200
      memory: 500
      replicas: 1
    variables:
      - name: output
        inputType: OutputTopic
        required: true
        value: ticks
  - name: ohlc
    application: ohlc
    version: v1
    deploymentType: Service
    resources:
      cpu: 200
      memory: 500
      replicas: 1
    variables:
      - name: input
        inputType: InputTopic
        required: true
        value: ticks
topics:
  - name: ticks
    persisted: false
    configuration:
      partitions: 1
      replicationFactor: 1
      retentionInMinutes: 60
      retentionInBytes: 1048576
`;

/** BASE with 1-based line `n` replaced by `lines` (none: deleted). */
function edit(text: string, n: number, ...lines: string[]): string {
  const all = text.split("\n");
  all.splice(n - 1, 1, ...lines);
  return all.join("\n");
}

/** `text` without lines `from`..`to` (1-based, inclusive). */
function drop(text: string, from: number, to: number): string {
  const all = text.split("\n");
  all.splice(from - 1, to - from + 1);
  return all.join("\n");
}

/** "line:col code" for every error, the shape most assertions compare. */
function where(text: string): string[] {
  return loadDescriptor(text, "quix.yaml").errors.map((e) => `${e.line}:${e.column} ${e.code}`);
}

describe("loadDescriptor: valid files", () => {
  it("accepts the base example", () => {
    assert.deepEqual(where(BASE), []);
  });

  it("accepts a descriptor in Quix's documented form, ignoring keys quixlab does not use", () => {
    const { value, errors } = loadDescriptor(fixture("quix-documented.yaml"), "quix.yaml");
    assert.deepEqual(errors, []);
    assert.equal(value.metadata.version, "1.0");
    assert.deepEqual(
      value.deployments.map((d) => d.name),
      ["Demo data source", "Starter transformation", "Dashboard", "Archive sink"],
    );
    const starter = value.deployments[1]!;
    assert.deepEqual(starter.resources, { cpu: 200, memory: 500, replicas: 2, form: "flat" });
    assert.equal(starter.version, "4f0c2d1");
    assert.equal(starter.desiredStatus, "Running");
    assert.deepEqual(
      starter.variables.map((v) => [v.name, v.inputType, v.value]),
      [
        ["input", "InputTopic", "raw-events"],
        ["output", "OutputTopic", "transformed-events"],
      ],
    );
    // Numbers written unquoted reach the step as the text that was written (environment variables are strings).
    assert.equal(value.deployments[0]!.variables[1]!.value, "100");
    assert.equal(value.deployments[2]!.variables[1]!.secretKey, "dashboard-api-key");
    assert.equal(value.deployments[3]!.image, "example/archive-sink:1.2.3");
    assert.equal(value.deployments[3]!.application, undefined);
    assert.deepEqual(value.topics[1], {
      name: "transformed-events",
      persisted: true,
      configuration: { partitions: 2, replicationFactor: 2, retentionInMinutes: -1, retentionInBytes: 262144000 },
    });
  });

  it("accepts the DESIGN.md form with both resource layouts", () => {
    const { value, errors } = loadDescriptor(fixture("design-form.yaml"), "quix.yaml");
    assert.deepEqual(errors, []);
    const [ticks, ohlc, backfill] = value.deployments;
    assert.deepEqual(ticks!.resources, { cpu: 100, memory: 256, replicas: 1, form: "flat" });
    assert.deepEqual(ohlc!.resources, { cpu: 250, memory: 512, replicas: 3, form: "limits" });
    // The limits form often leaves replicas out: it means one.
    assert.deepEqual(backfill!.resources, { cpu: 500, memory: 1024, replicas: 1, form: "limits" });
    assert.equal(backfill!.deploymentType, "Job");
    assert.equal(ticks!.variables.find((v) => v.name === "COINBASE_KEY")!.inputType, "HiddenText");
  });

  it("accepts the heavily commented fixture", () => {
    assert.deepEqual(where(fixture("commented.yaml")), []);
  });

  it("returns a deeply frozen value", () => {
    const { value } = loadDescriptor(BASE);
    assert.ok(Object.isFrozen(value.deployments[0]!.resources));
    assert.throws(() => {
      (value.deployments as unknown as unknown[]).push({});
    }, TypeError);
  });

  it("defaults a topic's missing configuration and an undeclared replicas", () => {
    const { value, errors } = loadDescriptor(drop(drop(BASE, 33, 37), 11, 11));
    assert.deepEqual(errors, []);
    assert.equal(value.deployments[0]!.resources.replicas, 1);
    assert.deepEqual(value.topics[0]!.configuration, { partitions: 1, replicationFactor: 2, retentionInMinutes: 1440, retentionInBytes: 262144000 });
  });
});

describe("loadDescriptor: each rule, located", () => {
  it("unknown inputType, with a case-insensitive suggestion", () => {
    const errors = loadDescriptor(edit(BASE, 27, "        inputType: Inputtopic"), "quix.yaml").errors;
    assert.deepEqual(errors.map((e) => `${e.line}:${e.column} ${e.code}`), ["27:20 unknown-input-type"]);
    assert.equal(errors[0]!.path, "deployments[1].variables[0].inputType");
    assert.match(errors[0]!.remedy, /did you mean InputTopic\?/);
    assert.deepEqual(where(edit(BASE, 27, "        inputType: Stream")), ["27:20 unknown-input-type"]);
  });

  it("unknown deploymentType and desiredStatus", () => {
    assert.deepEqual(where(edit(BASE, 20, "    deploymentType: Daemon")), ["20:21 unknown-deployment-type"]);
    assert.deepEqual(where(edit(BASE, 20, "    deploymentType: Service", "    desiredStatus: Paused")), ["21:20 unknown-desired-status"]);
  });

  it("duplicate deployment name, pointing at the second and naming the first", () => {
    const errors = loadDescriptor(edit(BASE, 17, "  - name: source")).errors;
    assert.deepEqual(errors.map((e) => `${e.line}:${e.column} ${e.code}`), ["17:11 duplicate-deployment"]);
    assert.match(errors[0]!.message, /"source" \(first defined at line 4\)/);
  });

  it("a deployment reading a topic nobody writes and topics: does not declare", () => {
    const errors = loadDescriptor(edit(BASE, 29, "        value: tickz"), "quix.yaml").errors;
    assert.deepEqual(errors.map((e) => `${e.line}:${e.column} ${e.code}`), ["29:16 unknown-topic"]);
    assert.equal(
      formatDescriptorError(errors[0]!),
      'quix.yaml:29:16  deployment "ohlc" reads topic "tickz" (variable "input"), which no deployment writes and topics: does not declare — declare "tickz" under topics:, add the deployment that writes it (an OutputTopic variable), or fix the name',
    );
  });

  it("a topic that is declared, or written by a deployment, is enough", () => {
    // Declared but written by nobody (fed from outside the pipeline): fine.
    assert.deepEqual(where(edit(BASE, 16, "        value: other")), []);
    // Written but not declared: fine.
    assert.deepEqual(where(edit(BASE, 31, "  - name: not-ticks")), []);
  });

  it("replicas below 1", () => {
    assert.deepEqual(where(edit(BASE, 24, "      replicas: 0")), ["24:17 invalid-replicas"]);
    assert.deepEqual(where(edit(BASE, 24, "      replicas: 1.5")), ["24:17 invalid-replicas"]);
  });

  it("cpu and memory that are not positive, all reported", () => {
    const text = edit(edit(BASE, 22, "      cpu: -5"), 23, "      memory: 0");
    assert.deepEqual(where(text), ["22:12 invalid-resource", "23:15 invalid-resource"]);
    const e = loadDescriptor(text).errors[0]!;
    assert.equal(e.message, 'deployment "ohlc": cpu must be a positive whole number of millicores, found -5');
    assert.equal(e.remedy, "set cpu: to a positive number of millicores, e.g. 200");
  });

  it("the same rules apply inside resources.limits", () => {
    const limits = edit(drop(BASE, 22, 23), 22, "      limits:", "        cpu: 0", "        memory: 512");
    assert.deepEqual(where(limits), ["23:14 invalid-resource"]);
    const both = edit(drop(BASE, 22, 23), 22, "      cpu: 100", "      limits:", "        cpu: 200", "        memory: 500");
    assert.deepEqual(where(both), ["22:12 conflicting-resources"]);
  });

  it("missing required fields, at the mapping that lacks them", () => {
    assert.deepEqual(where(edit(BASE, 20)), ["17:5 missing-field"]);
    // resources and each of its fields are optional in Quix (its defaults apply): not an error.
    const noResources = loadDescriptor(drop(BASE, 21, 24));
    assert.deepEqual(noResources.errors, []);
    assert.deepEqual(noResources.value.deployments[1]!.resources, { cpu: 200, memory: 500, replicas: 1, form: "flat" });
    assert.equal(noResources.value.deployments[1]!.resourcesDeclared, false);
    assert.equal(noResources.value.deployments[0]!.resourcesDeclared, true);
    assert.deepEqual(where(edit(BASE, 9)), [], "cpu missing: Quix's default");
    assert.equal(loadDescriptor(edit(BASE, 9)).value.deployments[0]!.resources.cpu, 200);
    assert.deepEqual(where(edit(BASE, 18)), ["17:5 missing-field"], "application missing");
    assert.deepEqual(where(edit(edit(BASE, 26, "      - inputType: InputTopic"), 27)), ["26:9 missing-field"], "variable name missing");
    assert.deepEqual(where(edit(BASE, 2)), ["1:1 missing-field"], "metadata.version missing");
    assert.deepEqual(where(edit(BASE, 2, "  version:")), ["2:3 missing-field"], "metadata.version empty");
    // A required variable without a value only stops Quix from starting the deployment: the file is valid.
    assert.deepEqual(where(edit(BASE, 29)), [], "a required variable without a value");
  });

  it("wrong types", () => {
    assert.deepEqual(where(edit(BASE, 28, '        required: "yes"')), ["28:19 wrong-type"]);
    assert.deepEqual(where(edit(BASE, 32, "    persisted: 1")), ["32:16 wrong-type"]);
    assert.deepEqual(where(edit(BASE, 22, "      cpu: 200m")), ["22:12 wrong-type"]);
    assert.deepEqual(where(edit(BASE, 4, "  - name: 42")), ["4:11 wrong-type"]);
    assert.deepEqual(where(edit(drop(BASE, 13, 16), 12, "    variables: none")), ["12:16 wrong-type"]);
    assert.deepEqual(where(edit(drop(BASE, 32, 37), 31, "  - ticks")), ["31:5 wrong-type"]);
    assert.match(loadDescriptor(edit(BASE, 22, "      cpu: 200m")).errors[0]!.remedy, /millicores/);
  });

  it("topic configuration numbers", () => {
    assert.deepEqual(where(edit(BASE, 34, "      partitions: 0")), ["34:19 invalid-topic-config"]);
    assert.deepEqual(where(edit(BASE, 35, "      replicationFactor: -1")), ["35:26 invalid-topic-config"]);
    assert.deepEqual(where(edit(BASE, 36, "      retentionInMinutes: -2")), ["36:27 invalid-topic-config"]);
    assert.deepEqual(where(edit(BASE, 37, "      retentionInBytes: 1.5")), ["37:25 invalid-topic-config"]);
    // -1 means "no limit" for the two retention settings.
    assert.deepEqual(where(edit(edit(BASE, 36, "      retentionInMinutes: -1"), 37, "      retentionInBytes: -1")), []);
  });

  it("duplicate topics and variables, and invalid topic names", () => {
    assert.deepEqual(where(`${BASE}  - name: ticks\n`), ["38:11 duplicate-topic"]);
    assert.deepEqual(where(edit(BASE, 13, "      - name: output", "        inputType: FreeText", "      - name: output")), ["15:15 duplicate-variable"]);
    assert.deepEqual(where(edit(BASE, 16, "        value: ticks!")), ["16:16 invalid-topic-name"]);
  });

  it("collects every error in one pass, in document order", () => {
    const text = edit(edit(edit(edit(BASE, 37, "      retentionInBytes: 0"), 27, "        inputType: Inputtopic"), 24, "      replicas: 0"), 7, "    deploymentType: Daemon");
    assert.deepEqual(where(text), ["7:21 unknown-deployment-type", "24:17 invalid-replicas", "27:20 unknown-input-type", "37:25 invalid-topic-config"]);
    const many = loadDescriptor(fixture("invalid-many.yaml"), "quix.yaml").errors;
    assert.deepEqual(
      many.map((e) => `${e.line}:${e.column} ${e.code}`),
      [
        "6:21 unknown-deployment-type",
        "9:17 invalid-replicas",
        "14:20 unknown-input-type",
        "15:19 wrong-type",
        "21:12 invalid-resource",
        "22:15 invalid-resource",
        "17:11 duplicate-deployment",
        "23:5 missing-field",
        "37:19 invalid-topic-config",
        "33:16 unknown-topic",
      ],
    );
  });

  it("YAML that does not parse, located", () => {
    const errors = loadDescriptor("metadata:\n  version: 1.0\ndeployments:\n\t- name: x\n", "q.yaml").errors;
    assert.deepEqual(errors.map((e) => `${e.line}:${e.column} ${e.code}`), ["4:1 yaml-syntax"]);
    assert.match(errors[0]!.message, /^not valid YAML: Tabs are not allowed as indentation$/);
    // A repeated key is not a syntax error (Quix's templates have some): the last one counts, and is checked.
    assert.deepEqual(where("metadata:\n  version: 1.0\nmetadata: 2\n"), ["3:11 wrong-type"]);
  });

  it("a file that is empty or not a mapping", () => {
    assert.deepEqual(where(""), ["1:1 not-a-mapping"]);
    assert.deepEqual(where("- a\n- b\n"), ["1:1 not-a-mapping"]);
  });
});

describe("loadAppDescriptor", () => {
  it("accepts a complete app.yaml", () => {
    const { value, errors } = loadAppDescriptor(fixture("app.yaml"), "ohlc-1m/app.yaml");
    assert.deepEqual(errors, []);
    assert.equal(value.runEntryPoint, "main.ts");
    assert.equal(value.defaultFile, "feature.ts");
    assert.deepEqual(
      value.variables.map((v) => [v.name, v.inputType, v.defaultValue, v.required]),
      [
        ["input", "InputTopic", "ticks", true],
        ["output", "OutputTopic", "candles-1m", true],
        ["grace_ms", "FreeText", "2000", false],
      ],
    );
  });

  it("accepts an app.yaml without runEntryPoint; reports unknown input types and malformed defaults", () => {
    const text = fixture("app.yaml")
      .replace("runEntryPoint: main.ts\n", "")
      .replace("inputType: FreeText", "inputType: Number")
      .replace("defaultValue: candles-1m", "defaultValue: [a, b]");
    const errors = loadAppDescriptor(text, "app.yaml").errors;
    assert.deepEqual(
      errors.map((e) => `${e.line}:${e.column} ${e.code}`),
      ["12:19 wrong-type", "15:16 unknown-input-type"],
    );
    assert.equal(loadAppDescriptor(fixture("app.yaml").replace("runEntryPoint: main.ts\n", "")).value.runEntryPoint, undefined);
  });
});

describe("deploymentEnvironment", () => {
  it("gives app.yaml defaults overridden by the deployment's values, under the variables' names", () => {
    const ohlc = loadDescriptor(fixture("design-form.yaml")).value.deployments[1]!;
    const app = loadAppDescriptor(fixture("app.yaml")).value;
    const withApp = {
      ...app,
      variables: [
        ...app.variables.map((v) => (v.name === "grace_ms" ? { ...v, defaultValue: "5000" } : v)),
        { name: "LOG_LEVEL", inputType: "FreeText" as const, defaultValue: "info", required: false },
      ],
    };
    // REDIS_PASSWORD is a Secret given by secretKey: not resolved here.
    assert.deepEqual(deploymentEnvironment(ohlc, withApp), { input: "ticks", output: "candles-1m", grace_ms: "2000", LOG_LEVEL: "info" });
    assert.deepEqual(deploymentEnvironment(ohlc), { input: "ticks", output: "candles-1m", grace_ms: "2000" });
  });
});
