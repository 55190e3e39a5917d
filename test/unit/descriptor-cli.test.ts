import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { main } from "../../cli/main.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const fixtures = fileURLToPath(new URL("../fixtures/descriptor/", import.meta.url));

/** Run the CLI in-process with captured output (not a TTY, so no colour). */
async function run(cwd: string, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const stream = (add: (s: string) => void) =>
    ({
      isTTY: false,
      write: (s: string) => {
        add(s);
        return true;
      },
    }) as unknown as NodeJS.WriteStream;
  const code = await main(argv, {
    cwd,
    stdout: stream((s) => (out += s)),
    stderr: stream((s) => (err += s)),
    env: { NO_COLOR: "1" },
  });
  return { code, out, err };
}

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
    const r = await run(dir, "descriptor", "validate", "quix-documented.yaml");
    assert.equal(r.code, 0);
    assert.equal(r.out, "quix-documented.yaml: valid descriptor\n");
  });

  it("defaults to ./quix.yaml and says so when it is missing (exit 2)", async () => {
    const r = await run(dir, "descriptor", "validate");
    assert.equal(r.code, 2);
    assert.match(r.err, /^error: quix\.yaml: file not found — pass the path of your quix\.yaml/);
  });

  it("exits 1 listing every error as file:line:col message — remedy", async () => {
    const r = await run(dir, "descriptor", "validate", "invalid-many.yaml");
    assert.equal(r.code, 1);
    const lines = r.out.trimEnd().split("\n");
    assert.equal(lines.length, 10);
    for (const l of lines) assert.match(l, /^invalid-many\.yaml:\d+:\d+ .+ — .+$/);
    assert.equal(lines[0], 'invalid-many.yaml:6:21 deployment "source": unknown deploymentType "Daemon" — use one of Service, Job');
    assert.equal(r.err, "10 problems in invalid-many.yaml\n");
  });

  it("--json reports the same errors as data", async () => {
    const r = await run(dir, "descriptor", "validate", "invalid-many.yaml", "--json");
    assert.equal(r.code, 1);
    const report = JSON.parse(r.out) as { valid: boolean; errors: { line: number; column: number; code: string }[] };
    assert.equal(report.valid, false);
    assert.deepEqual(report.errors[1], { ...report.errors[1], line: 9, column: 17, code: "invalid-replicas" });
  });

  it("exits 2 on a file that is not YAML, with its line and column", async () => {
    const r = await run(dir, "descriptor", "validate", "broken.yaml");
    assert.equal(r.code, 2);
    assert.match(r.out, /^broken\.yaml:4:1 not valid YAML: Tabs are not allowed as indentation — /);
  });

  it("checks an app.yaml given directly, and the app.yaml of each application folder", async () => {
    assert.equal((await run(dir, "descriptor", "validate", "app.yaml")).code, 0);
    const project = join(dir, "project");
    await mkdir(join(project, "ohlc-1m"), { recursive: true });
    await writeFile(join(project, "quix.yaml"), await readFile(join(fixtures, "design-form.yaml"), "utf8"));
    await writeFile(join(project, "ohlc-1m", "app.yaml"), "name: ohlc-1m\nlanguage: typescript\ndockerfile: Dockerfile\n");
    const r = await run(project, "descriptor", "validate");
    assert.equal(r.code, 1);
    assert.equal(r.out, "ohlc-1m/app.yaml:1:1 app.yaml is missing runEntryPoint — set runEntryPoint: to the file that starts the app (e.g. main.ts)\n");
  });

  it("rejects an unknown subcommand with usage (exit 2)", async () => {
    const r = await run(dir, "descriptor", "lint");
    assert.equal(r.code, 2);
    assert.match(r.err, /unknown descriptor command 'lint' — usage: quixlab descriptor validate/);
  });

  it("has --help covering both subcommands", async () => {
    const r = await run(dir, "descriptor", "graph", "--help");
    assert.equal(r.code, 0);
    assert.match(r.out, /quixlab descriptor validate \[file\] \[--json\]/);
    assert.match(r.out, /quixlab descriptor graph \[file\] \[--mermaid\] \[--json\]/);
    assert.match(r.out, /exit codes: 0 valid, 1 invalid/);
  });
});

describe("quixlab descriptor graph", () => {
  it("prints the pipeline as a text tree", async () => {
    const r = await run(dir, "descriptor", "graph", "design-form.yaml");
    assert.equal(r.code, 0);
    assert.match(r.out, /^pipeline: 3 deployments, 2 topics\n\n\[coinbase-ticks\] Service\n└─▶ \(ticks\)\n {4}└─▶ \[ohlc-1m\] Service\n/);
  });

  it("prints Mermaid with --mermaid and data with --json", async () => {
    const m = await run(dir, "descriptor", "graph", "quix-documented.yaml", "--mermaid");
    assert.equal(m.code, 0);
    assert.match(m.out, /^flowchart LR\n/);
    assert.match(m.out, /d1\["Starter transformation"\]/);
    const j = await run(dir, "descriptor", "graph", "quix-documented.yaml", "--json");
    const g = JSON.parse(j.out) as { nodes: unknown[]; edges: unknown[]; cycles: unknown[]; danglingTopics: unknown[] };
    assert.deepEqual([g.nodes.length, g.edges.length, g.cycles.length, g.danglingTopics.length], [7, 5, 0, 0]);
  });

  it("still draws an invalid file but exits 1 and lists its errors", async () => {
    const r = await run(dir, "descriptor", "graph", "invalid-many.yaml");
    assert.equal(r.code, 1);
    assert.match(r.out, /\(nowhere\) undeclared\n└─▶ \[reader\] Service/);
    assert.match(r.err, /invalid-many\.yaml:33:16 deployment "reader" reads topic "nowhere"/);
  });
});

describe("the quixlab binary", () => {
  it("exits 1 and prints uncoloured errors when stdout is not a TTY", () => {
    const r = spawnSync(process.execPath, [join(root, "bin/quixlab.js"), "descriptor", "validate", join(dir, "invalid-many.yaml")], {
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "" },
    });
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stdout.trimEnd().split("\n").length, 10);
    assert.ok(!r.stdout.includes("\u001b["), "no ANSI colour codes");
  });
});
