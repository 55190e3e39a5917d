import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { type Document, parseDocument } from "yaml";
import {
  type DeploymentSpec,
  loadDescriptor,
  newDescriptor,
  nextVersion,
  removeDeployment,
  TOPIC_DEFAULTS,
  upsertDeployment,
  upsertTopic,
} from "../../src/descriptor/index.js";

const fixture = (name: string) => readFileSync(new URL(`../fixtures/descriptor/${name}`, import.meta.url), "utf8");

/** String(doc), checked to be valid and to mean exactly what the edited document means. */
function render(doc: Document): string {
  const text = String(doc);
  const reparsed = parseDocument(text);
  assert.deepEqual(reparsed.errors, []);
  assert.deepEqual(reparsed.toJS(), doc.toJS());
  assert.deepEqual(loadDescriptor(text).errors, []);
  return text;
}

/** Replace exactly one occurrence of `find` (fails the test when it is missing or ambiguous). */
function replaceOnce(text: string, find: string, by: string): string {
  const at = text.indexOf(find);
  assert.ok(at >= 0 && text.indexOf(find, at + 1) < 0, `expected exactly one ${JSON.stringify(find)}`);
  return text.slice(0, at) + by + text.slice(at + find.length);
}

const hourly: DeploymentSpec = {
  name: "ohlc-1h",
  application: "ohlc-1h",
  deploymentType: "Service",
  resources: { cpu: 200, memory: 500 },
  variables: [
    { name: "input", inputType: "InputTopic", required: true, value: "ticks" },
    { name: "output", inputType: "OutputTopic", required: true, value: "candles-1h" },
  ],
};

describe("String(doc) without edits", () => {
  for (const name of ["commented.yaml", "quix-documented.yaml", "design-form.yaml", "invalid-many.yaml"]) {
    it(`gives back ${name} byte for byte`, () => {
      const text = fixture(name);
      assert.equal(String(loadDescriptor(text).doc), text);
    });
  }
});

