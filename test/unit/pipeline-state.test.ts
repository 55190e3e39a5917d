import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, readdirSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { CheckFailedError, InputError } from "../../src/errors/index.js";
import { controlDir, requestRestart, takeRequests } from "../../src/pipeline/control.js";
import { advanceRates, describeExit, tailLines } from "../../src/pipeline/dashboard.js";
import { partitionLag } from "../../src/pipeline/lag.js";
import { readPipelineState, stepState, writePipelineState } from "../../src/pipeline/state.js";
import { metricsOf, summarizeMetrics } from "../../src/pipeline/status.js";
import { restartDelay } from "../../src/pipeline/supervisor.js";
import type { PipelineState, ReplicaRecord } from "../../src/pipeline/types.js";
import { initialMetrics, type StepMetrics } from "../../src/stream/metrics.js";

const replica = (state: ReplicaRecord["state"], index = 0): ReplicaRecord => ({ index, pid: null, state, restarts: 0, startedAt: null, lastExit: null });

function metrics(over: Partial<StepMetrics>): StepMetrics {
  const id = { step: "ohlc", replica: "0", feature: "ohlc1m", version: "v", processing: "at-least-once", redis: "up" } as const;
  const topics = { inputTopic: "ticks", outputTopic: "candles", consumerGroup: "ohlc" };
  return { ...initialMetrics({ ...id, ...topics }, 1_000), state: "running", heartbeatAt: 2_000, ...over };
}

describe("stepState", () => {
  const svc = (...states: ReplicaRecord["state"][]) => stepState({ kind: "Service", replicas: states.map((s, i) => replica(s, i)) });
  const job = (...states: ReplicaRecord["state"][]) => stepState({ kind: "Job", replicas: states.map((s, i) => replica(s, i)) });
  it("derives a Service's state from its replicas", () => {
    assert.equal(svc("running", "running"), "running");
    assert.equal(svc("running", "backoff"), "degraded");
    assert.equal(svc("backoff", "starting"), "restarting");
    assert.equal(svc("starting", "starting"), "starting");
    assert.equal(svc("running", "stopping"), "stopping");
    assert.equal(svc("stopped", "stopped"), "stopped");
    assert.equal(svc(), "stopped");
  });
  it("ends a Job completed or failed", () => {
    assert.equal(job("completed", "completed"), "completed");
    assert.equal(job("completed", "failed"), "failed");
    assert.equal(job("completed", "running"), "running");
    assert.equal(job("starting"), "starting");
  });
});

describe("restartDelay", () => {
  it("doubles per crash in a row, capped", () => {
    assert.deepEqual([1, 2, 3, 4, 10].map((n) => restartDelay(n, 500, 4_000)), [500, 1_000, 2_000, 4_000, 4_000]);
  });
});

describe("partitionLag", () => {
  it("is high watermark minus committed, from the low watermark when nothing was committed", () => {
    assert.equal(partitionLag(100, 0, 60), 40);
    assert.equal(partitionLag(100, 20, -1), 80);
    assert.equal(partitionLag(100, 0, 100), 0);
  });
});

describe("metrics of a step", () => {
  it("matches reports by step name, else by consumer group, and sums the replicas", () => {
    const all = [
      metrics({ replica: "0", consumed: 10, emitted: 1, windowsOpen: 3, heartbeatAt: 5_000 }),
      metrics({ replica: "1", consumed: 5, emitted: 2, windowsOpen: 4, lastError: "boom", heartbeatAt: 6_000 }),
      metrics({ step: "quixlab-x", consumerGroup: "grp", replica: "0", consumed: 7 }),
    ];
    const mine = metricsOf({ name: "ohlc", consumerGroup: "ohlc" }, all);
    assert.equal(mine.length, 2);
    assert.deepEqual(summarizeMetrics(mine), {
      reporting: 2,
      consumed: 15,
      emitted: 3,
      rejected: 0,
      late: 0,
      lag: 0,
      windowsOpen: 7,
      lastError: "boom",
      feature: "ohlc1m",
      heartbeatAt: 6_000,
    });
    assert.equal(metricsOf({ name: "other", consumerGroup: "grp" }, all)[0]?.consumed, 7);
    assert.equal(summarizeMetrics([]), null);
  });
});

