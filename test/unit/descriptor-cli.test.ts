import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { quixlab, runCli } from "../helpers/cli.js";

const fixtures = fileURLToPath(new URL("../fixtures/descriptor/", import.meta.url));

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "quixlab-descriptor-cli-"));
  for (const f of ["quix-documented.yaml", "design-form.yaml", "invalid-many.yaml", "app.yaml"]) {
    await writeFile(join(dir, f), await readFile(join(fixtures, f), "utf8"));
  }
  await writeFile(join(dir, "broken.yaml"), "metadata:\n  version: 1.0\ndeployments:\n\t- name: x\n");
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("quixlab descriptor validate", () => {
  it("exits 0 on a valid file", async () => {
    const r = await runCli(join(fixtures, "projects", "v1"), "descriptor", "validate", "quix.yaml");
    assert.equal(r.code, 0, r.out);
    assert.equal(r.out, "quix.yaml: valid descriptor and 2 app.yaml\n");
  });

  it("defaults to ./quix.yaml and says so when it is missing (exit 2)", async () => {
    const r = await runCli(dir, "descriptor", "validate");
    assert.equal(r.code, 2);
    assert.match(r.err, /^error: quix\.yaml: file not found — pass the path of your quix\.yaml/);
  });

  it("exits 1 listing every error as file:line:col message — remedy", async () => {
    const r = await runCli(dir, "descriptor", "validate", "invalid-many.yaml");
    assert.equal(r.code, 1);
    const lines = r.out.trimEnd().split("\n");
    // 10 in the file itself, and its 3 application folders are not next to it.
    assert.equal(lines.length, 13);
    for (const l of lines) assert.match(l, /^invalid-many\.yaml:\d+:\d+ {2}.+ — .+$/);
    assert.equal(lines[0], 'invalid-many.yaml:6:21  deployment "source": unknown deploymentType "Daemon" — use one of Service, Job, Managed');
    assert.equal(lines.filter((l) => l.includes("has no app.yaml")).length, 3);
    assert.equal(r.err, "13 problems in invalid-many.yaml\n");
  });

  it("--json reports the same errors as data", async () => {
    const r = await runCli(dir, "descriptor", "validate", "invalid-many.yaml", "--json");
    assert.equal(r.code, 1);
    const report = JSON.parse(r.out) as { ok: boolean; files: unknown[]; errors: { line: number; column: number; code: string }[] };
    assert.deepEqual(Object.keys(report), ["ok", "files", "errors"]);
    assert.equal(report.ok, false);
    assert.deepEqual(report.files, [{ file: "invalid-many.yaml", kind: "quix.yaml", errors: 13 }]);
    assert.deepEqual(report.errors[1], { ...report.errors[1], line: 9, column: 17, code: "invalid-replicas" });
  });

  it("exits 2 on a file that is not YAML, with its line and column", async () => {
    const r = await runCli(dir, "descriptor", "validate", "broken.yaml");
    assert.equal(r.code, 2);
    assert.match(r.out, /^broken\.yaml:4:1 {2}not valid YAML: Tabs are not allowed as indentation — /);
  });

  it("checks an app.yaml given directly, and the app.yaml of each application folder", async () => {
    assert.equal((await runCli(dir, "descriptor", "validate", "app.yaml")).code, 0);
    const project = join(dir, "project");
    await mkdir(join(project, "ohlc-1m"), { recursive: true });
    await writeFile(join(project, "quix.yaml"), await readFile(join(fixtures, "design-form.yaml"), "utf8"));
    await writeFile(join(project, "ohlc-1m", "app.yaml"), "name: ohlc-1m\nlanguage: typescript\n");
    const r = await runCli(project, "descriptor", "validate");
    assert.equal(r.code, 1);
    assert.equal(
      r.out,
      [
        'quix.yaml:7:18  deployment "coinbase-ticks": application folder "coinbase-ticks" has no app.yaml (coinbase-ticks/app.yaml) — create the folder with its app.yaml next to quix.yaml, fix application:, or use image: for a prebuilt image',
        'quix.yaml:64:18  deployment "backfill": application folder "backfill" has no app.yaml (backfill/app.yaml) — create the folder with its app.yaml next to quix.yaml, fix application:, or use image: for a prebuilt image',
        "ohlc-1m/app.yaml:1:1  app.yaml is missing dockerfile — set dockerfile: to the Dockerfile's path in the app folder (e.g. dockerfile or build/dockerfile)",
        "",
      ].join("\n"),
    );
  });

  it("rejects an unknown subcommand with usage (exit 2)", async () => {
    const r = await runCli(dir, "descriptor", "lint");
    assert.equal(r.code, 2);
    assert.match(r.err, /unknown descriptor command 'lint' — usage: quixlab descriptor validate/);
  });

  it("has --help covering both subcommands", async () => {
    const r = await runCli(dir, "descriptor", "graph", "--help");
    assert.equal(r.code, 0);
    assert.match(r.out, /quixlab descriptor validate \[file\|dir\] \[--json\] \[--resolve\] \[--var NAME=VALUE\]\.\.\./);
    for (const word of ["Managed", "disabled", "ProjectVariable", "VariableGroup", "Options", "2.0", "{{NAME}}", ".quix.yaml.variables", "cleanupPolicy", '"ok"']) {
      assert.ok(r.out.includes(word), `--help mentions ${word}`);
    }
    assert.match(r.out, /quixlab descriptor graph \[file\] \[--mermaid\] \[--json\]/);
    assert.match(r.out, /exit codes: 0 valid, 1 invalid/);
  });
});

describe("quixlab descriptor graph", () => {
  it("prints the pipeline as a text tree", async () => {
    const r = await runCli(dir, "descriptor", "graph", "design-form.yaml");
    assert.equal(r.code, 0);
    assert.match(r.out, /^pipeline: 3 deployments, 2 topics\n\n\[coinbase-ticks\] Service\n└─▶ \(ticks\)\n {4}└─▶ \[ohlc-1m\] Service\n/);
  });

  it("prints Mermaid with --mermaid and data with --json", async () => {
    const m = await runCli(dir, "descriptor", "graph", "quix-documented.yaml", "--mermaid");
    assert.equal(m.code, 0);
    assert.match(m.out, /^flowchart LR\n/);
    assert.match(m.out, /d1\["Starter transformation"\]/);
    const j = await runCli(dir, "descriptor", "graph", "quix-documented.yaml", "--json");
    const g = JSON.parse(j.out) as { nodes: unknown[]; edges: unknown[]; cycles: unknown[]; danglingTopics: unknown[] };
    assert.deepEqual([g.nodes.length, g.edges.length, g.cycles.length, g.danglingTopics.length], [7, 5, 0, 0]);
  });

  it("still draws an invalid file but exits 1 and lists its errors", async () => {
    const r = await runCli(dir, "descriptor", "graph", "invalid-many.yaml");
    assert.equal(r.code, 1);
    assert.match(r.out, /\(nowhere\) undeclared\n└─▶ \[reader\] Service/);
    assert.match(r.err, /invalid-many\.yaml:33:16 {2}deployment "reader" reads topic "nowhere"/);
  });
});

describe("the quixlab binary", () => {
  it("exits 1 and prints uncoloured errors when stdout is not a TTY", async () => {
    const r = await quixlab(["descriptor", "validate", join(dir, "invalid-many.yaml")], { env: { NO_COLOR: "" } });
    assert.equal(r.code, 1, r.err);
    assert.equal(r.out.trimEnd().split("\n").length, 13);
    assert.ok(!r.out.includes("\u001b["), "no ANSI colour codes");
  });
});
