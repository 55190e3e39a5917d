/** The supervisor with real child processes (small node scripts): restarts with backoff, jobs, requests, stop. */
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { pidAlive } from "../../src/infra/process.js";
import { stepState } from "../../src/pipeline/state.js";
import { Supervisor, type SupervisorOptions } from "../../src/pipeline/supervisor.js";
import type { StepPlan, StepRecord } from "../../src/pipeline/types.js";

function step(name: string, script: string, over: Partial<StepPlan> = {}): StepPlan {
  return {
    name,
    kind: "Service",
    replicas: 1,
    cwd: process.cwd(),
    command: [process.execPath, "-e", script],
    env: { input: `${name}-in`, QUIXLAB_STEP: name },
    consumerGroup: name,
    inputs: [],
    outputs: [],
    ...over,
  };
}

/** A supervisor whose state changes and log lines tests can wait on. */
function supervise(steps: StepPlan[], opts: Partial<SupervisorOptions> = {}) {
  const lines: string[] = [];
  const changes = new EventEmitter();
  const sup = new Supervisor(steps, {
    settleMs: 200,
    backoffMs: 50,
    maxBackoffMs: 400,
    stopGraceMs: 2_000,
    ...opts,
    log: (l) => {
      lines.push(l);
      changes.emit("change");
    },
    onChange: () => changes.emit("change"),
  });
  /** Resolves with the records once `pred` holds (checked on every change), or fails after `ms`. */
  const until = (what: string, pred: (r: StepRecord[]) => boolean, ms = 15_000) =>
    new Promise<StepRecord[]>((resolve, reject) => {
      const check = () => {
        const r = sup.records();
        if (pred(r)) {
          cleanup();
          resolve(r);
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out waiting for ${what}; records: ${JSON.stringify(sup.records())}\nlog:\n${lines.join("\n")}`));
      }, ms);
      const cleanup = () => {
        clearTimeout(timer);
        changes.off("change", check);
      };
      changes.on("change", check);
      check();
    });
  return { sup, lines, until };
}

const allPids = (r: StepRecord[]) => r.flatMap((s) => s.replicas.map((x) => x.pid)).filter((p): p is number => p !== null);

describe("Supervisor", () => {
  it("restarts a crashing Service with doubling backoff, counting restarts, prefixing its lines", async () => {
    const { sup, lines, until } = supervise([step("crash", "console.log('hello from', process.env.QUIXLAB_REPLICA, process.env.input); setTimeout(() => process.exit(3), 50)", { replicas: 2 })], {
      settleMs: 60_000,
    });
    sup.start();
    const r = await until("four restarts of each replica", (rs) => rs[0]!.replicas.every((x) => x.restarts >= 4));
    await sup.stop();
    assert.ok(lines.includes("[crash#0] hello from 0 crash-in"), lines.join("\n"));
    assert.ok(lines.includes("[crash#1] hello from 1 crash-in"));
    const delays = lines.filter((l) => l.startsWith("[crash#0] exited with code 3")).map((l) => Number(/in (\d+) ms/.exec(l)?.[1]));
    assert.deepEqual(delays.slice(0, 4), [50, 100, 200, 400]);
    const last = r[0]!.replicas[0]!.lastExit!;
    assert.equal(last.code, 3);
    assert.equal(last.line, "hello from 0 crash-in");
    assert.deepEqual(allPids(sup.records()), [], "no pid left after stop");
    assert.ok(sup.records()[0]!.replicas.every((x) => x.state === "stopped"));
  });

  it("marks a replica running once it stays up, restarts a step on request, and stops stubborn ones with SIGKILL", async () => {
    const stubborn = "process.on('SIGTERM', () => console.log('ignoring SIGTERM')); console.log('up'); setInterval(() => {}, 1000)";
    const { sup, lines, until } = supervise([step("svc", "console.log('up'); setInterval(() => {}, 1000)"), step("stubborn", stubborn)], { stopGraceMs: 500 });
    sup.start();
    const running = await until("both running", (rs) => rs.every((s) => stepState(s) === "running"));
    const [oldSvc, oldStubborn] = allPids(running);
    assert.ok(pidAlive(oldSvc!) && pidAlive(oldStubborn!));

    assert.equal(sup.restartStep("nope"), false);
    assert.equal(sup.restartStep("svc"), true);
    const restarted = await until("svc restarted", (rs) => rs[0]!.replicas[0]!.restarts === 1 && rs[0]!.replicas[0]!.state === "running");
    const newSvc = restarted[0]!.replicas[0]!.pid!;
    assert.notEqual(newSvc, oldSvc);
    assert.ok(!pidAlive(oldSvc!), "the old process is gone");
    assert.equal(restarted[0]!.replicas[0]!.lastExit?.signal, "SIGTERM");

    // Running (up for settleMs) is not yet "has installed its SIGTERM handler" on a loaded machine: wait for its line.
    await until("the stubborn one's handler", () => lines.includes("[stubborn#0] up"));
    await sup.stop();
    assert.ok(lines.includes("[stubborn#0] ignoring SIGTERM"));
    assert.ok(lines.some((l) => l.startsWith("[stubborn#0] did not stop within 500 ms; SIGKILL")));
    assert.ok(!pidAlive(newSvc) && !pidAlive(oldStubborn!), "nothing left running");
    assert.equal(sup.records()[1]!.replicas[0]!.lastExit?.signal, "SIGKILL");
  });

  it("runs a Job once per replica to completion, without restarts", async () => {
    const { sup, lines, until } = supervise([step("job", "console.log('job', process.env.QUIXLAB_REPLICA); process.exit(Number(process.env.QUIXLAB_REPLICA))", { kind: "Job", replicas: 2 })]);
    sup.start();
    const r = await until("both replicas ended", (rs) => rs[0]!.replicas.every((x) => x.state === "completed" || x.state === "failed"));
    assert.deepEqual(
      r[0]!.replicas.map((x) => [x.state, x.restarts, x.lastExit?.code]),
      [
        ["completed", 0, 0],
        ["failed", 0, 1],
      ],
    );
    assert.equal(stepState(r[0]!), "failed");
    assert.ok(lines.includes("[job#0] completed"));
    assert.ok(lines.some((l) => l.startsWith("[job#1] failed: exited with code 1")));
    await sup.stop();
  });

  it("forgets a run of crashes once a replica has been up for stableMs", async () => {
    // Crashes at once the first two times, then lives 3 s (longer than stableMs) before crashing again; the
    // script counts its runs in a file. stableMs is far above a loaded machine's node start-up (up to ~1 s seen
    // in CI), so a quick crash never counts as having been up.
    const runs = join(await mkdtemp(join(tmpdir(), "quixlab-flaky-")), "runs");
    const script = `const fs = require("node:fs"); const f = ${JSON.stringify(runs)}; const n = fs.existsSync(f) ? Number(fs.readFileSync(f, "utf8")) : 0; fs.writeFileSync(f, String(n + 1)); setTimeout(() => process.exit(1), n === 2 ? 3000 : 10)`;
    const { sup, lines, until } = supervise([step("flaky", script)], { settleMs: 60_000, stableMs: 2_000, backoffMs: 40, maxBackoffMs: 10_000 });
    sup.start();
    await until("four restarts", (rs) => rs[0]!.replicas[0]!.restarts >= 4);
    await sup.stop();
    const delays = lines.filter((l) => l.startsWith("[flaky#0] exited with code 1")).map((l) => Number(/in (\d+) ms/.exec(l)?.[1]));
    // 40, 80 after quick crashes; the third run lasted past stableMs, so the streak restarts at 40.
    assert.deepEqual(delays.slice(0, 4), [40, 80, 40, 80]);
  });
});
