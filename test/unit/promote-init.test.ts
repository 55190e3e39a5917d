import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { loadDescriptor } from "../../src/descriptor/index.js";
import { listExports } from "../../src/notebook/extract.js";
import { readNotebook } from "../../src/notebook/model.js";
import { initProject, packageNameOf } from "../../src/promote/init.js";
import { runCli } from "../helpers/cli.js";

const root = fileURLToPath(new URL("../..", import.meta.url));

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "quixlab-init-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("quixlab init", () => {
  it("creates the project: descriptor, notebook, sample ticks with their notice, devcontainer, README", async () => {
    const r = await runCli(dir, "init", "My Features");
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^created a quixlab project in My Features\/ \(19 files\)\nquixlab is vendored as vendor\/quixlab-\d+\.\d+\.\d+\.tgz \(no registry serves it\); commit that file\n/);
    const p = join(dir, "My Features");
    const files = JSON.parse((await runCli(dir, "init", "again", "--json")).out).files;
    assert.deepEqual(files, [
      ".devcontainer.json",
      ".gitignore",
      "README.md",
      "data/LICENSE.cryptofeed",
      "data/README.md",
      "data/coinbase-ticker-2021-04-17.jsonl",
      "notebooks/candles.ipynb",
      "package.json",
      "quix.yaml",
      "ticks-replay/.dockerignore",
      "ticks-replay/Dockerfile",
      "ticks-replay/app.yaml",
      "ticks-replay/coinbase-ticker-2021-04-17.jsonl",
      "ticks-replay/main.ts",
      "ticks-replay/package.json",
      "ticks-replay/quixlab-0.1.0.tgz",
      "ticks-replay/tsconfig.json",
      "tsconfig.json",
      "vendor/quixlab-0.1.0.tgz",
    ]);

    const quix = await readFile(join(p, "quix.yaml"), "utf8");
    const loaded = loadDescriptor(quix, "quix.yaml");
    assert.deepEqual(loaded.errors, []);
    assert.deepEqual(loaded.value.topics.map((t) => t.name), ["ticks"]);
    // The replay source over the sample data, so `up` then `dashboard` shows ticks flowing with no other step.
    assert.deepEqual(
      loaded.value.deployments.map((d) => [d.name, d.application, d.deploymentType, d.resources.replicas, Object.fromEntries(d.variables.map((v) => [v.name, v.value]))]),
      [["ticks-replay", "ticks-replay", "Service", 1, { output: "ticks", ticks: "coinbase-ticker-2021-04-17.jsonl", speed: "1x", loop: "true" }]],
    );
    assert.equal(
      await readFile(join(p, "ticks-replay", "coinbase-ticker-2021-04-17.jsonl"), "utf8"),
      await readFile(join(root, "data", "coinbase-ticker-2021-04-17.jsonl"), "utf8"),
      "the app folder is its own Docker build context: it holds the recording",
    );
    assert.equal(JSON.parse(await readFile(join(p, "ticks-replay", "package.json"), "utf8")).dependencies.quixlab, "file:quixlab-0.1.0.tgz");
    assert.match(await readFile(join(p, "ticks-replay", "main.ts"), "utf8"), /resolveSourceConfig\("replay", process\.env/);
    assert.match(quix, /^# quix\.yaml: /);

    assert.deepEqual(listExports(readNotebook(join(p, "notebooks", "candles.ipynb"))).map((e) => e.name), ["candles1m"]);
    assert.equal(
      await readFile(join(p, "data", "coinbase-ticker-2021-04-17.jsonl"), "utf8"),
      await readFile(join(root, "data", "coinbase-ticker-2021-04-17.jsonl"), "utf8"),
    );
    assert.equal(await readFile(join(p, "data", "LICENSE.cryptofeed"), "utf8"), await readFile(join(root, "data", "LICENSE.cryptofeed"), "utf8"));
    assert.match(await readFile(join(p, "data", "README.md"), "utf8"), /This product includes software developed by Bryant Moscon/);

    const pkg = JSON.parse(await readFile(join(p, "package.json"), "utf8"));
    const ours = JSON.parse(await readFile(join(root, "package.json"), "utf8"));
    assert.equal(pkg.name, "my-features");
    // From a checkout, quixlab is vendored (no registry serves it), and the notebook side is the project's.
    assert.equal(pkg.dependencies.quixlab, `file:vendor/quixlab-${ours.version}.tgz`);
    assert.ok((await stat(join(p, "vendor", `quixlab-${ours.version}.tgz`))).size > 10_000);
    for (const peer of Object.keys(ours.peerDependencies)) assert.equal(pkg.dependencies[peer], ours.peerDependencies[peer], `${peer} is the project's`);
    assert.ok(pkg.dependencies.tslab, "the kernel install needs the project's own tslab");
    assert.deepEqual(pkg.overrides, ours.overrides, "quixlab's overrides do not reach a consumer, so the project carries them");
    const dev = JSON.parse(await readFile(join(p, ".devcontainer.json"), "utf8"));
    assert.match(dev.image, /node:1-20/);
    assert.match(await readFile(join(p, ".gitignore"), "utf8"), /^node_modules\/$/m);

    const readme = await readFile(join(p, "README.md"), "utf8");
    assert.match(readme, /^# My Features$/m);
    const commands = readme.match(/^npx quixlab .*$/gm) ?? [];
    assert.deepEqual(commands.slice(0, 2), [
      "npx quixlab notebook check notebooks/candles.ipynb",
      "npx quixlab promote notebooks/candles.ipynb --export candles1m --name candles-1m --ticks data/coinbase-ticker-2021-04-17.jsonl",
    ]);
  });

  it("refuses a folder that is not empty (exit 2) unless --force, which keeps other files", async () => {
    await writeFile(join(dir, "notes.txt"), "mine\n");
    await writeFile(join(dir, "quix.yaml"), "old\n");
    const r = await runCli(dir, "init");
    assert.equal(r.code, 2);
    assert.match(r.err, /is not empty \((notes\.txt, quix\.yaml|quix\.yaml, notes\.txt)\) — pass an empty or new folder, or --force/);
    assert.equal(await readFile(join(dir, "quix.yaml"), "utf8"), "old\n");

    const forced = await runCli(dir, "init", "--force");
    assert.equal(forced.code, 0, forced.err);
    assert.equal(await readFile(join(dir, "notes.txt"), "utf8"), "mine\n");
    assert.match(await readFile(join(dir, "quix.yaml"), "utf8"), /^# quix\.yaml/);
  });

  it("accepts a folder holding only .git", async () => {
    await mkdir(join(dir, ".git"));
    const result = await initProject({ dir });
    assert.ok(result.files.includes("quix.yaml"));
  });

  it("derives an npm package name from the folder name", () => {
    assert.equal(packageNameOf("My Features"), "my-features");
    assert.equal(packageNameOf(".hidden_Thing!"), "hidden_thing");
    assert.equal(packageNameOf("!!!"), "quixlab-project");
  });
});
