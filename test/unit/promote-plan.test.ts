import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { DescriptorInvalidError, loadAppDescriptor, loadDescriptor, pipelineGraph, renderGraphText, TOPIC_DEFAULTS } from "../../src/descriptor/index.js";
import { InputError } from "../../src/errors/index.js";
import { type Notebook, parseNotebook } from "../../src/notebook/model.js";
import { isDeploymentTag, type PromoteInput, type PromotePlan, planPromote, promotedSource, UNCOMMITTED, withQuixlabDependency, withVendoredLock } from "../../src/promote/plan.js";
import { readTemplate } from "../../src/promote/template.js";
import { changelogTopic } from "../../src/stream/changelog.js";
import { keepsEveryLine } from "../helpers/text.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const fixture = (p: string) => readFileSync(`${root}test/fixtures/promote/${p}`, "utf8");
const ohlcText = readFileSync(`${root}notebooks/ohlc.ipynb`, "utf8");
const ohlc = parseNotebook(ohlcText, "notebooks/ohlc.ipynb");
const custom = parseNotebook(readFileSync(`${root}notebooks/custom-feature.ipynb`, "utf8"), "notebooks/custom-feature.ipynb");
const template = readTemplate("app");
const versions = { quixlab: "0.1.0", tsx: "^4.20.0", typescript: "~5.8.3", "@types/node": "^20.19.0" };
const commented = fixture("quix.yaml");
/** Versions promote is handed: commit SHAs of a clean tree, one per promote. */
const [SHA1, SHA2, SHA3] = ["1", "2", "3"].map((d) => d.repeat(40)) as [string, string, string];

function input(over: Partial<PromoteInput> = {}): PromoteInput {
  return {
    notebook: ohlc,
    notebookPath: "notebooks/ohlc.ipynb",
    exportName: "ohlc1m",
    deployment: "candles-1m",
    descriptorText: commented,
    appDir: "candles-1m",
    existingFiles: {},
    template,
    versions,
    newVersion: SHA1,
    ...over,
  };
}

/** The app folder as a plan leaves it: `existingFiles` for the next plan. */
function filesAfter(plan: PromotePlan, before: Record<string, string | Buffer> = {}): Record<string, string | Buffer> {
  const out = { ...before };
  for (const f of plan.files) out[f.path.slice(plan.appDir.length + 1)] = f.content;
  return out;
}

/** The notebook with the text of one cell's source replaced. */
function editCell(nb: Notebook, id: string, from: string, to: string): Notebook {
  const cells = nb.cells.map((c) => {
    if (c.id !== id) return c;
    assert.ok(c.source.includes(from), `cell ${id} contains ${from}`);
    return { ...c, source: c.source.replace(from, to) };
  });
  return { ...nb, cells };
}

describe("planPromote: a feature with early results", () => {
  it('declares <output>.updates and passes it as the step\'s `updates` variable (emit "update")', () => {
    const plan = planPromote(input({ updates: true }));
    const app = loadAppDescriptor(plan.files.find((f) => f.path.endsWith("app.yaml"))!.content as string, "app.yaml");
    assert.deepEqual(app.errors, []);
    assert.deepEqual(app.value.variables.find((v) => v.name === "updates")?.defaultValue, "candles-1m.updates");
    const loaded = loadDescriptor(plan.descriptorAfter, "quix.yaml");
    assert.deepEqual(loaded.errors, []);
    const dep = loaded.value.deployments.find((d) => d.name === "candles-1m")!;
    assert.deepEqual(dep.variables.find((v) => v.name === "updates")?.value, "candles-1m.updates");
    assert.ok(loaded.value.topics.some((t) => t.name === "candles-1m.updates"), "the topic is declared, so Quix creates it");
    // Without early results, neither.
    const plain = planPromote(input());
    assert.ok(!plain.descriptorAfter.includes(".updates"));
  });
});

