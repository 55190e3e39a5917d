/**
 * `quixlab up --detach` on a two-deployment descriptor (the OHLC step ×2 and a counter reading its candles)
 * against the session's real Kafka and Redis: both run and produce, the dashboard in a real pseudo-terminal
 * (tmux) shows them, a killed replica is restarted, the lag shown equals the admin API's, and `down` leaves
 * no process behind.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { type Admin, type Kafka, Partitioners, type Producer } from "kafkajs";
import { kafkaClient } from "../../src/kafka/client.js";
import type { DashboardData } from "../../src/pipeline/dashboard.js";
import { readPipelineState } from "../../src/pipeline/state.js";
import { pipelineStatus, type StepStatus } from "../../src/pipeline/status.js";
import { pidAlive } from "../../src/infra/process.js";
import { getKeys, getLatest } from "../../src/store/online.js";
import { readMetrics } from "../../src/stream/metrics.js";
import { waitFor } from "../../src/util/net.js";
import { writeProject } from "../fixtures/pipeline/project.js";
import { testServices, uniqueName } from "../harness/services.js";
import { bin, quixlab } from "../helpers/cli.js";

/** Run the CLI as a user would, in the project directory. */
const cli = (cwd: string, ...args: string[]) => quixlab(args, { cwd, timeoutMs: 240_000 });

/** Ticks for `products`, 10 rounds a second with the wall clock as event time, until stopped. */
function startFeeder(producer: Producer, topic: string, products: string[]) {
  let running = true;
  let sent = 0;
  const price = new Map(products.map((p, i) => [p, 100 * (i + 1)]));
  const loop = (async () => {
    while (running) {
      const messages = products.map((p) => {
        const next = price.get(p)! * (1 + (Math.random() - 0.5) / 100);
        price.set(p, next);
        return { key: p, value: JSON.stringify({ type: "ticker", product_id: p, price: next.toFixed(4), last_size: "0.5", time: new Date().toISOString() }) };
      });
      await producer.send({ topic, acks: -1, messages });
      sent += messages.length;
      // Pacing the feed, not waiting for anything.
      await delay(100);
    }
  })();
  return {
    sent: () => sent,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/** Committed lag of `group` on `topic`, per partition, straight from the admin API. */
async function adminLag(admin: Admin, group: string, topic: string): Promise<{ total: number; partitions: { partition: number; high: number; committed: number; lag: number }[] }> {
  const [marks, [committed]] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId: group, topics: [topic] })]);
  const partitions = marks
    .map((m) => {
      const c = Number(committed?.partitions.find((p) => p.partition === m.partition)?.offset ?? -1);
      const high = Number(m.high);
      return { partition: m.partition, high, committed: c, lag: high - (c < 0 ? Number(m.low) : c) };
    })
    .sort((a, b) => a.partition - b.partition);
  return { total: partitions.reduce((n, p) => n + p.lag, 0), partitions };
}

const step = (steps: StepStatus[], name: string) => {
  const s = steps.find((x) => x.name === name);
  assert.ok(s, `step ${name} in ${JSON.stringify(steps.map((x) => x.name))}`);
  return s;
};

