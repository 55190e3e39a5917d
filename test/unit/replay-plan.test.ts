import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InputError } from "../../src/errors/index.js";
import { replayNames, replaySettings, replayTopics, stepEnvironment } from "../../src/replay/plan.js";
import { runCli } from "../helpers/cli.js";

const base = { ref: "feats/ohlc.ts#ohlc1m", ticks: "data/t.jsonl" };
const defaults = { cwd: "/proj", seed: 42 };

/** The plan rejects `options`, naming `option` in the error's context. */
function rejects(options: Record<string, unknown>, option: string) {
  assert.throws(
    () => replaySettings({ ...base, ...options }, defaults),
    (e: unknown) => e instanceof InputError && e.context.option === option && e.message.includes(option) && Boolean(e.remedy),
  );
}

describe("replay plan: settings", () => {
  it("fills the defaults and resolves paths against cwd", () => {
    const s = replaySettings(base, defaults);
    assert.equal(s.partitions, 3);
    assert.equal(s.speed, Number.POSITIVE_INFINITY);
    assert.equal(s.speedText, "max");
    assert.equal(s.chaos, 0);
    assert.equal(s.seed, 42);
    assert.equal(s.stallMs, 90_000);
    assert.equal(s.keep, false);
    assert.equal(s.processing, "at-least-once");
    assert.deepEqual(s.broker, { provider: "auto" });
    assert.equal(s.redis, "auto");
    assert.equal(s.ticksFile, "/proj/data/t.jsonl");
    assert.equal(s.ticksShown, "data/t.jsonl");
    assert.equal(s.refForChild, "/proj/feats/ohlc.ts#ohlc1m");
    assert.equal(s.out, null);
    assert.equal(s.outFile, null);
    assert.deepEqual(s.read, {});
    assert.ok(Object.isFrozen(s));
  });

  it("takes what the options give", () => {
    const s = replaySettings(
      { ...base, cwd: "/other", ticks: "/data/x.csv", partitions: 4, speed: "10x", chaos: 5, seed: 7, keep: true, exactlyOnce: true, csvMap: "price=p", out: "o.jsonl", broker: "testcontainers", redis: "none" },
      defaults,
    );
    assert.equal(s.cwd, "/other");
    assert.equal(s.ticksShown, "/data/x.csv", "a file outside cwd is shown absolute");
    assert.equal(s.partitions, 4);
    assert.equal(s.speed, 10);
    assert.equal(s.speedText, "10x");
    assert.equal(s.chaos, 5);
    assert.equal(s.seed, 7);
    assert.equal(s.processing, "exactly-once");
    assert.deepEqual(s.read, { csvMap: "price=p" });
    assert.equal(s.out, "o.jsonl");
    assert.equal(s.outFile, "/other/o.jsonl");
    assert.deepEqual(s.broker, { provider: "testcontainers" });
    assert.equal(s.redis, "none");
  });

  it("reads HOST:PORT as a broker given, anything else as a provider", () => {
    assert.deepEqual(replaySettings({ ...base, broker: "127.0.0.1:9092,127.0.0.1:9093" }, defaults).broker, { provider: "external", address: "127.0.0.1:9092,127.0.0.1:9093" });
    assert.deepEqual(replaySettings({ ...base, broker: "local" }, defaults).broker, { provider: "local" });
  });

  it("rejects bad numbers and names the option", () => {
    for (const partitions of [0, 65, 2.5, Number.NaN]) rejects({ partitions }, "partitions");
    for (const speed of ["fast", "0x", "-2x", "10"]) rejects({ speed }, "speed");
    for (const chaos of [-1, 1.5]) rejects({ chaos }, "chaos");
    rejects({ seed: Number.NaN }, "seed");
    rejects({ stallMs: 0 }, "stallMs");
    rejects({ ref: "" }, "ref");
    rejects({ ticks: "" }, "ticks");
  });

  it("accepts the edges", () => {
    assert.equal(replaySettings({ ...base, partitions: 1 }, defaults).partitions, 1);
    assert.equal(replaySettings({ ...base, partitions: 64 }, defaults).partitions, 64);
    assert.equal(replaySettings({ ...base, speed: "0.5x" }, defaults).speed, 0.5);
  });
});

