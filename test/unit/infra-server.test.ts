import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { pidAlive } from "../../src/infra/process.js";
import { type LaunchOptions, launchServer, ownServer, relaunchServer, serverStopper } from "../../src/infra/server.js";

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

/** A stand-in server launched and owned (`ownServer`), with the options it was launched with. */
async function ownedStandIn() {
  const o = options("console.log('up'); setInterval(() => {}, 1000)");
  const r = await launchServer(o);
  if (r.kind !== "ready") return assert.fail(r.why);
  return { o, pid: r.pid, server: ownServer(r.pid, o.dir, false, 5_000) };
}

describe("ownServer", () => {
  it("kill() ends the process and keeps its dir; restart() runs the same command again in it; stop() removes it", async () => {
    const { o, pid, server } = await ownedStandIn();
    await server.kill();
    assert.equal(pidAlive(pid), false);
    assert.equal(existsSync(o.dir), true, "the dir stays for a restart");

    const again = await server.restart(o, () => false);
    assert.equal(again.kind, "ready");
    assert.notEqual(server.pid, pid);
    assert.equal(pidAlive(server.pid), true);

    await server.stop();
    assert.equal(pidAlive(server.pid), false);
    assert.equal(existsSync(o.dir), false);
    await assert.rejects(server.restart(o, () => false), /was stopped/);
  });

  it("restart() ends a server that still runs (SIGTERM) before starting it again", async () => {
    const { o, pid, server } = await ownedStandIn();
    after(() => server.stop());
    const again = await server.restart(o, () => false);
    assert.equal(again.kind, "ready");
    assert.equal(pidAlive(pid), false, "the old process is gone");
    assert.equal(pidAlive(server.pid), true);
  });

  it("relaunchServer retries while the port is still taken, and gives up after its attempts", async () => {
    const o = options("process.exit(1)");
    let asked = 0;
    const result = await relaunchServer(undefined, o, { portTaken: () => ++asked > 0, graceMs: 1_000, attempts: 3, delayMs: 10 });
    assert.deepEqual(result, { kind: "failed", why: "exited during startup (code 1)" });
    assert.equal(asked, 2, "asked after each failed launch but the last");
  });
});

