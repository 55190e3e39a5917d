import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { describe, it } from "node:test";
import { pidAlive } from "../../src/infra/process.js";
import { waitFor } from "../../src/util/net.js";

const fixture = resolve(import.meta.dirname, "../harness/fixtures/hold-services.ts");

type Held = { broker?: { pid: number; dir: string }; redis?: { pid: number; dir: string } };

/** Run the fixture, wait for its line, send `signal`, and return what it had started and how it ended. */
async function holdAndSignal(services: string, signal: NodeJS.Signals) {
  const child = spawn(process.execPath, ["--import", "tsx", fixture, services], { stdio: ["ignore", "pipe", "inherit"], cwd: join(import.meta.dirname, "../..") });
  const exited = once(child, "exit");
  const [line] = (await once(createInterface({ input: child.stdout }), "line")) as [string];
  const held = JSON.parse(line) as Held;
  for (const s of [held.broker, held.redis]) if (s) assert.equal(pidAlive(s.pid), true);
  child.kill(signal);
  const [code, sig] = (await exited) as [number | null, NodeJS.Signals | null];
  return { held, code, sig };
}

async function assertGone(held: Held) {
  for (const s of [held.broker, held.redis]) {
    if (!s) continue;
    await waitFor(async () => !pidAlive(s.pid), { timeoutMs: 10_000, intervalMs: 50, what: `pid ${s.pid} to exit` });
    assert.equal(existsSync(s.dir), false, `${s.dir} removed`);
  }
}

describe("services started by a process end with it", () => {
  it("SIGTERM: the local broker and redis-server are killed and their dirs removed", { timeout: 120_000 }, async () => {
    const { held, sig } = await holdAndSignal("broker,redis", "SIGTERM");
    assert.equal(sig, "SIGTERM", "the process still dies of the signal it got");
    assert.ok(held.broker && held.redis);
    await assertGone(held);
  });

  it("SIGINT (Ctrl-C): the same for redis-server", { timeout: 60_000 }, async () => {
    const { held, sig } = await holdAndSignal("redis", "SIGINT");
    assert.equal(sig, "SIGINT");
    await assertGone(held);
  });
});
