/**
 * A source app folder builds and runs by itself, as a promoted step's does: the replay source `add source`
 * writes, copied alone (the Docker build context), is followed through its Dockerfile by hand (`npm install
 * --omit=dev` from the tarball vendored in the folder), then its CMD runs with only the deployment's variables
 * and produces the recording it carries into the session's real Kafka, and ends (no --loop: a Job).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { addSource } from "../../src/promote/add-source.js";
import { testServices, uniqueName } from "../harness/services.js";
import { repoRoot } from "../helpers/cli.js";
import { followDockerfile } from "../helpers/dockerfile.js";
import { NOTEBOOK_PACKAGES } from "./app-helpers.js";
import { readTopicUntil } from "./source-helpers.js";

const TICKS = join(repoRoot, "data", "coinbase-ticker-2021-04-17.jsonl");

describe("a source app folder on its own, following its Dockerfile by hand", { timeout: 300_000 }, () => {
  const scratch = mkdtempSync(join(tmpdir(), "quixlab-source-app-"));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it("installs from the tarball in the folder and replays the recording it carries", async (t) => {
    const project = join(scratch, "project");
    mkdirSync(project);
    const r = await addSource({ cwd: project, type: "replay", name: "replay", ticks: TICKS, speed: "max" });
    assert.equal(r.deploymentType, "Job");
    const context = join(scratch, "context");
    cpSync(join(project, "replay"), context, { recursive: true });
    const built = followDockerfile(context, join(scratch, "app"));
    assert.deepEqual(built.cmd, ["node", "--import", "tsx", "main.ts"]);
    const installed = readdirSync(join(built.workdir, "node_modules"));
    assert.ok(installed.includes("quixlab") && installed.includes("ws"), installed.join(", "));
    for (const p of NOTEBOOK_PACKAGES) assert.ok(!installed.includes(p), `${p} is not installed for a source`);

    const { brokers } = await testServices();
    const topic = uniqueName(t, "ticks");
    // What quixlab up or Quix gives it: the deployment's variables (app.yaml defaults) and the broker.
    const vars = { output: topic, ticks: "coinbase-ticker-2021-04-17.jsonl", speed: "max", loop: "false", Quix__Broker__Address: brokers.join(","), REDIS_URL: "none" };
    const [program, ...args] = built.cmd;
    assert.equal(program, "node");
    const child = spawn(process.execPath, args, { cwd: built.workdir, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...built.env, ...vars }, stdio: ["ignore", "pipe", "pipe"] });
    let log = "";
    child.stdout.on("data", (d: Buffer) => (log += d));
    child.stderr.on("data", (d: Buffer) => (log += d));
    const [code] = (await once(child, "exit")) as [number | null];
    assert.equal(code, 0, log);
    assert.match(log, /ready: producing to /);
    const lines = readFileSync(TICKS, "utf8").split("\n").filter(Boolean);
    const got = await readTopicUntil(brokers, topic, (m) => m.length >= lines.length);
    assert.deepEqual(got.map((m) => m.value).sort(), [...lines].sort(), "every line of the recording, as in the file");
  });
});
