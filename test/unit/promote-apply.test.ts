import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { loadDescriptor } from "../../src/descriptor/index.js";
import { InputError } from "../../src/errors/index.js";
import { parseNotebook } from "../../src/notebook/model.js";
import { applyPromote, writeFileSet } from "../../src/promote/apply.js";
import { planPromote } from "../../src/promote/plan.js";
import { readTemplate } from "../../src/promote/template.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const fixtures = join(root, "test", "fixtures", "promote");
const ohlc = parseNotebook(await readFile(join(root, "notebooks", "ohlc.ipynb"), "utf8"), "notebooks/ohlc.ipynb");
const template = readTemplate("app");
const versions = { quixlab: "0.1.0", tsx: "^4.20.0", typescript: "~5.8.3", "@types/node": "^20.19.0" };

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "quixlab-promote-apply-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Every file under `d` (relative path → content), to compare a folder before and after. */
async function snapshot(d: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await readdir(d, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out[join(e.parentPath, e.name).slice(d.length + 1)] = await readFile(join(e.parentPath, e.name), "utf8");
  }
  return out;
}

describe("writeFileSet", () => {
  it("writes every file, creating folders, and keeps an existing file's mode", async () => {
    await writeFile(join(dir, "run.sh"), "old\n");
    await chmod(join(dir, "run.sh"), 0o755);
    await writeFileSet([
      { path: join(dir, "a", "b", "one.txt"), content: "1\n" },
      { path: join(dir, "run.sh"), content: "new\n" },
    ]);
    assert.deepEqual(await snapshot(dir), { "a/b/one.txt": "1\n", "run.sh": "new\n" });
    assert.equal((await stat(join(dir, "run.sh"))).mode & 0o777, 0o755);
  });

  it("writes nothing when one file cannot be written, and leaves no temporary files", async () => {
    await writeFile(join(dir, "keep.txt"), "before\n");
    await mkdir(join(dir, "taken"));
    const before = await snapshot(dir);
    await assert.rejects(
      writeFileSet([
        { path: join(dir, "keep.txt"), content: "after\n" },
        { path: join(dir, "new", "file.txt"), content: "x\n" },
        // A folder where a file should go: the rename into place fails after the others succeeded.
        { path: join(dir, "taken"), content: "y\n" },
      ]),
      (e: unknown) => e instanceof InputError && /cannot write .*taken/.test(e.message),
    );
    assert.deepEqual(await snapshot(dir), before);
    assert.deepEqual((await readdir(dir)).sort(), ["keep.txt", "taken"]);
  });

  it("puts every file back when the step after the renames fails", async () => {
    await writeFile(join(dir, "keep.txt"), "before\n");
    let sawNew = "";
    await assert.rejects(
      writeFileSet([{ path: join(dir, "keep.txt"), content: "after\n" }, { path: join(dir, "added.txt"), content: "x\n" }], async () => {
        sawNew = await readFile(join(dir, "keep.txt"), "utf8");
        throw new Error("descriptor edit failed");
      }),
      /descriptor edit failed/,
    );
    assert.equal(sawNew, "after\n", "the files were in place when the follow-up step ran");
    assert.deepEqual(await snapshot(dir), { "keep.txt": "before\n" });
  });
});