describe("replay plan: names and the step's environment", () => {
  const names = replayNames("ohlc1m", (prefix) => `${prefix}-u1`);

  it("derives every topic and group from one unique base", () => {
    assert.deepEqual(names, {
      base: "quixlab-replay-ohlc1m-u1",
      topics: {
        input: "quixlab-replay-ohlc1m-u1.ticks",
        output: "quixlab-replay-ohlc1m-u1.windows",
        dlq: "quixlab-replay-ohlc1m-u1.ticks.dlq",
        late: "quixlab-replay-ohlc1m-u1.windows.late",
      },
      group: "quixlab-replay-ohlc1m-u1.step",
      readerGroup: "quixlab-replay-ohlc1m-u1.reader",
      changelog: "quixlab-replay-ohlc1m-u1.step.ohlc1m.changelog",
    });
    assert.ok(replayNames("x").base.startsWith("quixlab-replay-x-"), "unique by default");
    assert.notEqual(replayNames("x").base, replayNames("x").base);
  });

  it("creates four topics of the same partitions that keep records of any age", () => {
    const specs = replayTopics(names, 4);
    assert.deepEqual(specs.map((t) => t.topic), [names.topics.input, names.topics.output, names.topics.dlq, names.topics.late]);
    for (const t of specs) {
      assert.equal(t.partitions, 4);
      assert.deepEqual(t.config, { "retention.ms": "-1" });
    }
  });

  it("tells the step its topics, group, services and processing as a deployment would", () => {
    const s = replaySettings({ ...base, exactlyOnce: true }, defaults);
    const env = stepEnvironment(s, names, { brokers: ["a:1", "b:2"], redisUrl: null, metricsFile: "/tmp/m.json" }, { PATH: "/bin", QUIXLAB_SESSION_TIMEOUT_MS: "9000" });
    assert.deepEqual(env, {
      PATH: "/bin",
      input: names.topics.input,
      output: names.topics.output,
      dlq: names.topics.dlq,
      late: names.topics.late,
      consumer_group: names.group,
      Quix__Broker__Address: "a:1,b:2",
      REDIS_URL: "none",
      processing: "exactly-once",
      QUIXLAB_RUNTIME: "stream",
      QUIXLAB_METRICS_FILE: "/tmp/m.json",
      QUIXLAB_SESSION_TIMEOUT_MS: "9000",
      QUIXLAB_IDLE: "0",
      NO_COLOR: "1",
    });
    const plain = stepEnvironment(replaySettings(base, defaults), names, { brokers: ["a:1"], redisUrl: "redis://r:6379", metricsFile: "m" }, {});
    assert.equal(plain.REDIS_URL, "redis://r:6379");
    assert.equal(plain.processing, "at-least-once");
    assert.equal(plain.QUIXLAB_SESSION_TIMEOUT_MS, "6000");
  });
});

describe("quixlab replay: flags", () => {
  const ref = "src/feature/shipped/ohlc.ts#ohlc1m";
  for (const [args, message] of [
    [["--partitions", "0"], /bad --partitions '0'.*from 1 to 64, e\.g\. --partitions 3/],
    [["--partitions", "x"], /bad --partitions 'x'/],
    [["--speed", "fast"], /bad --speed 'fast'.*--speed 10x/],
    [["--chaos=-1"], /bad --chaos '-1'/],
  ] as const) {
    it(`exits 2 on ${args.join(" ")}, naming the flag`, async () => {
      const r = await runCli(process.cwd(), "replay", ref, "--ticks", "data/coinbase-ticker-2021-04-17.jsonl", ...args);
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, message);
    });
  }
});
