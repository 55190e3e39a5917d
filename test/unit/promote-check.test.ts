import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { readNotebook } from "../../src/notebook/model.js";
import { applyPromote } from "../../src/promote/apply.js";
import { checkPromoted, compareVendored, compareWithNotebook } from "../../src/promote/check.js";
import { planPromote } from "../../src/promote/plan.js";
import { readTemplate } from "../../src/promote/template.js";
import { runCli } from "../helpers/cli.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const versions = { quixlab: "0.1.0", tsx: "^4.20.0", typescript: "~5.8.3", "@types/node": "^20.19.0" };

let dir: string;
let notebookText: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "quixlab-promote-check-"));
  await mkdir(join(dir, "notebooks"));
  notebookText = await readFile(join(root, "notebooks", "ohlc.ipynb"), "utf8");
  await writeFile(join(dir, "notebooks", "ohlc.ipynb"), notebookText);
  await writeFile(join(dir, "quix.yaml"), await readFile(join(root, "test", "fixtures", "promote", "quix.yaml"), "utf8"));
  const plan = planPromote({
    notebook: readNotebook(join(dir, "notebooks", "ohlc.ipynb")),
    notebookPath: "notebooks/ohlc.ipynb",
    exportName: "ohlc1m",
    deployment: "candles-1m",
    descriptorText: await readFile(join(dir, "quix.yaml"), "utf8"),
    appDir: "apps/candles-1m",
    existingFiles: {},
    template: readTemplate("app"),
    versions,
  });
  await applyPromote(plan, { root: dir, descriptorFile: join(dir, "quix.yaml") });
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("promote --check", () => {
  it("finds the promoted app in sync with its notebook, skipping deployments promote did not write", async () => {
    const report = await checkPromoted(join(dir, "quix.yaml"));
    assert.equal(report.ok, true);
    assert.deepEqual(report.apps, [{ deployment: "candles-1m", application: "apps/candles-1m", source: "notebooks/ohlc.ipynb#ohlc1m", status: "ok" }]);
    assert.deepEqual(report.skipped, ["ticks-source"]);
    const r = await runCli(dir, "promote", "--check");
    assert.equal(r.code, 0);
    assert.match(r.out, /^ok {4}candles-1m \(apps\/candles-1m\/ from notebooks\/ohlc\.ipynb#ohlc1m\)$/m);
  });

  it("exits 1 naming the stale app once the notebook's feature changed", async () => {
    const edited = notebookText.replace('tumbling(\\"1m\\", { grace: \\"2s\\" })', 'tumbling(\\"1m\\", { grace: \\"4s\\" })');
    assert.notEqual(edited, notebookText);
    await writeFile(join(dir, "notebooks", "ohlc.ipynb"), edited);
    try {
      const r = await runCli(dir, "promote", "--check");
      assert.equal(r.code, 1);
      assert.match(r.out, /^stale candles-1m \(apps\/candles-1m\/ from notebooks\/ohlc\.ipynb#ohlc1m\): feature\.ts differs from the notebook's ohlc1m from line \d+$/m);
      assert.match(r.out, /1 promoted app\(s\) no longer match their notebook or this quixlab: promote them again \(candles-1m\)/);
      const json = await runCli(dir, "promote", "--check", "--json");
      assert.equal(json.code, 1);
      assert.equal(JSON.parse(json.out).apps[0].status, "stale");
    } finally {
      await writeFile(join(dir, "notebooks", "ohlc.ipynb"), notebookText);
    }
  });

  it("reports a missing notebook or a vanished export as stale", async () => {
    const code = await readFile(join(dir, "apps", "candles-1m", "feature.ts"), "utf8");
    const nb = readNotebook(join(dir, "notebooks", "ohlc.ipynb"));
    assert.deepEqual(compareWithNotebook(code, nb), { status: "ok" });
    const renamed = compareWithNotebook(code.replace("#ohlc1m,", "#ohlc2m,"), nb);
    assert.equal(renamed.status, "stale");
    assert.match(renamed.detail!, /no longer yields the feature: the notebook defines no 'ohlc2m'/);
    assert.deepEqual(compareWithNotebook("export {};\n", nb), { status: "stale", detail: "feature.ts has no quixlab header" });

    await rm(join(dir, "notebooks", "ohlc.ipynb"));
    try {
      const report = await checkPromoted(join(dir, "quix.yaml"));
      assert.equal(report.ok, false);
      assert.match(report.apps[0]!.detail!, /cannot read notebook notebooks\/ohlc\.ipynb/);
    } finally {
      await writeFile(join(dir, "notebooks", "ohlc.ipynb"), notebookText);
    }
  });

  it("reports an app whose vendored quixlab is older than the running one", async () => {
    const file = join(dir, "apps", "candles-1m", "package.json");
    const original = await readFile(file, "utf8");
    const pkg = JSON.parse(original);
    pkg.dependencies.quixlab = "file:quixlab-0.0.9.tgz";
    await writeFile(file, `${JSON.stringify(pkg, null, 2)}\n`);
    try {
      const report = await checkPromoted(join(dir, "quix.yaml"), "0.1.0");
      assert.equal(report.ok, false);
      assert.equal(report.apps[0]!.detail, "it vendors quixlab 0.0.9, older than the running 0.1.0: promote it again to vendor 0.1.0");
      assert.equal((await checkPromoted(join(dir, "quix.yaml"), "0.0.9")).ok, true, "the same version is current");
      const r = await runCli(dir, "promote", "--check");
      assert.equal(r.code, 1);
      assert.match(r.out, /^stale candles-1m .*: it vendors quixlab 0\.0\.9, older than the running /m);
    } finally {
      await writeFile(file, original);
    }
    assert.deepEqual(compareVendored('{"dependencies":{"quixlab":"^0.0.1"}}', "0.1.0"), { status: "ok" }, "a registry range is the user's");
    assert.equal(compareVendored('{"dependencies":{"quixlab":"file:quixlab-0.1.0-rc.1.tgz"}}', "0.1.0").status, "stale");
    assert.deepEqual(compareVendored("not json", "0.1.0"), { status: "ok" });
  });

  it("says so when there is nothing promoted, and exits 2 without a quix.yaml", async () => {
    const empty = await mkdtemp(join(tmpdir(), "quixlab-promote-check-empty-"));
    try {
      await writeFile(join(empty, "quix.yaml"), "metadata:\n  version: 1.0\ndeployments: []\ntopics: []\n");
      const r = await runCli(empty, "promote", "--check");
      assert.deepEqual([r.code, r.out], [0, "no promoted apps in quix.yaml\n"]);
      const missing = await runCli(empty, "promote", "--check", "--descriptor", "nope.yaml");
      assert.equal(missing.code, 2);
      assert.match(missing.err, /nope\.yaml: file not found/);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});

describe("promote: usage errors (exit 2, before anything runs)", () => {
  it("names the missing flag", async () => {
    const r = await runCli(dir, "promote", "notebooks/ohlc.ipynb", "--export", "ohlc1m", "--ticks", "t.jsonl");
    assert.equal(r.code, 2);
    assert.match(r.err, /^error: missing --name — usage: quixlab promote/);
  });

  it("rejects a bad number and an export that does not exist", async () => {
    const bad = await runCli(dir, "promote", "notebooks/ohlc.ipynb", "--export", "ohlc1m", "--name", "x", "--ticks", "t.jsonl", "--replicas", "0");
    assert.equal(bad.code, 2);
    assert.match(bad.err, /bad --replicas '0'/);
    const missing = await runCli(dir, "promote", "notebooks/ohlc.ipynb", "--export", "nope", "--name", "x", "--ticks", "t.jsonl");
    assert.equal(missing.code, 2);
    assert.match(missing.err, /the notebook defines no 'nope' — export one of: ohlc1h, ohlc1m, ohlc60s/);
  });

  it("refuses an app folder outside the project", async () => {
    const r = await runCli(dir, "promote", "notebooks/ohlc.ipynb", "--export", "ohlc1m", "--name", "x", "--ticks", "t.jsonl", "--apps-dir", "..");
    assert.equal(r.code, 2);
    assert.match(r.err, /would be outside the project .* — pass an --apps-dir inside the folder that holds quix\.yaml/);
  });
});