describe("applyPromote", () => {
  const planFor = (descriptorText: string | null, existingFiles: Record<string, string> = {}) =>
    planPromote({
      notebook: ohlc,
      notebookPath: "notebooks/ohlc.ipynb",
      exportName: "ohlc1m",
      deployment: "candles-1m",
      descriptorText,
      appDir: "candles-1m",
      existingFiles,
      template,
      versions,
      newVersion: "candles-1m-v1",
    });

  it("writes the app folder and quix.yaml; a no-op plan writes nothing", async () => {
    const quix = join(dir, "quix.yaml");
    const original = await readFile(join(fixtures, "quix.yaml"), "utf8");
    await writeFile(quix, original);
    const plan = planFor(original);
    const result = await applyPromote(plan, { root: dir, descriptorFile: quix });
    assert.deepEqual([...result.written].sort(), [...plan.files.map((f) => f.path), "quix.yaml"].sort());
    assert.equal(await readFile(quix, "utf8"), plan.descriptorAfter);
    for (const f of plan.files) assert.equal(await readFile(join(dir, f.path), "utf8"), f.content);
    assert.equal(result.outcome?.version, "candles-1m-v1");

    const files = await snapshot(join(dir, "candles-1m"));
    const again = planFor(plan.descriptorAfter, files);
    assert.equal(again.noop, true);
    const mtime = (await stat(quix)).mtimeMs;
    assert.deepEqual((await applyPromote(again, { root: dir, descriptorFile: quix })).written, []);
    assert.equal((await stat(quix)).mtimeMs, mtime);
  });

  it("creates quix.yaml when the project has none", async () => {
    const plan = planFor(null);
    await applyPromote(plan, { root: dir, descriptorFile: join(dir, "quix.yaml") });
    const loaded = loadDescriptor(await readFile(join(dir, "quix.yaml"), "utf8"));
    assert.deepEqual(loaded.errors, []);
    assert.deepEqual(
      loaded.value.deployments.map((d) => d.name),
      ["candles-1m"],
    );
  });

  it("leaves the app folder as it was when quix.yaml cannot be edited", async () => {
    const quix = join(dir, "quix.yaml");
    const original = await readFile(join(fixtures, "quix.yaml"), "utf8");
    const plan = planFor(original);
    // Someone broke the file after the plan was made: the edit under the lock fails validation.
    await writeFile(quix, "metadata: [\n");
    await assert.rejects(applyPromote(plan, { root: dir, descriptorFile: quix }), InputError);
    assert.deepEqual(await snapshot(dir), { "quix.yaml": "metadata: [\n" });
  });

  it("re-applies the edit to the file as it is at write time, keeping what changed since the plan", async () => {
    const quix = join(dir, "quix.yaml");
    const original = await readFile(join(fixtures, "quix.yaml"), "utf8");
    await writeFile(quix, original);
    const plan = planFor(original);
    const meanwhile = original.replace("# end of file", "  - name: added-meanwhile\n    persisted: true\n# end of file");
    await writeFile(quix, meanwhile);
    await applyPromote(plan, { root: dir, descriptorFile: quix });
    const topics = loadDescriptor(await readFile(quix, "utf8")).value.topics.map((t) => t.name);
    assert.deepEqual(topics, ["ticks", "added-meanwhile", "candles-1m", "ticks.dlq", "candles-1m.late", "candles-1m.ohlc1m.changelog"]);
  });

  it("two promotes racing on one quix.yaml both land, and the file stays valid", async () => {
    const quix = join(dir, "quix.yaml");
    await writeFile(quix, await readFile(join(fixtures, "quix.yaml"), "utf8"));
    const worker = (exportName: string, deployment: string) =>
      spawn(process.execPath, ["--import", "tsx", join(fixtures, "apply-worker.ts"), quix, join(root, "notebooks", "ohlc.ipynb"), "notebooks/ohlc.ipynb", exportName, deployment], {
        cwd: root,
        stdio: ["pipe", "pipe", "inherit"],
      });
    const workers = [worker("ohlc1m", "candles-1m"), worker("ohlc1h", "candles-1h")];
    const outputs = workers.map((w) => {
      let out = "";
      w.stdout!.on("data", (d: Buffer) => {
        out += d.toString();
      });
      return () => out;
    });
    // Both have planned from the same text before either writes.
    for (const [i, w] of workers.entries()) {
      while (!outputs[i]!().includes("ready\n")) await once(w.stdout!, "data");
    }
    for (const w of workers) w.stdin!.write("go\n");
    const codes = await Promise.all(workers.map(async (w) => (w.exitCode ?? (await once(w, "exit"))[0]) as number));
    assert.deepEqual(codes, [0, 0]);
    const loaded = loadDescriptor(await readFile(quix, "utf8"), "quix.yaml");
    assert.deepEqual(loaded.errors, []);
    assert.deepEqual(loaded.value.deployments.map((d) => d.name).sort(), ["candles-1h", "candles-1m", "ticks-source"]);
    assert.deepEqual(loaded.value.topics.map((t) => t.name).sort(), [
      "candles-1h",
      "candles-1h.late",
      "candles-1h.ohlc1h.changelog",
      "candles-1m",
      "candles-1m.late",
      "candles-1m.ohlc1m.changelog",
      "ticks",
      "ticks.dlq",
    ]);
    assert.ok((await readFile(quix, "utf8")).startsWith("# ============"), "the header comment survived both edits");
    assert.ok((await stat(join(dir, "candles-1h", "feature.ts"))).isFile());
    assert.ok((await stat(join(dir, "candles-1m", "feature.ts"))).isFile());
  });
});