describe("quixlab up / status / dashboard / down", () => {
  const tag = randomBytes(2).toString("hex");
  // Short step names: the dashboard shows 10 characters of a name at 80 columns.
  const ohlc = `ohlc-${tag}`;
  const counter = `cnt-${tag}`;
  const ticks = uniqueName("pipeline", "ticks");
  const candles = uniqueName("pipeline", "candles");
  const counts = uniqueName("pipeline", "counts");
  const feature = uniqueName("pipeline", "ohlc5s").replace(/-/g, "_");
  const products = ["ETH", "BTC", "SOL"].map((p) => `${p}-${tag}`);
  const tmux = `quixlab-test-${tag}`;
  let dir: string;
  let brokers: string[];
  let redisUrl: string;
  let kafka: Kafka;
  let admin: Admin;
  let producer: Producer;
  let redis: Redis;
  let feeder: ReturnType<typeof startFeeder> | undefined;

  before(async () => {
    ({ brokers, redisUrl } = await testServices());
    dir = mkdtempSync(join(tmpdir(), "quixlab-pipeline-"));
    writeProject(
      dir,
      [
        {
          name: ohlc,
          app: "ohlc",
          replicas: 2,
          variables: {
            input: ["InputTopic", ticks],
            output: ["OutputTopic", candles],
            window: ["FreeText", "5s"],
            feature_name: ["FreeText", feature],
            // A killed replica's partitions move after 6 s instead of 10.
            QUIXLAB_SESSION_TIMEOUT_MS: ["FreeText", "6000"],
          },
        },
        { name: counter, app: "counter", variables: { input: ["InputTopic", candles], output: ["OutputTopic", counts] } },
      ],
      [
        { name: ticks, partitions: 2 },
        { name: candles, partitions: 2 },
      ],
    );
    kafka = kafkaClient(brokers, { clientId: "pipeline-test" });
    admin = kafka.admin();
    await admin.connect();
    producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    redis = new Redis(redisUrl);
  });

  after(async () => {
    await feeder?.stop();
    spawnSync("tmux", ["-L", tmux, "kill-server"], { stdio: "ignore" });
    // Whatever a failed test left running.
    if (dir && readPipelineState(dir)) await cli(dir, "down");
    await producer?.disconnect();
    await admin?.disconnect();
    redis?.disconnect();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("up --detach creates the topics and starts both deployments with their replicas", async () => {
    const r = await cli(dir, "up", "--detach", "--broker", brokers.join(","), "--redis", redisUrl, "--timeout", "120");
    assert.equal(r.code, 0, `${r.out}\n${r.err}\n${existsSync(join(dir, ".quixlab/pipeline.log")) ? readFileSync(join(dir, ".quixlab/pipeline.log"), "utf8") : ""}`);
    assert.match(r.out, new RegExp(`${ohlc}\\s+Service\\s+running\\s+2/2`));
    assert.match(r.out, /stop it with 'quixlab down'/);
    const { topics } = await admin.fetchTopicMetadata({ topics: [ticks, candles, counts] });
    assert.deepEqual(Object.fromEntries(topics.map((t) => [t.name, t.partitions.length])), { [ticks]: 2, [candles]: 2, [counts]: 1 });
    const status = await pipelineStatus(dir, { metrics: false });
    assert.equal(status.running, true);
    const o = step(status.steps, ohlc);
    assert.equal(o.pids.length, 2);
    assert.ok(o.pids.every(pidAlive));
    assert.equal(step(status.steps, counter).pids.length, 1);
  });

  it("both steps consume and produce: status --json and Redis agree", async () => {
    feeder = startFeeder(producer, ticks, products);
    const status = await waitFor(
      async () => {
        const s = await pipelineStatus(dir);
        const o = step(s.steps, ohlc).metrics;
        const c = step(s.steps, counter).metrics;
        return o && c && o.reporting === 2 && o.emitted > 0 && c.emitted > 0 ? s : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 500, what: "both steps to emit" },
    );
    assert.equal(step(status.steps, ohlc).metrics?.feature, feature);

    const r = await cli(dir, "status", "--json");
    assert.equal(r.code, 0, r.err);
    const json = JSON.parse(r.out) as { running: boolean; steps: StepStatus[] };
    assert.equal(json.running, true);
    for (const [name, replicas] of [
      [ohlc, 2],
      [counter, 1],
    ] as const) {
      const s = step(json.steps, name);
      assert.equal(s.state, "running");
      assert.equal(s.running, replicas);
      assert.equal(s.instances.length, replicas);
      assert.ok(s.instances.every((x) => x.alive && x.pid !== null && x.restarts === 0));
      assert.ok((s.metrics?.consumed ?? 0) > 0, `${name} consumed`);
      assert.ok((s.metrics?.emitted ?? 0) > 0, `${name} emitted`);
    }

    // Redis: the candles in the online store, and both steps' per-replica metrics.
    const keys = await getKeys(redis, feature);
    assert.ok(products.some((p) => keys.includes(p)), `candles of ${products} in ${keys}`);
    const latest = await getLatest(redis, feature, keys[0]!);
    assert.ok(latest && (latest as { count?: number }).count! > 0);
    assert.deepEqual(
      (await readMetrics(redis, ohlc)).map((m) => m.replica),
      ["0", "1"],
    );
    assert.equal((await readMetrics(redis, counter))[0]?.consumerGroup, counter);
    const [countsEnd] = await admin.fetchTopicOffsets(counts);
    assert.ok(Number(countsEnd!.high) > 0, "the counter wrote to its output topic");
  });

  it("the dashboard in a pseudo-terminal shows the steps, a non-zero rate and the lag column; q quits", async () => {
    assert.ok(spawnSync("tmux", ["-V"]).status === 0, "tmux is needed for this test (apt-get install tmux)");
    const exitFile = join(dir, "dashboard.exit");
    // CI=false: Ink draws only a final frame when it thinks it runs under CI, and CI sets CI=true; this pane is a
    // real terminal, so the dashboard must draw live.
    const started = spawnSync("tmux", ["-L", tmux, "new-session", "-d", "-s", "dash", "-x", "80", "-y", "24", "-c", dir, `CI=false ${process.execPath} ${bin} dashboard; echo $? > ${exitFile}`], {
      encoding: "utf8",
    });
    assert.equal(started.status, 0, started.stderr);
    // The session goes whatever happens, so a failure here cannot leave a dashboard behind for the next test.
    try {
      const screen = () => spawnSync("tmux", ["-L", tmux, "capture-pane", "-p", "-t", "dash"], { encoding: "utf8" }).stdout ?? "";
      const rate = new RegExp(`${ohlc}\\s+running\\s+2/2\\s+([0-9.]+k?)\\s`);
      const shown = await waitFor(
        async () => {
          const s = screen();
          const m = rate.exec(s);
          return m && Number.parseFloat(m[1]!) > 0 && s.includes(counter) && /\bLAG\b/.test(s) ? s : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 250, what: "the dashboard to show a non-zero rate" },
      ).catch((e: Error) => {
        throw new Error(`${e.message}; screen:\n${screen()}`);
      });
      assert.match(shown, new RegExp(`${ticks.slice(0, 20)}`), "the graph names the input topic");
      assert.ok(shown.split("\n").every((l) => l.length <= 80));
      spawnSync("tmux", ["-L", tmux, "send-keys", "-t", "dash", "q"]);
      const code = await waitFor(async () => existsSync(exitFile) && readFileSync(exitFile, "utf8").trim(), { timeoutMs: 10_000, intervalMs: 100, what: "the dashboard to exit on q" });
      assert.equal(code, "0");
    } finally {
      spawnSync("tmux", ["-L", tmux, "kill-session", "-t", "dash"], { stdio: "ignore" });
    }
  });

  it("a killed replica is noticed and restarted", async () => {
    const before = step((await pipelineStatus(dir, { metrics: false })).steps, ohlc).instances[0]!;
    const killedAt = Date.now();
    process.kill(before.pid!, "SIGKILL");
    const after = await waitFor(
      async () => {
        const r = step((await pipelineStatus(dir, { metrics: false })).steps, ohlc).instances[0]!;
        return r.pid !== null && r.pid !== before.pid && r.alive && r.state === "running" ? r : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: "replica 0 to be restarted" },
    );
    assert.equal(after.restarts, before.restarts + 1);
    assert.equal(after.lastExit?.signal, "SIGKILL");
    assert.ok(!pidAlive(before.pid!));
    // The new process really runs the step: it reports as replica 0 again, started after the kill.
    await waitFor(async () => (await readMetrics(redis, ohlc)).some((m) => m.replica === "0" && m.startedAt >= killedAt && m.state === "running"), {
      timeoutMs: 60_000,
      intervalMs: 500,
      what: "the restarted replica's metrics",
    });
  });

  it("the lag the dashboard shows equals the lag the Kafka admin API reports", async () => {
    const counterPid = step((await pipelineStatus(dir, { metrics: false })).steps, counter).pids[0]!;
    // Freeze the counter: its committed offset stops while candles keep coming, so its lag is real and non-zero.
    process.kill(counterPid, "SIGSTOP");
    try {
      await waitFor(async () => (await adminLag(admin, counter, candles)).total >= 3, { timeoutMs: 60_000, intervalMs: 300, what: "the counter's lag to grow" });
      await feeder!.stop();
      feeder = undefined;
      // The OHLC step writes its candles before committing; once it has committed every tick, the candles are final.
      await waitFor(async () => (await adminLag(admin, ohlc, ticks)).total === 0, { timeoutMs: 60_000, intervalMs: 300, what: "the OHLC step to catch up" });
      const expected = await adminLag(admin, counter, candles);
      const r = await cli(dir, "dashboard", "--once", "--json");
      assert.equal(r.code, 0, r.err);
      const d = JSON.parse(r.out) as DashboardData;
      const shown = d.steps.find((s) => s.name === counter)!;
      assert.ok(expected.total > 0);
      assert.equal(shown.lagTotal, expected.total);
      assert.deepEqual(shown.lag[0]?.partitions, expected.partitions);
      assert.equal(d.steps.find((s) => s.name === ohlc)!.lagTotal, 0);
      assert.deepEqual(await adminLag(admin, counter, candles), expected, "nothing moved meanwhile");
      const plain = await cli(dir, "dashboard", "--once");
      assert.match(plain.out, new RegExp(`${counter}\\s+running\\s+1/1\\s+\\S+\\s+\\S+\\s+\\S+\\s+${expected.total}\\s`));
    } finally {
      process.kill(counterPid, "SIGCONT");
    }
    // Thawed, it catches up.
    await waitFor(async () => (await adminLag(admin, counter, candles)).total === 0, { timeoutMs: 60_000, intervalMs: 500, what: "the counter to catch up" });
  });

  it("down stops the supervisor and every step, leaving no process", async () => {
    const state = readPipelineState(dir)!;
    const pids = [state.supervisor.pid, ...state.steps.flatMap((s) => s.replicas.map((r) => r.pid!))];
    assert.equal(pids.length, 4);
    assert.ok(pids.every(pidAlive));
    const r = await cli(dir, "down");
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /pipeline stopped: 4 processes were running/);
    assert.deepEqual(pids.filter(pidAlive), []);
    assert.equal(readPipelineState(dir), undefined);
    // Nothing anywhere still runs from this project (the supervisor's command line names its descriptor).
    const stray = readdirSync("/proc").filter((p) => /^\d+$/.test(p) && cmdline(p).includes(dir));
    assert.deepEqual(stray, []);
    const again = await cli(dir, "status");
    assert.equal(again.code, 1);
    assert.match(again.out, /no pipeline is running here/);
    // The log kept every step's lines, prefixed.
    const log = readFileSync(join(dir, ".quixlab/pipeline.log"), "utf8");
    for (const p of [`[${ohlc}#0]`, `[${ohlc}#1]`, `[${counter}#0]`]) assert.ok(log.includes(p), p);
  });
});

function cmdline(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return "";
  }
}
