import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { InputError } from "../../src/errors/index.js";
import { withLock } from "../../src/infra/lock.js";
import { pidAlive, pidRuns, stopPid } from "../../src/infra/process.js";
import { servicesRestart } from "../../src/services/lifecycle.js";
import { readServices, type ServicesState, servicesFile, writeServices } from "../../src/services/state.js";

const scratch = mkdtempSync(join(tmpdir(), "quixlab-services-state-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

describe("services state file", () => {
  it("round-trips through .quixlab/services.json, and an empty state removes the file", () => {
    const cwd = mkdtempSync(join(scratch, "cwd-"));
    assert.equal(readServices(cwd), undefined);
    const state: ServicesState = {
      version: 1,
      broker: { provider: "local", brokers: ["127.0.0.1:40001"], pid: 123, dir: "/tmp/k", startupMs: 2400, startedAt: "2025-01-01T00:00:00.000Z" },
      redis: { provider: "local", url: "redis://127.0.0.1:40002", startupMs: 50, startedAt: "2025-01-01T00:00:01.000Z" },
    };
    writeServices(cwd, state);
    assert.equal(servicesFile(cwd), join(cwd, ".quixlab", "services.json"));
    assert.deepEqual(readServices(cwd), state);
    writeServices(cwd, { version: 1 });
    assert.equal(existsSync(servicesFile(cwd)), false);
  });

  it("a corrupt file is an InputError that names the file and says how to recover", () => {
    const cwd = mkdtempSync(join(scratch, "cwd-"));
    mkdirSync(join(cwd, ".quixlab"));
    for (const text of ["{not json", '{"version":2}', '{"version":1,"broker":{"brokers":"h:1"}}']) {
      writeFileSync(servicesFile(cwd), text);
      assert.throws(
        () => readServices(cwd),
        (e: unknown) => e instanceof InputError && e.context.file === servicesFile(cwd) && /services down/.test(e.remedy ?? ""),
      );
    }
  });
});

describe("services restart (no process started)", () => {
  it("with nothing recorded, says to run 'services up'", async () => {
    const cwd = mkdtempSync(join(scratch, "cwd-"));
    await assert.rejects(servicesRestart({ cwd }), (e: unknown) => e instanceof InputError && e.oneLine() === "no services are recorded, so there is nothing to restart — start them with 'quixlab services up'");
  });

  it("leaves services it does not run alone, and refuses them when named by --only", async () => {
    const cwd = mkdtempSync(join(scratch, "cwd-"));
    const state: ServicesState = {
      version: 1,
      broker: { provider: "external", brokers: ["kafka.internal:9092"], startupMs: 5, startedAt: "2025-01-01T00:00:00.000Z" },
      redis: { provider: "url", url: "redis://cache.internal:6379", startupMs: 5, startedAt: "2025-01-01T00:00:00.000Z" },
    };
    writeServices(cwd, state);
    assert.deepEqual(await servicesRestart({ cwd }), { state, restarted: { broker: false, redis: false } });
    await assert.rejects(
      servicesRestart({ cwd, only: "kafka" }),
      (e: unknown) => e instanceof InputError && /not one quixlab runs \(external at kafka\.internal:9092\)/.test(e.message) && e.context.field === "--only",
    );
    await assert.rejects(servicesRestart({ cwd, only: "redis" }), (e: unknown) => e instanceof InputError && /url at redis:\/\/cache\.internal:6379/.test(e.message));
    assert.deepEqual(readServices(cwd), state, "the state is unchanged");
  });
});

describe("process helpers", () => {
  it("stopPid escalates to SIGKILL when SIGTERM is ignored, and only returns once the process is gone", async () => {
    const child = spawn("sh", ["-c", 'trap "" TERM; echo ready; exec sleep 60'], { stdio: ["ignore", "pipe", "ignore"] });
    await once(child.stdout, "data");
    const pid = child.pid!;
    assert.equal(pidRuns(pid, "sleep"), true);
    assert.equal(pidRuns(pid, "kafka.Kafka"), false);
    const started = Date.now();
    await stopPid(pid, 300);
    assert.equal(pidAlive(pid), false);
    assert.ok(Date.now() - started >= 300, "it waited for the grace period before SIGKILL");
    const [, signal] = child.exitCode === null && child.signalCode === null ? await once(child, "exit") : [child.exitCode, child.signalCode];
    assert.equal(signal, "SIGKILL");
  });

  it("withLock runs holders one at a time and takes over a lock whose holder died", async () => {
    const lock = join(scratch, "a.lock");
    const order: string[] = [];
    const hold = (name: string) =>
      withLock(lock, async () => {
        order.push(`${name}+`);
        await new Promise((r) => setImmediate(r));
        order.push(`${name}-`);
      });
    await Promise.all([hold("a"), hold("b")]);
    assert.deepEqual(order, ["a+", "a-", "b+", "b-"]);

    // A lock left by a process that no longer exists.
    const dead = spawn(process.execPath, ["-e", ""]);
    await once(dead, "exit");
    mkdirSync(lock);
    writeFileSync(join(lock, "pid"), String(dead.pid));
    assert.equal(await withLock(lock, async () => readFileSync(join(lock, "pid"), "utf8"), { timeoutMs: 2_000 }), String(process.pid));
    assert.equal(existsSync(lock), false);
  });
});