describe("planPromote: a first promote", () => {
  const plan = planPromote(input({ params: { threshold: 5 } }));

  it("plans every file of the app folder, all new", () => {
    assert.deepEqual(plan.files.map((f) => f.path).sort(), [
      "candles-1m/.dockerignore",
      "candles-1m/Dockerfile",
      "candles-1m/app.yaml",
      "candles-1m/feature.ts",
      "candles-1m/main.ts",
      "candles-1m/package.json",
      "candles-1m/tsconfig.json",
    ]);
    assert.ok(plan.files.every((f) => f.action === "create" && f.previous === null));
    for (const f of plan.files) assert.doesNotMatch(f.content, /\{\{/, `${f.path} has no unfilled placeholder`);
    assert.equal(plan.noop, false);
    assert.equal(plan.version, SHA1);
    assert.equal(plan.source, "notebooks/ohlc.ipynb#ohlc1m");
  });

  it("writes the extracted module as feature.ts, with a header naming notebook and export", () => {
    const code = plan.files.find((f) => f.path.endsWith("feature.ts"))!.content;
    assert.equal(code, plan.extraction.code);
    assert.deepEqual(promotedSource(code), { notebook: "notebooks/ohlc.ipynb", exportName: "ohlc1m", source: "notebooks/ohlc.ipynb#ohlc1m" });
    assert.match(code, /const ohlc1m = defineFeature\(/);
    assert.match(code, /export \{ ohlc1m \};\n$/);
    assert.doesNotMatch(code, /tslab|console\.log/);
  });

  it("main.ts runs that export with the stream runtime, configured from the environment", () => {
    const main = plan.files.find((f) => f.path.endsWith("main.ts"))!.content;
    assert.match(main, /import \{ ohlc1m as feature \} from "\.\/feature\.js";/);
    assert.match(main, /import \{[^}]*resolveStepConfig[^}]*runStep[^}]*\} from "quixlab";/);
    // The async form: on Quix Cloud the connection comes from the Portal API (src/kafka/quix/).
    assert.match(main, /await resolveStepConfig\(process\.env/);
  });

  it("app.yaml is a valid app descriptor with the topics and the feature's parameters", () => {
    const text = plan.files.find((f) => f.path.endsWith("app.yaml"))!.content;
    const app = loadAppDescriptor(text, "app.yaml");
    assert.deepEqual(app.errors, []);
    assert.equal(app.value.name, "candles-1m");
    assert.equal(app.value.language, "nodejs", "what Quix's Node templates write");
    assert.equal(app.value.runEntryPoint, "main.ts");
    assert.equal(app.value.defaultFile, "feature.ts");
    assert.equal(app.value.dockerfile, "Dockerfile");
    assert.deepEqual(
      app.value.variables.map((v) => [v.name, v.inputType, v.defaultValue]),
      [
        ["input", "InputTopic", "ticks"],
        ["output", "OutputTopic", "candles-1m"],
        ["dlq", "OutputTopic", "ticks.dlq"],
        ["late", "OutputTopic", "candles-1m.late"],
        ["consumer_group", "FreeText", "candles-1m"],
        ["threshold", "FreeText", "5"],
      ],
    );
  });

  it("package.json depends on quixlab and runs main.ts; the Dockerfile is node:20-slim and not root", () => {
    const pkg = JSON.parse(plan.files.find((f) => f.path.endsWith("package.json"))!.content);
    assert.equal(pkg.dependencies.quixlab, "0.1.0");
    assert.equal(pkg.type, "module");
    assert.match(pkg.scripts.start, /main\.ts/);
    const docker = plan.files.find((f) => f.path.endsWith("Dockerfile"))!.content;
    assert.match(docker, /^FROM node:20-slim$/m);
    assert.match(docker, /npm ci --omit=dev/);
    assert.match(docker, /^USER node$/m);
    assert.match(docker, /^CMD \["node", "--import", "tsx", "main\.ts"\]$/m);
  });

  it("adds the deployment and every topic its step uses to quix.yaml, and keeps every other line", () => {
    const loaded = loadDescriptor(plan.descriptorAfter, "quix.yaml");
    assert.deepEqual(loaded.errors, []);
    const dep = loaded.value.deployments.find((d) => d.name === "candles-1m")!;
    assert.equal(dep.application, "candles-1m");
    assert.equal(dep.version, SHA1);
    assert.equal(dep.deploymentType, "Service");
    assert.equal(dep.desiredStatus, "Running");
    assert.deepEqual([dep.resources.cpu, dep.resources.memory, dep.resources.replicas], [200, 500, 1]);
    assert.deepEqual(
      dep.variables.map((v) => [v.name, v.inputType, v.value]),
      [
        ["input", "InputTopic", "ticks"],
        ["output", "OutputTopic", "candles-1m"],
        ["dlq", "OutputTopic", "ticks.dlq"],
        ["late", "OutputTopic", "candles-1m.late"],
        ["consumer_group", "FreeText", "candles-1m"],
        ["threshold", "FreeText", "5"],
      ],
    );
    const topic = loaded.value.topics.find((t) => t.name === "candles-1m")!;
    assert.deepEqual(topic.configuration, TOPIC_DEFAULTS);
    // The changelog is named as the step names it (src/stream/changelog.ts), from the group promote gives it.
    const changelog = loaded.value.topics.find((t) => t.name === changelogTopic("candles-1m", "ohlc1m"))!;
    assert.equal(changelog.name, "candles-1m.ohlc1m.changelog");
    assert.equal(changelog.configuration.cleanupPolicy, "Compact");
    // The existing `ticks` topic keeps its own settings.
    assert.equal(loaded.value.topics.find((t) => t.name === "ticks")!.configuration.partitions, 3);
    assert.ok(keepsEveryLine(commented, plan.descriptorAfter), "no line of the original was removed or changed");
    assert.ok(plan.descriptorAfter.includes("# end of file"));
    assert.deepEqual(
      plan.changes.filter((c) => c.kind !== "file"),
      [
        { kind: "deployment", name: "candles-1m", action: "inserted", version: SHA1 },
        { kind: "topic", name: "ticks", action: "unchanged" },
        { kind: "topic", name: "candles-1m", action: "inserted" },
        { kind: "topic", name: "ticks.dlq", action: "inserted" },
        { kind: "topic", name: "candles-1m.late", action: "inserted" },
        { kind: "topic", name: "candles-1m.ohlc1m.changelog", action: "inserted" },
      ],
    );
  });

  it("collects the helper a custom feature uses from an earlier cell", () => {
    const p = planPromote(input({ notebook: custom, notebookPath: "notebooks/custom-feature.ipynb", exportName: "vwapVol1m", deployment: "vwap-vol-1m", appDir: "apps/vwap-vol-1m" }));
    const code = p.files.find((f) => f.path === "apps/vwap-vol-1m/feature.ts")!.content;
    assert.match(code, /function logReturns\(/);
    assert.match(code, /function vwapAndVolatility\(/);
    assert.doesNotMatch(code, /readTicks|ticksToFrame|danfojs/);
    assert.equal(loadDescriptor(p.descriptorAfter).value.deployments.at(-1)!.application, "apps/vwap-vol-1m");
  });

  it("creates quix.yaml when there is none, declaring the input topic too", () => {
    const p = planPromote(input({ descriptorText: null }));
    const loaded = loadDescriptor(p.descriptorAfter);
    assert.deepEqual(loaded.errors, []);
    assert.deepEqual(
      loaded.value.topics.map((t) => t.name),
      ["ticks", "candles-1m", "ticks.dlq", "candles-1m.late", "candles-1m.ohlc1m.changelog"],
    );
    assert.equal(p.descriptorBefore, null);
    assert.equal(p.noop, false);
  });
});

describe("planPromote: promoting again", () => {
  const first = planPromote(input());
  const existing = filesAfter(first);

  it("is a no-op when nothing changed: no files, same quix.yaml", () => {
    const again = planPromote(input({ descriptorText: first.descriptorAfter, existingFiles: existing }));
    assert.equal(again.noop, true);
    assert.deepEqual(again.files, []);
    assert.equal(again.descriptorAfter, first.descriptorAfter);
    assert.equal(again.version, SHA1);
  });

  it("bumps the version and rewrites only feature.ts when the notebook's feature changed", () => {
    const nb = editCell(ohlc, "ohlc1m", 'grace: "2s"', 'grace: "3s"');
    const again = planPromote(input({ notebook: nb, descriptorText: first.descriptorAfter, existingFiles: existing, newVersion: SHA2 }));
    assert.equal(again.noop, false);
    assert.deepEqual(
      again.files.map((f) => [f.path, f.action]),
      [["candles-1m/feature.ts", "update"]],
    );
    assert.equal(again.files[0]!.previous, existing["feature.ts"]);
    assert.match(again.files[0]!.content, /grace: "3s"/);
    assert.equal(again.version, SHA2);
    const dep = loadDescriptor(again.descriptorAfter).value.deployments.find((d) => d.name === "candles-1m")!;
    assert.equal(dep.version, SHA2);
    assert.ok(keepsEveryLine(commented, again.descriptorAfter));
  });

  it("updates resources in place without a version bump when only they change", () => {
    const again = planPromote(input({ descriptorText: first.descriptorAfter, existingFiles: existing, replicas: 3, cpu: 400, newVersion: SHA2 }));
    assert.equal(again.noop, false);
    assert.deepEqual(again.files, []);
    assert.equal(again.version, SHA1);
    const dep = loadDescriptor(again.descriptorAfter).value.deployments.find((d) => d.name === "candles-1m")!;
    assert.deepEqual([dep.resources.cpu, dep.resources.memory, dep.resources.replicas], [400, 500, 3]);
  });

  it("keeps values set in quix.yaml when the flags are not given", () => {
    const tuned = planPromote(input({ descriptorText: first.descriptorAfter, existingFiles: existing, output: "bars", memory: 1024, newVersion: SHA2 }));
    const nb = editCell(ohlc, "ohlc1m", 'grace: "2s"', 'grace: "5s"');
    const tunedFiles = filesAfter(tuned, existing);
    const again = planPromote(input({ notebook: nb, descriptorText: tuned.descriptorAfter, existingFiles: tunedFiles, newVersion: SHA3 }));
    const dep = loadDescriptor(again.descriptorAfter).value.deployments.find((d) => d.name === "candles-1m")!;
    assert.equal(dep.resources.memory, 1024);
    assert.equal(dep.variables.find((v) => v.name === "output")!.value, "bars");
    assert.equal(loadAppDescriptor(String(filesAfter(again, tunedFiles)["app.yaml"])).value.variables[1]!.defaultValue, "bars");
    assert.deepEqual([tuned.version, again.version], [SHA2, SHA3], "the app's defaults changed with the output topic, then the code");
  });

  it("leaves hand-edited scaffolding (Dockerfile, package.json) alone", () => {
    const edited = { ...existing, Dockerfile: "FROM node:20-slim\n# mine\n", "package.json": "{}\n" };
    const again = planPromote(input({ descriptorText: first.descriptorAfter, existingFiles: edited }));
    assert.equal(again.noop, true);
  });

  it("restores a generated file that was edited by hand", () => {
    const edited = { ...existing, "main.ts": "// hacked\n" };
    const again = planPromote(input({ descriptorText: first.descriptorAfter, existingFiles: edited, newVersion: SHA2 }));
    assert.deepEqual(
      again.files.map((f) => f.path),
      ["candles-1m/main.ts"],
    );
    assert.equal(again.version, SHA2);
  });

  it("writes 'uncommitted' when promote is given no version (a tree with uncommitted changes)", () => {
    assert.equal(planPromote(input({ newVersion: undefined })).version, UNCOMMITTED);
  });

  it("replaces 'uncommitted' once there is something to name, even with the app unchanged", () => {
    const draft = planPromote(input({ newVersion: undefined }));
    const files = filesAfter(draft);
    const still = planPromote(input({ descriptorText: draft.descriptorAfter, existingFiles: files, newVersion: undefined }));
    assert.equal(still.noop, true, "still nothing to name: a no-op");
    const named = planPromote(input({ descriptorText: draft.descriptorAfter, existingFiles: files, newVersion: SHA2 }));
    assert.deepEqual([named.noop, named.files.length, named.version], [false, 0, SHA2]);
  });

  it("--commit tags a deployment whose version is no tag of its own; one that is keeps it", () => {
    const bySha = planPromote(input());
    const files = filesAfter(bySha);
    const tagged = planPromote(input({ descriptorText: bySha.descriptorAfter, existingFiles: files, newVersion: "candles-1m-v1", retag: true }));
    assert.deepEqual([tagged.noop, tagged.version], [false, "candles-1m-v1"]);
    const again = planPromote(input({ descriptorText: tagged.descriptorAfter, existingFiles: files, newVersion: "candles-1m-v2", retag: true }));
    assert.deepEqual([again.noop, again.version], [true, "candles-1m-v1"]);
    assert.equal(isDeploymentTag("candles-1m", "candles-1m-v12"), true);
    assert.equal(isDeploymentTag("candles-1m", "candles-1m-v1x"), false);
    assert.equal(isDeploymentTag("candles", "candles-1m-v1"), false);
  });
});

describe("planPromote: a vendored quixlab", () => {
  const tgz = (v: string, fill: number) => ({ file: `quixlab-${v}.tgz`, bytes: Buffer.alloc(64, fill) });
  const vendored = (v: string, fill: number, over: Partial<PromoteInput> = {}) =>
    input({ vendor: tgz(v, fill), versions: { ...versions, quixlab: `file:quixlab-${v}.tgz` }, ...over });
  const first = planPromote(vendored("0.1.0", 1));
  const existing = filesAfter(first);

  it("puts the tarball in the app folder and depends on it by a path inside that folder", () => {
    const file = first.files.find((f) => f.path === "candles-1m/quixlab-0.1.0.tgz")!;
    assert.ok(Buffer.isBuffer(file.content) && file.content.equals(Buffer.alloc(64, 1)));
    const pkg = JSON.parse(String(existing["package.json"]));
    assert.equal(pkg.dependencies.quixlab, "file:quixlab-0.1.0.tgz");
    assert.match(String(existing.Dockerfile), /^COPY package\.json package-lock\.json\* quixlab-\*\.tgz \.\/$/m, "the tarball is in the image before npm install");
  });

  it("is a no-op with the same tarball, and a new version when the tarball's bytes change", () => {
    assert.equal(planPromote(vendored("0.1.0", 1, { descriptorText: first.descriptorAfter, existingFiles: existing })).noop, true);
    const again = planPromote(vendored("0.1.0", 2, { descriptorText: first.descriptorAfter, existingFiles: existing, newVersion: SHA2 }));
    assert.deepEqual(again.files.map((f) => [f.path, f.action]), [["candles-1m/quixlab-0.1.0.tgz", "update"]]);
    assert.equal(again.version, SHA2);
  });

  it("moves only the quixlab line of the app's package.json to a newer tarball", () => {
    const pkg = JSON.parse(String(existing["package.json"]));
    pkg.scripts.mine = "echo mine";
    const mine = { ...existing, "package.json": `${JSON.stringify(pkg, null, 2)}\n` };
    const again = planPromote(vendored("0.2.0", 3, { descriptorText: first.descriptorAfter, existingFiles: mine, newVersion: SHA2 }));
    assert.deepEqual(again.files.map((f) => f.path), ["candles-1m/package.json", "candles-1m/quixlab-0.2.0.tgz"]);
    const after = JSON.parse(String(again.files[0]!.content));
    assert.equal(after.dependencies.quixlab, "file:quixlab-0.2.0.tgz");
    assert.equal(after.scripts.mine, "echo mine");
  });

  it("moves a committed package-lock.json's vendored quixlab to the new tarball, so npm ci in the image passes", () => {
    const lock = {
      lockfileVersion: 3,
      packages: {
        "": { name: "candles-1m", dependencies: { quixlab: "file:quixlab-0.1.0.tgz", tsx: "^4.20.0" } },
        "node_modules/quixlab": { version: "0.1.0", resolved: "file:quixlab-0.1.0.tgz", integrity: "sha512-old" },
      },
    };
    const withLock = { ...existing, "package-lock.json": `${JSON.stringify(lock, null, 2)}\n` };
    const again = planPromote(vendored("0.2.0", 4, { descriptorText: first.descriptorAfter, existingFiles: withLock, newVersion: SHA2 }));
    const planned = again.files.find((f) => f.path === "candles-1m/package-lock.json");
    assert.ok(planned, again.files.map((f) => f.path).join(", "));
    const after = JSON.parse(String(planned.content));
    const want = `sha512-${createHash("sha512").update(Buffer.alloc(64, 4)).digest("base64")}`;
    assert.deepEqual(after.packages["node_modules/quixlab"], { version: "0.2.0", resolved: "file:quixlab-0.2.0.tgz", integrity: want });
    assert.equal(after.packages[""].dependencies.quixlab, "file:quixlab-0.2.0.tgz");
    assert.equal(after.packages[""].dependencies.tsx, "^4.20.0");
    const pinned = { ...withLock, "package-lock.json": String(planned.content), "package.json": String(again.files.find((f) => f.path.endsWith("package.json"))!.content), "quixlab-0.2.0.tgz": Buffer.alloc(64, 4) };
    assert.equal(withVendoredLock(String(pinned["package-lock.json"]), { file: "quixlab-0.2.0.tgz", bytes: Buffer.alloc(64, 4) }), undefined, "already pinned");
    assert.equal(withVendoredLock('{"packages":{"node_modules/quixlab":{"resolved":"https://r/quixlab.tgz"}}}', { file: "quixlab-0.2.0.tgz", bytes: Buffer.alloc(1) }), undefined, "a registry pin is the user's");
  });

  it("leaves a quixlab dependency the user chose (a registry range) alone", () => {
    const pkg = JSON.parse(String(existing["package.json"]));
    pkg.dependencies.quixlab = "^0.1.0";
    const text = `${JSON.stringify(pkg, null, 2)}\n`;
    assert.equal(withQuixlabDependency(text, "file:quixlab-0.2.0.tgz"), undefined);
    assert.equal(withQuixlabDependency("not json", "file:quixlab-0.2.0.tgz"), undefined);
  });
});

describe("planPromote: refusals", () => {
  it("refuses an app folder holding another export's app, or files it did not write", () => {
    const other = filesAfter(planPromote(input({ exportName: "ohlc1h" })));
    assert.throws(() => planPromote(input({ existingFiles: other })), (e: unknown) => e instanceof InputError && /promoted from notebooks\/ohlc\.ipynb#ohlc1h/.test(e.message));
    assert.throws(() => planPromote(input({ existingFiles: { "main.ts": "console.log(1)\n" } })), (e: unknown) => e instanceof InputError && /did not generate \(main\.ts\)/.test(e.message));
  });

  it("refuses an export that is not a feature constant", () => {
    assert.throws(
      () => planPromote(input({ notebook: custom, notebookPath: "n.ipynb", exportName: "vwapAndVolatility" })),
      (e: unknown) => e instanceof InputError && /is a function/.test(e.message) && e.exitCode === 2,
    );
  });

  it("refuses bad names and values", () => {
    const bad = (over: Partial<PromoteInput>, re: RegExp) =>
      assert.throws(() => planPromote(input(over)), (e: unknown) => e instanceof InputError && re.test(e.message));
    bad({ deployment: "../x" }, /bad deployment name/);
    bad({ replicas: 0 }, /bad --replicas/);
    bad({ params: { output: 1 } }, /name of a variable the step itself reads/);
    bad({ params: { "grace ms": 1 } }, /cannot be a deployment variable/);
    bad({ input: "same", output: "same" }, /same topic/);
  });

  it("refuses to start from an invalid quix.yaml, naming the problem", () => {
    const invalid = commented.replace("replicas: 1", "replicas: 0");
    assert.throws(() => planPromote(input({ descriptorText: invalid })), (e: unknown) => e instanceof DescriptorInvalidError && /replicas/.test(e.message));
    assert.throws(() => planPromote(input({ descriptorText: "metadata: [\n" })), InputError);
  });
});

describe("the templates", () => {
  it("the app template's tsconfig is strict ESM and parses", () => {
    const ts = JSON.parse(template["tsconfig.json"]!);
    assert.equal(ts.compilerOptions.strict, true);
    assert.equal(ts.compilerOptions.module, "NodeNext");
    assert.ok(parseYaml(template["app.yaml"]!));
  });
});

describe("planPromote: a feature over another feature (input: ohlc1m)", () => {
  it("reads the output topic of the deployment that runs the upstream feature, and says which to promote first when none does", () => {
    const first = planPromote(input());
    const chained = planPromote(input({ deployment: "rsi-14", appDir: "rsi-14", featureName: "rsi14", upstream: "ohlc1m", descriptorText: first.descriptorAfter }));
    const loaded = loadDescriptor(chained.descriptorAfter, "quix.yaml");
    assert.deepEqual(loaded.errors, []);
    const dep = loaded.value.deployments.find((d) => d.name === "rsi-14")!;
    const upstream = loaded.value.deployments.find((d) => d.name === "candles-1m")!;
    const out = upstream.variables.find((v) => v.name === "output")?.value;
    assert.ok(out);
    assert.equal(dep.variables.find((v) => v.name === "input")?.value, out, "the chain: rsi-14 reads what candles-1m writes");
    // The graph shows the chain: candles-1m → its output topic → rsi-14.
    const g = pipelineGraph(loaded.value);
    assert.ok(g.edges.some((e) => e.from === "deployment:candles-1m" && e.to === `topic:${out}`));
    assert.ok(g.edges.some((e) => e.from === `topic:${out}` && e.to === "deployment:rsi-14"));
    assert.match(renderGraphText(g), /\[candles-1m\] Service\n\s+├─▶ \(candles-1m\)\n[\s│]+└─▶ \[rsi-14\] Service/, "drawn as a chain");
    assert.throws(
      () => planPromote(input({ deployment: "rsi-14", appDir: "rsi-14", featureName: "rsi14", upstream: "ohlc_5m" })),
      (e: Error & { remedy?: string }) => /reads the records of feature 'ohlc_5m', and no deployment in quix.yaml runs it/.test(e.message) && /promote the feature 'ohlc_5m' first/.test(e.remedy ?? ""),
    );
    assert.equal(planPromote(input({ deployment: "rsi-14", appDir: "rsi-14", upstream: "ohlc_5m", input: "my-candles" })).descriptorAfter.includes("my-candles"), true, "--input wins");
  });
});
