/**
 * A promoted app folder builds and runs by itself, without Docker and without this checkout: a copy of the
 * folder alone is followed through its Dockerfile's steps by hand (COPY, then `npm install --omit=dev` from
 * the vendored quixlab tarball), then its CMD runs as a streaming step on the real broker and Redis.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { loadFeatureRef } from "../../src/feature/ref.js";
import { parseNotebook } from "../../src/notebook/model.js";
import { quixlabDependency } from "../../src/packaging/index.js";
import { applyPromote } from "../../src/promote/apply.js";
import { planPromote } from "../../src/promote/plan.js";
import { readTemplate } from "../../src/promote/template.js";
import { testServices } from "../harness/services.js";
import { repoRoot } from "../helpers/cli.js";
import { followDockerfile } from "../helpers/dockerfile.js";
import { NOTEBOOK_PACKAGES, proveAppRun } from "./app-helpers.js";

const TICKS = join(repoRoot, "data", "coinbase-ticker-2021-04-17.jsonl");

describe("a promoted app folder on its own, following its Dockerfile by hand", { timeout: 300_000 }, () => {
  const scratch = mkdtempSync(join(tmpdir(), "quixlab-app-folder-"));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it("installs from the vendored tarball alone, without the notebook packages, and runs the step with parity", async () => {
    // Promote's files, written without its replay gate (the promote tests cover the gate).
    const project = join(scratch, "project");
    const notebookPath = "notebooks/candles.ipynb";
    const notebook = parseNotebook(readFileSync(join(repoRoot, "templates", "project", notebookPath), "utf8"), notebookPath);
    const dependency = await quixlabDependency({ dir: "" });
    assert.ok(dependency.vendored, "from a checkout, quixlab is vendored");
    const plan = planPromote({
      notebook,
      notebookPath,
      exportName: "candles1m",
      deployment: "candles-1m",
      descriptorText: null,
      appDir: "candles-1m",
      existingFiles: {},
      template: readTemplate("app"),
      versions: { quixlab: dependency.spec, tsx: "^4.20.0", typescript: "~5.8.3", "@types/node": "^20.19.0" },
      vendor: { file: dependency.vendored.file, bytes: dependency.vendored.tarball.bytes },
      newVersion: "test",
    });
    mkdirSync(project);
    await applyPromote(plan, { root: project, descriptorFile: join(project, "quix.yaml") });

    // The build context is the app folder alone: nothing of the project or of this checkout is reachable.
    const context = join(scratch, "context");
    cpSync(join(project, "candles-1m"), context, { recursive: true });
    const built = followDockerfile(context, join(scratch, "app"));
    assert.deepEqual(built.cmd, ["node", "--import", "tsx", "main.ts"]);
    const installed = readdirSync(join(built.workdir, "node_modules"));
    assert.ok(installed.includes("quixlab") && installed.includes("kafkajs"), installed.join(", "));
    for (const p of NOTEBOOK_PACKAGES) assert.ok(!installed.includes(p), `${p} is not installed for a step (${installed.join(", ")})`);
    assert.ok(!existsSync(join(built.workdir, "node_modules", "quixlab", "test")), "the packed quixlab has no tests");

    const feature = await loadFeatureRef(`${join(built.workdir, "feature.ts")}#candles1m`, built.workdir);
    const batch = (await feature.batchRecords(TICKS)).records;
    const { brokers, redisUrl } = await testServices();
    const result = await proveAppRun({
      name: "app-folder",
      brokers,
      redisUrl,
      ticksFile: TICKS,
      batch,
      async start(vars) {
        const [program, ...args] = built.cmd;
        assert.equal(program, "node");
        const child = spawn(process.execPath, args, { cwd: built.workdir, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...built.env, ...vars }, stdio: ["ignore", "pipe", "pipe"] });
        let log = "";
        child.stdout.on("data", (d: Buffer) => (log += d));
        child.stderr.on("data", (d: Buffer) => (log += d));
        const exited = once(child, "exit");
        return {
          log: () => log,
          async stop() {
            if (child.exitCode === null) child.kill("SIGTERM");
            const [code] = await exited;
            return code as number | null;
          },
        };
      },
    });
    assert.ok(result.windows > 0);
    process.stderr.write(`[app-folder] ready ${result.readyMs} ms after start; ${result.windows} windows matched\n`);
  });
});
