import assert from "node:assert/strict";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { validateProject } from "../../src/descriptor/index.js";
import { runCli } from "../helpers/cli.js";

const projects = fileURLToPath(new URL("../fixtures/descriptor/projects/", import.meta.url));

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "quixlab-descriptor-project-"));
  await cp(join(projects, "quix-v2"), join(dir, "v2"), { recursive: true });
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A copy of the v2 project with one file changed. */
async function variant(name: string, file: string, change: (text: string) => string): Promise<string> {
  const to = join(dir, name);
  await cp(join(projects, "quix-v2"), to, { recursive: true });
  await writeFile(join(to, file), change(await readFile(join(to, file), "utf8")));
  return to;
}

describe("validateProject", () => {
  it("checks quix.yaml and the app.yaml of every application folder", async () => {
    const r = await validateProject("v2", { cwd: dir });
    assert.deepEqual(r.errors, []);
    assert.equal(r.ok, true);
    assert.deepEqual(
      r.files.map((f) => [f.file, f.kind]),
      [
        [join("v2", "quix.yaml"), "quix.yaml"],
        [join("v2", "demo-data", "app.yaml"), "app.yaml"],
        [join("v2", "order-processor", "app.yaml"), "app.yaml"],
        [join("v2", "backup-manager", "app.yaml"), "app.yaml"],
        [join("v2", "dashboard", "app.yaml"), "app.yaml"],
      ],
    );
  });

  it("finds an error in an app.yaml and an Options override that app.yaml does not offer", async () => {
    const p = await variant("bad-app", "backup-manager/app.yaml", (t) => t.replace("dockerfile: dockerfile\n", ""));
    const r = await validateProject(p, { cwd: dir });
    assert.deepEqual(
      r.errors.map((e) => `${e.file}:${e.line}:${e.column} ${e.code}`),
      [`${join("bad-app", "backup-manager", "app.yaml")}:1:1 missing-field`],
    );
    const o = await variant("bad-option", "quix.yaml", (t) => t.replace("value: mongo", "value: postgres"));
    assert.deepEqual(
      (await validateProject(o, { cwd: dir })).errors.map((e) => `${e.line}:${e.column} ${e.code}`),
      ["60:16 invalid-option"],
    );
  });

  it("reports an application folder without app.yaml at the deployment's application:", async () => {
    const p = await variant("no-app", "quix.yaml", (t) => t.replace("application: dashboard", "application: dashbord"));
    const r = await validateProject(p, { cwd: dir });
    assert.deepEqual(r.errors.map((e) => `${e.line}:${e.column} ${e.code} ${e.path}`), ["62:18 missing-app deployments[4].application"]);
  });

  it("with resolve, fills placeholders from --var, .quix.yaml.variables and env, and names the unresolved", async () => {
    assert.deepEqual((await validateProject("v2", { cwd: dir, resolve: true, env: {} })).errors, []);
    const p = await variant("partial", ".quix.yaml.variables", (t) => t.replace(/^(CPU|ENV_NAME)=.*\n/gm, ""));
    const r = await validateProject(p, { cwd: dir, resolve: true, env: {} });
    assert.deepEqual(r.unresolved, ["CPU", "ENV_NAME"]);
    assert.deepEqual(
      r.errors.map((e) => `${e.line}:${e.column} ${e.code}`),
      ["16:14 unresolved-placeholder", "32:33 unresolved-placeholder"],
    );
    const filled = await validateProject(p, { cwd: dir, resolve: true, vars: { CPU: "250" }, env: { ENV_NAME: "prod" } });
    assert.deepEqual(filled.errors, []);
    const typed = await validateProject(p, { cwd: dir, resolve: true, vars: { CPU: "lots", ENV_NAME: "x" }, env: {} });
    assert.deepEqual(typed.errors.map((e) => `${e.line}:${e.column} ${e.code}`), ["16:14 wrong-type"]);
    assert.match(typed.errors[0]!.message, /cpu must be a number, found text "lots"/);
  });
});

describe("quixlab descriptor validate on a project", () => {
  it("takes a folder, prints 'file:line:col  message — remedy' and exits 1 on errors", async () => {
    await variant("cli-bad", "quix.yaml", (t) => t.replace("value: mongo", "value: postgres"));
    const r = await runCli(dir, "descriptor", "validate", "cli-bad");
    assert.equal(r.code, 1);
    assert.equal(
      r.out,
      `${join("cli-bad", "quix.yaml")}:60:16  deployment "Backups": variable "METADATA_BACKEND" is "postgres", not one of its options in app.yaml (mongo, json) — set value: to the value: of one of the options listed in the application's app.yaml\n`,
    );
    const ok = await runCli(dir, "descriptor", "validate", "v2");
    assert.equal(ok.code, 0);
    assert.equal(ok.out, "v2: valid descriptor and 4 app.yaml\n");
  });

  it("--json gives {ok, files, errors}; --resolve adds unresolved; --var fills; a bad --var is a usage error", async () => {
    await variant("cli-partial", ".quix.yaml.variables", (t) => t.replace(/^CPU=.*\n/m, ""));
    const j = await runCli(dir, "descriptor", "validate", "cli-partial", "--json", "--resolve");
    assert.equal(j.code, 1);
    const report = JSON.parse(j.out) as { ok: boolean; files: unknown[]; errors: Record<string, unknown>[]; unresolved: string[] };
    assert.deepEqual(Object.keys(report), ["ok", "files", "errors", "unresolved"]);
    assert.equal(report.ok, false);
    assert.deepEqual(report.unresolved, ["CPU"]);
    assert.deepEqual(Object.keys(report.errors[0]!), ["file", "line", "column", "code", "message", "remedy", "path"]);
    assert.equal((await runCli(dir, "descriptor", "validate", "cli-partial", "--var", "CPU=200")).code, 0);
    const bad = await runCli(dir, "descriptor", "validate", "cli-partial", "--var", "CPU");
    assert.equal(bad.code, 2);
    assert.match(bad.err, /bad --var 'CPU' — write --var NAME=VALUE/);
  });
});
