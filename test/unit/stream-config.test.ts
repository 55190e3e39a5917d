import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { main } from "../../cli/main.js";
import { InputError } from "../../src/errors/index.js";
import { stepConfigFromEnv } from "../../src/stream/config.js";

const base = { input: "ticks", output: "ohlc", Quix__Broker__Address: "kafka:9092" };

function capture() {
  let text = "";
  const write = (s: string) => {
    text += s;
    return true;
  };
  const stream = { write, isTTY: false } as unknown as NodeJS.WriteStream;
  return { stream, text: () => text };
}

describe("quixlab run configuration", () => {
  it("reads the descriptor's variables from the environment", () => {
    const c = stepConfigFromEnv({ ...base, REDIS_URL: "redis://r:6379", consumer_group: "g", processing: "exactly-once", dlq: "bad" });
    assert.deepEqual(c.brokers, ["kafka:9092"]);
    assert.equal(c.inputTopic, "ticks");
    assert.equal(c.outputTopic, "ohlc");
    assert.equal(c.redis, "redis://r:6379");
    assert.equal(c.consumerGroup, "g");
    assert.equal(c.processing, "exactly-once");
    assert.equal(c.dlqTopic, "bad");
  });

  it("lets flags override the environment, and KAFKA_BROKERS stand in for the Quix variable", () => {
    const c = stepConfigFromEnv(
      { input: "a", output: "b", KAFKA_BROKERS: "h1:1,h2:2", REDIS_URL: "redis://r:1" },
      { input: "c", group: "g2", redis: "none", exactlyOnce: true },
    );
    assert.equal(c.inputTopic, "c");
    assert.deepEqual(c.brokers, ["h1:1", "h2:2"]);
    assert.equal(c.redis, null, "--redis none turns the online store off");
    assert.equal(c.consumerGroup, "g2");
    assert.equal(c.processing, "exactly-once");
    assert.equal(stepConfigFromEnv(base, { broker: "x:1" }).brokers[0], "x:1");
    assert.equal(stepConfigFromEnv(base).processing, "at-least-once");
    assert.equal(stepConfigFromEnv({ ...base, Quix__Consumer_Group: "qg" }).consumerGroup, "qg", "quix-streams' variable, when consumer_group is not set");
    assert.equal(stepConfigFromEnv({ ...base, Quix__Consumer_Group: "qg", consumer_group: "mine" }).consumerGroup, "mine");
    assert.equal(stepConfigFromEnv(base).redis, null);
  });

  it("reads the step name and the worker thread switch", () => {
    assert.equal(stepConfigFromEnv({ ...base, QUIXLAB_STEP: "candles-1m" }).stepName, "candles-1m");
    assert.equal(stepConfigFromEnv(base).stepName, undefined);
    assert.equal(stepConfigFromEnv({ ...base, QUIXLAB_WORKER: "0" }).worker, false);
    assert.equal(stepConfigFromEnv({ ...base, QUIXLAB_WORKER: "1" }).worker, true);
    assert.equal("worker" in stepConfigFromEnv(base), false, "unset: the step's default");
  });

  it("reads the fetch patch switch (QUIXLAB_RAW_FETCH)", () => {
    assert.equal(stepConfigFromEnv({ ...base, QUIXLAB_RAW_FETCH: "0" }).rawFetch, false);
    assert.equal(stepConfigFromEnv({ ...base, QUIXLAB_RAW_FETCH: "1" }).rawFetch, true);
    assert.equal("rawFetch" in stepConfigFromEnv(base), false, "unset: the step's default");
    assert.throws(() => stepConfigFromEnv({ ...base, QUIXLAB_RAW_FETCH: "no" }), (e: unknown) => e instanceof InputError && /bad QUIXLAB_RAW_FETCH 'no'/.test(e.oneLine()));
  });

  it("names the missing variable and the flag", () => {
    const cases: [NodeJS.ProcessEnv, RegExp][] = [
      [{ output: "o", KAFKA_BROKERS: "k:1" }, /no input topic — set the 'input' environment variable or pass --input/],
      [{ input: "i", KAFKA_BROKERS: "k:1" }, /no output topic — set the 'output' environment variable or pass --output/],
      [{ input: "i", output: "o" }, /no Kafka broker address — set Quix__Broker__Address \(or KAFKA_BROKERS\).*--broker/],
      [{ ...base, processing: "maybe" }, /bad processing guarantee 'maybe'/],
      [{ ...base, REDIS_URL: "localhost:6379" }, /bad Redis URL/],
      [{ ...base, QUIXLAB_WORKER: "yes" }, /bad QUIXLAB_WORKER 'yes' — set it to 1 \(a worker thread, the default\) or 0 \(the step's own thread\)/],
    ];
    for (const [env, re] of cases) {
      assert.throws(
        () => stepConfigFromEnv(env),
        (e: unknown) => e instanceof InputError && e.exitCode === 2 && re.test(e.oneLine()),
      );
    }
  });

  it("exits 2 with the remedy when the CLI lacks configuration", async () => {
    const err = capture();
    const out = capture();
    const code = await main(["run", "src/feature/shipped/ohlc.ts#ohlc1m"], { env: { output: "o" }, stderr: err.stream, stdout: out.stream });
    assert.equal(code, 2);
    assert.match(err.text(), /no input topic — set the 'input' environment variable/);
    const help = capture();
    assert.equal(await main(["run", "--help"], { env: {}, stdout: help.stream, stderr: err.stream }), 0);
    for (const v of ["input", "output", "Quix__Broker__Address", "KAFKA_BROKERS", "REDIS_URL", "consumer_group", "processing", "dlq"]) {
      assert.match(help.text(), new RegExp(`^  ${v} `, "m"), `--help documents ${v}`);
    }
  });
});
