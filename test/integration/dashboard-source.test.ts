/**
 * The dashboard's data source against the session's real Kafka and Redis: closing it while a refresh is in flight
 * leaves no connection open, so `quixlab dashboard` exits when q is pressed at any moment.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { writePipelineState } from "../../src/pipeline/state.js";
import { testServices, uniqueName } from "../harness/services.js";
import { repoRoot } from "../helpers/cli.js";

describe("dashboard source", () => {
  let dir: string;
  before(async () => {
    const { brokers, redisUrl } = await testServices();
    dir = mkdtempSync(join(tmpdir(), "quixlab-dashboard-source-"));
    const now = new Date().toISOString();
    // A pipeline as `quixlab up` records it; this process stands in for the supervisor, so it counts as running.
    writePipelineState(dir, {
      version: 1,
      state: "running",
      supervisor: { pid: process.pid, startedAt: now },
      descriptor: join(dir, "quix.yaml"),
      logFile: join(dir, "pipeline.log"),
      brokers,
      redisUrl,
      owned: {},
      steps: [{ name: "ohlc", kind: "Service", consumerGroup: uniqueName("dashboard-source", "group"), inputs: [uniqueName("dashboard-source", "ticks")], outputs: [], cwd: dir, command: [], replicas: [] }],
      skipped: [],
      updatedAt: now,
    });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("a source closed while a refresh is in flight lets the process exit, and refuses refreshes afterwards", async () => {
    // Closing right after the refresh starts (0 ms) caught it mid-request every time before the fix.
    const delays = [0, 0, 0, 0, 1, 2, 3, 5, 10, 50];
    const child = spawn(process.execPath, ["--import", "tsx", join(repoRoot, "test/fixtures/dashboard-close.ts"), dir, delays.join(",")], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (b) => (out += b));
    child.stderr.on("data", (b) => (err += b));
    const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    const [code, signal] = (await once(child, "exit")) as [number | null, string | null];
    clearTimeout(killer);
    assert.equal(signal, null, `the child did not exit by itself after closing its sources (a connection was left open); it printed:\n${out}${err}`);
    assert.equal(code, 0, err);
    const result = JSON.parse(out) as { lagTotal: (number | null)[]; inFlight: string[]; after: string[] };
    // Each first refresh really read the lag from Kafka (an unknown group has lag 0 on an unknown topic), so the
    // admin connection existed to be left open.
    assert.equal(result.lagTotal.length, delays.length);
    assert.ok(result.lagTotal.every((l) => l !== null), `lag read every time: ${JSON.stringify(result.lagTotal)}`);
    // The refresh in flight either finished or ended with the closed source's error; none hung.
    for (const r of result.inFlight) assert.match(r, /^data with \d+ problems$|^the dashboard source is closed$/);
    assert.deepEqual(result.after, delays.map(() => "the dashboard source is closed"));
  });
});
