import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { pidAlive } from "../../src/infra/process.js";
import { type LaunchOptions, launchServer, serverStopper } from "../../src/infra/server.js";

const scratch = mkdtempSync(join(tmpdir(), "quixlab-server-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A stand-in server: `node -e script`, its output in `<dir>/out.log`, ready once that log says "up". */
function options(script: string, over: Partial<LaunchOptions> = {}): LaunchOptions & { dir: string } {
  const dir = mkdtempSync(join(scratch, "srv-"));
  const logFile = join(dir, "out.log");
  return {
    dir,
    command: process.execPath,
    args: ["-e", script],
    cwd: dir,
    env: process.env,
    detached: false,
    logFile,
    ready: async () => existsSync(logFile) && readFileSync(logFile, "utf8").includes("up"),
    what: "the stand-in server",
    timeoutMs: 20_000,
    intervalMs: 20,
    stopGraceMs: 2_000,
    ...over,
  };
}

/** Whether any process's command line contains `marker` (Linux /proc). */
function running(marker: string): boolean {
  return readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .some((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(marker);
      } catch {
        return false;
      }
    });
}

describe("launchServer", () => {
  it("is ready once the probe answers; stop() ends it and removes its dir, once however often it is called", async () => {
    const o = options("console.log('up'); setInterval(() => {}, 1000)");
    const r = await launchServer(o);
    assert.equal(r.kind, "ready");
    if (r.kind !== "ready") return;
    assert.equal(pidAlive(r.pid), true);
    const stop = serverStopper(r.pid, o.dir, false, 5_000);
    const first = stop();
    assert.equal(stop(), first);
    await first;
    assert.equal(pidAlive(r.pid), false);
    assert.equal(existsSync(o.dir), false);
  });

  it("says how a server that exits during startup ended", async () => {
    assert.deepEqual(await launchServer(options("process.exit(3)")), { kind: "failed", why: "exited during startup (code 3)" });
  });

  it("says why a program cannot be started", async () => {
    const r = await launchServer(options("", { command: join(scratch, "no-such-server") }));
    assert.equal(r.kind, "failed");
    assert.match(r.kind === "failed" ? r.why : "", /^could not be started: spawn .*no-such-server ENOENT/);
  });

  it("stops a server that never answers once the time is up, naming what it waited for", async () => {
    const marker = `never-answers-${process.pid}-${Date.now()}`;
    const r = await launchServer(options(`setInterval(() => {}, 1000); // ${marker}`, { ready: async () => false, timeoutMs: 500 }));
    assert.equal(r.kind, "failed");
    assert.match(r.kind === "failed" ? r.why : "", /^timed out after 500 ms waiting for the stand-in server/);
    assert.equal(running(marker), false, "nothing is left running");
  });
});