describe("edits keep every byte outside the edited nodes", () => {
  const original = fixture("commented.yaml");

  it("updates in place, appends new entries, and leaves comments, blank lines and odd spacing alone", () => {
    const { doc, value } = loadDescriptor(original);
    const old = value.deployments.find((d) => d.name === "ohlc-1m")!;
    assert.equal(
      upsertDeployment(doc, {
        name: "ohlc-1m",
        version: nextVersion(old.version),
        deploymentType: "Service",
        resources: { cpu: 200, memory: 500, replicas: 2 },
        variables: [{ name: "grace_ms", inputType: "FreeText", value: "2000" }],
      }),
      "updated",
    );
    assert.equal(upsertDeployment(doc, hourly), "inserted");
    assert.equal(upsertTopic(doc, { name: "candles-1h" }), "inserted");

    let expected = replaceOnce(original, "    version: v2\n", "    version: v3\n");
    expected = replaceOnce(expected, "        replicas: 1   # scale later\n", "        replicas: 2   # scale later\n");
    expected = replaceOnce(
      expected,
      "        value: candles-1m   # consumed by the dashboard\n",
      "        value: candles-1m   # consumed by the dashboard\n" +
        "      - name: grace_ms\n        inputType: FreeText\n        description: ''\n        required: false\n        value: '2000'\n",
    );
    // New nodes follow the file's detected style (4-space mapping indent, '' quotes) and go before the
    // trailing comment of their list.
    expected = replaceOnce(
      expected,
      "  # add new deployments above this line\n",
      [
        "  - name: ohlc-1h",
        "    application: ohlc-1h",
        "    version: v1",
        "    deploymentType: Service",
        "    resources:",
        "        cpu: 200",
        "        memory: 500",
        "        replicas: 1",
        "    variables:",
        "        - name: input",
        "          inputType: InputTopic",
        "          description: ''",
        "          required: true",
        "          value: ticks",
        "        - name: output",
        "          inputType: OutputTopic",
        "          description: ''",
        "          required: true",
        "          value: candles-1h",
        "  # add new deployments above this line",
        "",
      ].join("\n"),
    );
    // Topics here are separated by blank lines, so the new one is too.
    expected = replaceOnce(
      expected,
      "        retentionInBytes: -1\n# end of file\n",
      "        retentionInBytes: -1\n\n  - name: candles-1h\n    persisted: false\n    configuration:\n" +
        "        partitions: 1\n        replicationFactor: 2\n        retentionInMinutes: 1440\n        retentionInBytes: 262144000\n# end of file\n",
    );
    assert.equal(render(doc), expected);
  });

  it("changes one value of a flow mapping without touching its line's comment", () => {
    const { doc } = loadDescriptor(original);
    upsertDeployment(doc, { name: "sink", deploymentType: "Job", resources: { cpu: 150, memory: 128 } });
    assert.equal(
      render(doc),
      replaceOnce(original, "resources: {cpu: 100, memory: 128, replicas: 1}   #", "resources: {cpu: 150, memory: 128, replicas: 1}   #"),
    );
  });

  it("removes a deployment and only its lines", () => {
    const { doc } = loadDescriptor(original);
    assert.equal(removeDeployment(doc, "sink"), true);
    assert.equal(removeDeployment(doc, "no-such-deployment"), false);
    const start = original.indexOf("  - name: sink\n");
    const end = original.indexOf("  # add new deployments above this line\n");
    // The sink's input was the only reader of candles-1m; removing it leaves a valid file.
    assert.equal(render(doc), original.slice(0, start) + original.slice(end));
  });

  it("is a no-op when the deployment already matches", () => {
    const { doc } = loadDescriptor(original);
    const outcome = upsertDeployment(doc, {
      name: "ohlc-1m",
      application: "ohlc-1m",
      version: "v2",
      deploymentType: "Service",
      resources: { cpu: 200, memory: 500, replicas: 1 },
      desiredStatus: "Running",
      variables: [{ name: "input", inputType: "InputTopic", required: true, value: "ticks" }],
    });
    assert.equal(outcome, "unchanged");
    assert.equal(upsertTopic(doc, { name: "ticks" }), "unchanged");
    assert.equal(String(doc), original);
  });
});

