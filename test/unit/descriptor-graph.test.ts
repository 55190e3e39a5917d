import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import {
  type Deployment,
  type Descriptor,
  loadDescriptor,
  pipelineGraph,
  renderGraphText,
  renderMermaid,
  TOPIC_DEFAULTS,
} from "../../src/descriptor/index.js";

const fixture = (name: string) => readFileSync(new URL(`../fixtures/descriptor/${name}`, import.meta.url), "utf8");

/** A deployment that reads and writes the given topics. */
function dep(name: string, reads: string[] = [], writes: string[] = []): Deployment {
  return {
    name,
    application: name,
    deploymentType: "Service",
    resources: { cpu: 100, memory: 100, replicas: 1, form: "flat" },
    variables: [
      ...reads.map((t, i) => ({ name: `in${i}`, inputType: "InputTopic" as const, required: true, value: t })),
      ...writes.map((t, i) => ({ name: `out${i}`, inputType: "OutputTopic" as const, required: true, value: t })),
    ],
  };
}

function pipeline(deployments: Deployment[], declared: string[] = []): Descriptor {
  return {
    metadata: { version: "1.0" },
    deployments,
    topics: declared.map((name) => ({ name, persisted: false, configuration: TOPIC_DEFAULTS })),
  };
}

describe("pipelineGraph", () => {
  it("links deployments through the topics their variables name", () => {
    const g = pipelineGraph(loadDescriptor(fixture("quix-documented.yaml")).value);
    assert.deepEqual(
      g.nodes.map((n) => n.id),
      [
        "deployment:Demo data source",
        "deployment:Starter transformation",
        "deployment:Dashboard",
        "deployment:Archive sink",
        "topic:raw-events",
        "topic:transformed-events",
        "topic:external-archive",
      ],
    );
    assert.deepEqual(
      g.edges.map((e) => `${e.from} -${e.variable}-> ${e.to}`),
      [
        "deployment:Demo data source -output-> topic:raw-events",
        "topic:raw-events -input-> deployment:Starter transformation",
        "deployment:Starter transformation -output-> topic:transformed-events",
        "topic:transformed-events -input-> deployment:Dashboard",
        "topic:external-archive -input-> deployment:Archive sink",
      ],
    );
    assert.deepEqual(g.cycles, []);
    // external-archive has no writer here but is declared: it is fed from outside, not dangling.
    assert.deepEqual(g.danglingTopics, []);
  });

  it("finds cycles, including a step that reads its own output", () => {
    const g = pipelineGraph(pipeline([dep("a", ["x"], ["y"]), dep("b", ["y"], ["x"]), dep("c", ["z"], ["z"]), dep("d", ["y"], ["w"])]));
    assert.deepEqual(g.cycles, [
      ["deployment:a", "topic:y", "deployment:b", "topic:x"],
      ["deployment:c", "topic:z"],
    ]);
  });

  it("reports dangling topics: unwritten reads are errors, unread writes and unused declarations are info", () => {
    const g = pipelineGraph(pipeline([dep("src", [], ["raw"]), dep("calc", ["raw", "missing"], ["out"])], ["spare"]));
    assert.deepEqual(
      g.danglingTopics.map((t) => [t.topic, t.problem, t.severity, t.readers, t.writers]),
      [
        ["missing", "unwritten", "error", ["calc"], []],
        ["out", "unread", "info", [], ["calc"]],
        ["spare", "unused", "info", [], []],
      ],
    );
  });
});

describe("renderings", () => {
  const g = pipelineGraph(pipeline([dep("src", [], ["raw"]), dep("calc", ["raw", "missing"], ["out", "late"]), dep("sink", ["out"])]));

  it("draws a text tree from the sources, with notes", () => {
    assert.equal(
      renderGraphText(g),
      [
        "pipeline: 3 deployments, 4 topics",
        "",
        "[src] Service",
        "└─▶ (raw) undeclared",
        "    └─▶ [calc] Service",
        "        ├─▶ (out) undeclared",
        "        │   └─▶ [sink] Service",
        "        └─▶ (late) undeclared",
        "(missing) undeclared",
        "└─▶ [calc] ↑ see above",
        "",
        "notes:",
        '  error: topic "missing" is read by "calc" but written by no deployment and not declared in topics:',
        '  info: topic "late" is written by "calc" and read by no deployment',
        "",
      ].join("\n"),
    );
  });

  it("draws cycles that have no source", () => {
    const text = renderGraphText(pipelineGraph(pipeline([dep("a", ["x"], ["y"]), dep("b", ["y"], ["x"])], ["x", "y"])));
    assert.match(text, /^\[a\] Service\n└─▶ \(y\)\n {4}└─▶ \[b\] Service\n {8}└─▶ \(x\)\n {12}└─▶ \[a\] ↑ see above$/m);
    assert.match(text, /cycles:\n {2}\[a\] → \(y\) → \[b\] → \(x\) → \[a\]\n/);
  });

  it("writes Mermaid flowchart LR, marking unwritten topics", () => {
    assert.equal(
      renderMermaid(g),
      [
        "flowchart LR",
        '  d0["src"]',
        '  d1["calc"]',
        '  d2["sink"]',
        '  t0(["raw"])',
        '  t1(["missing"])',
        '  t2(["out"])',
        '  t3(["late"])',
        "  d0 -->|out0| t0",
        "  t0 -->|in0| d1",
        "  t1 -->|in1| d1",
        "  d1 -->|out0| t2",
        "  d1 -->|out1| t3",
        "  t2 -->|in0| d2",
        "  classDef dangling stroke:#d33,stroke-width:2px,stroke-dasharray:4",
        "  class t1 dangling",
        "",
      ].join("\n"),
    );
    assert.match(renderMermaid(pipelineGraph(pipeline([dep('say "hi"')]))), /d0\["say #quot;hi#quot;"\]/);
  });
});
