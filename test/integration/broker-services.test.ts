import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import type { ServicesStatus } from "../../src/services/lifecycle.js";
import { pidAlive, which } from "../../src/services/process.js";
import type { ServicesState } from "../../src/services/state.js";

const bin = resolve(import.meta.dirname, "../../bin/quixlab.js");

/** Run the CLI in `cwd`; resolves with the exit code and output whatever the code. */
async function quixlab(cwd: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" };
  // The session's own services must not be picked up: this test starts and stops its own.
  delete env.KAFKA_BROKERS;
  delete env.REDIS_URL;
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [bin, ...args], { cwd, env });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const r = e as { code?: number; stdout?: string; stderr?: string };
    return { code: r.code ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
  }
}

describe("quixlab services", () => {
  it("up starts a real Kafka and Redis that outlive it; status sees them; up again reuses; down leaves nothing", { timeout: 240_000 }, async (t) => {
    const cwd = mkdtempSync(join(tmpdir(), "quixlab-services-cli-"));
    t.after(async () => {
      await quixlab(cwd, "services", "down");
      rmSync(cwd, { recursive: true, force: true });
    });

    const up = await quixlab(cwd, "services", "up", "--broker", "local", "--redis", "local", "--json");
    assert.equal(up.code, 0, up.stderr);
    const state = JSON.parse(up.stdout) as ServicesState & { reused: { broker: boolean; redis: boolean } };
    const { broker, redis } = state;
    assert.ok(broker?.pid && redis?.pid && broker.dir && redis.dir);
    assert.equal(broker.provider, "local");
    assert.equal(redis.provider, "local");
    assert.match(broker.brokers[0]!, /^127\.0\.0\.1:\d+$/);
    assert.match(redis.url, /^redis:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(broker.startupMs > 0);
    assert.deepEqual(state.reused, { broker: false, redis: false });
    assert.deepEqual(JSON.parse(readFileSync(join(cwd, ".quixlab", "services.json"), "utf8")), { version: 1, broker, redis });
    // The CLI has exited; the services must still run.
    assert.equal(pidAlive(broker.pid), true);
    assert.equal(pidAlive(redis.pid), true);

    const status = await quixlab(cwd, "services", "status", "--json");
    assert.equal(status.code, 0, status.stderr);
    const s = JSON.parse(status.stdout) as ServicesStatus;
    assert.equal(s.running, true);
    assert.deepEqual([s.broker?.alive, s.broker?.brokers, s.redis?.alive, s.redis?.url], [true, broker.brokers, true, redis.url]);

    const again = await quixlab(cwd, "services", "up");
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /already up/);
    assert.match(again.stdout, new RegExp(`kafka +local +${broker.brokers[0]} +pid ${broker.pid} +already running`));
    assert.deepEqual(JSON.parse(readFileSync(join(cwd, ".quixlab", "services.json"), "utf8")).broker.pid, broker.pid);

    if (which("kcat")) {
      const { stdout } = await promisify(execFile)("kcat", ["-b", broker.brokers[0]!, "-L", "-m", "10"]);
      assert.match(stdout, new RegExp(`1 brokers:\\s+broker 1 at ${broker.brokers[0]}`));
    } else {
      t.diagnostic("kcat not installed; skipped the kcat -L check");
    }

    const down = await quixlab(cwd, "services", "down", "--json");
    assert.equal(down.code, 0, down.stderr);
    assert.deepEqual(JSON.parse(down.stdout).stopped, { version: 1, broker, redis });
    assert.equal(pidAlive(broker.pid), false, "no java left");
    assert.equal(pidAlive(redis.pid), false, "no redis-server left");
    assert.equal(existsSync(broker.dir), false);
    assert.equal(existsSync(redis.dir), false);
    assert.equal(existsSync(join(cwd, ".quixlab", "services.json")), false);

    const after = await quixlab(cwd, "services", "status");
    assert.equal(after.code, 1);
    assert.match(after.stdout, /no services recorded/);
  });

  it("rejects an unknown action and a Testcontainers broker with exit 2", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "quixlab-services-cli-"));
    try {
      const bad = await quixlab(cwd, "services", "sideways");
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /^error: unknown action 'sideways' — usage: quixlab services up\|down\|status/);
      const tc = await quixlab(cwd, "services", "up", "--broker", "testcontainers");
      assert.equal(tc.code, 2);
      assert.match(tc.stderr, /cannot keep a Testcontainers broker running/);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