describe("advanceRates", () => {
  it("rates each replica by its own heartbeats and sums them per step", () => {
    const first = advanceRates(undefined, { ohlc: [metrics({ replica: "0", consumed: 100, heartbeatAt: 10_000 }), metrics({ replica: "1", consumed: 50, heartbeatAt: 10_000 })] });
    assert.deepEqual(first.rates.ohlc, { consumed: 0, emitted: 0, rejected: 0, late: 0, updates: 0 }, "one read gives no rate");
    const second = advanceRates(first.sample, {
      ohlc: [metrics({ replica: "0", consumed: 300, emitted: 4, heartbeatAt: 12_000 }), metrics({ replica: "1", consumed: 150, heartbeatAt: 11_000 })],
    });
    assert.deepEqual(second.rates.ohlc, { consumed: 100 + 100, emitted: 2, rejected: 0, late: 0, updates: 0 });
    // No new report from replica 0: its last rate stands instead of dropping to zero.
    const third = advanceRates(second.sample, { ohlc: [metrics({ replica: "0", consumed: 300, emitted: 4, heartbeatAt: 12_000 })] });
    assert.deepEqual(third.rates.ohlc, { consumed: 100, emitted: 2, rejected: 0, late: 0, updates: 0 });
  });

  it("rates a restarted replica from its start (its counters began again at zero)", () => {
    const a = advanceRates(undefined, { s: [metrics({ consumed: 1_000, startedAt: 0, heartbeatAt: 50_000 })] });
    const b = advanceRates(a.sample, { s: [metrics({ consumed: 40, startedAt: 60_000, heartbeatAt: 62_000 })] });
    assert.equal(b.rates.s!.consumed, 20);
  });
});

describe("describeExit", () => {
  it("gives the signal, or the code with the last line", () => {
    assert.equal(describeExit({ code: null, signal: "SIGKILL", at: "2024-01-01T10:00:01.000Z", line: "noise" }), "killed by SIGKILL at 10:00:01");
    assert.equal(describeExit({ code: 2, signal: null, at: "2024-01-01T10:00:01.000Z", line: "error: no input topic" }), "exit 2 at 10:00:01: error: no input topic");
  });
});

describe("state file, control requests and logs", () => {
  let cwd: string;
  before(async () => {
    cwd = await mkdtemp(join(tmpdir(), "quixlab-pipeline-state-"));
  });
  after(async () => {
    await rm(cwd, { recursive: true, force: true });
  });

  const state = (pid: number): PipelineState => ({
    version: 1,
    state: "running",
    supervisor: { pid, startedAt: new Date().toISOString() },
    descriptor: join(cwd, "quix.yaml"),
    logFile: join(cwd, ".quixlab", "pipeline.log"),
    brokers: ["127.0.0.1:9092"],
    redisUrl: null,
    owned: {},
    steps: [{ name: "ohlc", kind: "Service", consumerGroup: "ohlc", inputs: ["ticks"], outputs: ["candles"], cwd, command: ["node", "main.ts"], replicas: [replica("running")] }],
    skipped: [],
    updatedAt: new Date().toISOString(),
  });

  it("round-trips the state file and rejects a corrupt one with a remedy", async () => {
    writePipelineState(cwd, state(123));
    assert.equal(readPipelineState(cwd)?.supervisor.pid, 123);
    await writeFile(join(cwd, ".quixlab", "pipeline.json"), "{not json");
    assert.throws(() => readPipelineState(cwd), (e: unknown) => e instanceof InputError && /quixlab down/.test(e.remedy ?? ""));
  });

  it("refuses a restart request when no supervisor runs", () => {
    writePipelineState(cwd, state(2 ** 22 + 12345));
    assert.throws(() => requestRestart(cwd, "ohlc"), CheckFailedError);
  });

  it("delivers a restart request as a file and SIGUSR2 to the supervisor", async () => {
    // Stands in for a supervisor: its command line says quixlab, and it reports SIGUSR2.
    const fake = spawn(process.execPath, ["-e", "process.on('SIGUSR2', () => { console.log('usr2'); process.exit(0) }); console.log('ready'); setInterval(() => {}, 1000)", "quixlab-fake-supervisor"], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      const [first] = (await once(fake.stdout!, "data")) as [Buffer];
      assert.match(first.toString(), /ready/);
      writePipelineState(cwd, state(fake.pid!));
      assert.throws(() => requestRestart(cwd, "nope"), (e: unknown) => e instanceof InputError && /use one of: ohlc/.test(e.remedy ?? ""));
      const got = once(fake.stdout!, "data");
      requestRestart(cwd, "ohlc");
      assert.match(String((await got)[0]), /usr2/);
      assert.equal(readdirSync(controlDir(cwd)).filter((f) => f.endsWith(".json")).length, 1);
      assert.deepEqual(takeRequests(cwd), [{ action: "restart", step: "ohlc" }]);
      assert.deepEqual(takeRequests(cwd), [], "taken requests are gone");
    } finally {
      fake.kill("SIGKILL");
    }
  });

  it("tails a step's lines from the shared log", async () => {
    const file = join(cwd, "p.log");
    const lines = Array.from({ length: 50 }, (_, i) => `[${i % 2 ? "ohlc" : "counter"}#0] line ${i}`);
    await writeFile(file, `${lines.join("\n")}\n[ohlc-2#0] not ohlc\n`);
    assert.deepEqual(tailLines(file, "[ohlc#", 2), ["[ohlc#0] line 47", "[ohlc#0] line 49"]);
    assert.deepEqual(tailLines(join(cwd, "missing.log"), "[x#", 5), []);
    assert.ok(!existsSync(join(cwd, "missing.log")));
  });
});