describe("upsertDeployment", () => {
  it("keeps the resources.limits form when updating sizes", () => {
    const text = fixture("design-form.yaml");
    const { doc } = loadDescriptor(text);
    upsertDeployment(doc, { name: "ohlc-1m", deploymentType: "Service", resources: { cpu: 300, memory: 512, replicas: 4 } });
    const out = render(doc);
    assert.equal(out, replaceOnce(replaceOnce(text, "        cpu: 250\n", "        cpu: 300\n"), "      replicas: 3\n", "      replicas: 4\n"));
    assert.deepEqual(loadDescriptor(out).value.deployments[1]!.resources, { cpu: 300, memory: 512, replicas: 4, form: "limits" });
  });

  it("updates variable values in place and keeps hand-added variables unless asked to prune", () => {
    const text = fixture("design-form.yaml");
    const spec: DeploymentSpec = {
      name: "coinbase-ticks",
      deploymentType: "Service",
      resources: { cpu: 100, memory: 256 },
      variables: [
        { name: "output", inputType: "OutputTopic", required: true, value: "ticks" },
        { name: "products", inputType: "FreeText", required: true, value: "ETH-USD" },
      ],
    };
    const kept = loadDescriptor(text);
    upsertDeployment(kept.doc, spec);
    assert.equal(render(kept.doc), replaceOnce(text, "value: ETH-USD,BTC-USD\n", "value: ETH-USD\n"));

    const pruned = loadDescriptor(text);
    upsertDeployment(pruned.doc, spec, { pruneVariables: true });
    const value = loadDescriptor(render(pruned.doc)).value;
    assert.deepEqual(
      value.deployments[0]!.variables.map((v) => v.name),
      ["output", "products"],
    );
  });

  it("treats `version: 1.0` as equal to the text 1.0", () => {
    const text = "metadata:\n  version: 1.0\ndeployments:\n  - name: a\n    application: a\n    version: 1.0\n    deploymentType: Job\n    resources:\n      cpu: 1\n      memory: 1\n";
    const { doc } = loadDescriptor(text);
    assert.equal(upsertDeployment(doc, { name: "a", version: "1.0", deploymentType: "Job", resources: { cpu: 1, memory: 1 } }), "unchanged");
    upsertDeployment(doc, { name: "a", version: "1.1", deploymentType: "Job", resources: { cpu: 1, memory: 1 } });
    // Quoted, or it would read back as a number.
    assert.equal(render(doc), text.replace("    version: 1.0\n", "    version: '1.1'\n"));
  });

  it("adds to a file that does not end with a newline", () => {
    const text = "metadata:\n  version: 1.0\ntopics:\n  - name: a";
    const { doc } = loadDescriptor(text);
    upsertTopic(doc, { name: "b", configuration: { partitions: 3 } });
    const out = render(doc);
    assert.ok(out.startsWith(`${text}\n  - name: b\n`), out);
    assert.deepEqual(loadDescriptor(out).value.topics[1]!.configuration, { ...TOPIC_DEFAULTS, partitions: 3 });
  });

  it("creates deployments: and topics: when a file has neither", () => {
    const text = "# only metadata so far\nmetadata:\n  version: 1.0\n";
    const { doc } = loadDescriptor(text);
    upsertDeployment(doc, { ...hourly, variables: [{ name: "output", inputType: "OutputTopic", value: "candles-1h" }] });
    upsertTopic(doc, { name: "candles-1h" });
    const out = render(doc);
    assert.ok(out.startsWith(text), out);
    assert.deepEqual(
      loadDescriptor(out).value.deployments.map((d) => d.name),
      ["ohlc-1h"],
    );
  });
});

describe("upsertTopic", () => {
  it("adds a missing topic with the defaults and updates only the given fields of an existing one", () => {
    const text = fixture("design-form.yaml");
    const { doc } = loadDescriptor(text);
    assert.equal(upsertTopic(doc, { name: "ticks", configuration: { partitions: 6 } }), "updated");
    assert.equal(render(doc), replaceOnce(text, "      partitions: 3\n      replicationFactor: 1\n      retentionInMinutes: 60", "      partitions: 6\n      replicationFactor: 1\n      retentionInMinutes: 60"));
  });
});

describe("nextVersion", () => {
  const cases: [string | undefined, string][] = [
    [undefined, "v1"],
    ["", "v1"],
    ["latest", "v1"],
    ["v1", "v2"],
    ["v1.2", "v1.3"],
    ["features-v1.09", "features-v1.10"],
    ["3", "4"],
    ["v9-beta", "v10-beta"],
    ["abcdef", "abcdef-2"],
  ];
  for (const [old, next] of cases) it(`${JSON.stringify(old)} → ${next}`, () => assert.equal(nextVersion(old), next));
});

describe("newDescriptor", () => {
  it("is a valid, commented template that keeps its comments when filled in", () => {
    const text = newDescriptor();
    const { doc, value, errors } = loadDescriptor(text);
    assert.deepEqual(errors, []);
    assert.deepEqual([value.deployments.length, value.topics.length], [0, 0]);
    upsertDeployment(doc, hourly);
    upsertTopic(doc, { name: "ticks" });
    upsertTopic(doc, { name: "candles-1h" });
    const out = render(doc);
    const comments = (s: string) => s.split("\n").filter((l) => l.startsWith("#"));
    assert.ok(comments(text).length >= 5);
    assert.deepEqual(comments(out), comments(text));
    assert.ok(out.startsWith(text.slice(0, text.indexOf("deployments:"))));
  });
});
