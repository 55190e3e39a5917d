import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { chooseBrokerProvider, parseBrokerList } from "../../src/broker/select.js";
import { EnvironmentError, InputError } from "../../src/errors/index.js";
import { chooseRedisProvider, parseRedisUrl } from "../../src/redis/provider.js";

describe("chooseBrokerProvider", () => {
  const none = { dockerAvailable: false };

  it("auto prefers an address, then KAFKA_BROKERS, then a running services broker, then Docker, then local", () => {
    const env = { KAFKA_BROKERS: "k1:9092,k2:9092" };
    const running = ["127.0.0.1:40000"];
    assert.deepEqual(chooseBrokerProvider({ address: "a:1", env, running, dockerAvailable: true }).brokers, ["a:1"]);
    const fromEnv = chooseBrokerProvider({ env, running, dockerAvailable: true });
    assert.deepEqual([fromEnv.provider, fromEnv.brokers, fromEnv.reason], ["external", ["k1:9092", "k2:9092"], "KAFKA_BROKERS is set"]);
    const reused = chooseBrokerProvider({ running, dockerAvailable: true });
    assert.deepEqual([reused.provider, reused.brokers], ["external", running]);
    assert.match(reused.reason, /services up/);
    assert.equal(chooseBrokerProvider({ dockerAvailable: true }).provider, "testcontainers");
    const local = chooseBrokerProvider(none);
    assert.equal(local.provider, "local");
    assert.match(local.reason, /no Docker/);
  });

  it("treats an empty KAFKA_BROKERS as unset", () => {
    assert.equal(chooseBrokerProvider({ env: { KAFKA_BROKERS: "" }, ...none }).provider, "local");
  });

  it("an explicit provider wins over the environment", () => {
    assert.equal(chooseBrokerProvider({ flag: "local", env: { KAFKA_BROKERS: "k:9092" }, dockerAvailable: true }).provider, "local");
    assert.equal(chooseBrokerProvider({ flag: "testcontainers", env: { KAFKA_BROKERS: "k:9092" }, dockerAvailable: true }).provider, "testcontainers");
  });

  it("takes HOST:PORT in the flag as an external broker", () => {
    const c = chooseBrokerProvider({ flag: "127.0.0.1:9092, [::1]:9093", ...none });
    assert.deepEqual([c.provider, c.brokers], ["external", ["127.0.0.1:9092", "[::1]:9093"]]);
  });

  it("refuses testcontainers without Docker, naming what to do", () => {
    assert.throws(
      () => chooseBrokerProvider({ flag: "testcontainers", ...none }),
      (e: unknown) => e instanceof EnvironmentError && e.exitCode === 2 && /--broker local/.test(e.remedy ?? ""),
    );
  });

  it("needs an address for external, and rejects unknown providers", () => {
    assert.throws(() => chooseBrokerProvider({ flag: "external", ...none }), (e: unknown) => e instanceof InputError && /KAFKA_BROKERS/.test(e.remedy ?? ""));
    assert.deepEqual(chooseBrokerProvider({ flag: "external", env: { KAFKA_BROKERS: "h:1" }, ...none }).brokers, ["h:1"]);
    assert.throws(
      () => chooseBrokerProvider({ flag: "docker", ...none }),
      (e: unknown) => e instanceof InputError && e.oneLine() === "unknown broker provider 'docker' — use --broker auto, local, testcontainers, or HOST:PORT",
    );
  });
});

describe("parseBrokerList", () => {
  it("accepts host names, IPv4 and bracketed IPv6, trimming spaces", () => {
    assert.deepEqual(parseBrokerList(" kafka-1.internal:9092 ,10.0.0.1:19092,[::1]:9092"), ["kafka-1.internal:9092", "10.0.0.1:19092", "[::1]:9092"]);
  });

  for (const [input, why] of [
    ["localhost", "expected HOST:PORT"],
    ["localhost:", "expected HOST:PORT"],
    [":9092", "expected HOST:PORT"],
    ["h:0", "port 0 is out of range"],
    ["h:70000", "port 70000 is out of range"],
    ["", "it is empty"],
    ["a:1,,b:2", "expected HOST:PORT"],
  ] as const) {
    it(`rejects '${input}': ${why}`, () => {
      assert.throws(
        () => parseBrokerList(input, "KAFKA_BROKERS"),
        (e: unknown) =>
          e instanceof InputError &&
          e.exitCode === 2 &&
          e.message.includes(why) &&
          e.message.includes("KAFKA_BROKERS") &&
          e.context.field === "KAFKA_BROKERS" &&
          e.remedy === "write HOST:PORT[,HOST:PORT], e.g. 127.0.0.1:9092",
      );
    });
  }
});

describe("chooseRedisProvider", () => {
  it("auto prefers a URL, then REDIS_URL, then a running services Redis, then Docker, then local, then embedded", () => {
    const env = { REDIS_URL: "redis://r:6379" };
    assert.deepEqual(chooseRedisProvider({ url: "redis://u:1", env, dockerAvailable: true, redisServerOnPath: true }).url, "redis://u:1");
    assert.deepEqual(chooseRedisProvider({ env, running: "redis://x:2", dockerAvailable: true, redisServerOnPath: true }).url, "redis://r:6379");
    const reused = chooseRedisProvider({ running: "redis://x:2", dockerAvailable: true, redisServerOnPath: true });
    assert.deepEqual([reused.provider, reused.url], ["url", "redis://x:2"]);
    assert.equal(chooseRedisProvider({ dockerAvailable: true, redisServerOnPath: true }).provider, "testcontainers");
    assert.equal(chooseRedisProvider({ dockerAvailable: false, redisServerOnPath: true }).provider, "local");
    const embedded = chooseRedisProvider({ dockerAvailable: false, redisServerOnPath: false });
    assert.deepEqual(embedded, { provider: "embedded", reason: "no redis-server on PATH; embedded-redis 1.4.3 from Maven Central" });
    // Anything before it still wins without redis-server.
    assert.equal(chooseRedisProvider({ dockerAvailable: true, redisServerOnPath: false }).provider, "testcontainers");
    assert.equal(chooseRedisProvider({ env, dockerAvailable: false, redisServerOnPath: false }).provider, "url");
    assert.equal(chooseRedisProvider({ running: "redis://x:2", dockerAvailable: false, redisServerOnPath: false }).provider, "url");
  });

  it("'embedded' is asked for by name; 'local' still means redis-server from PATH and says what to do without it", () => {
    const asked = chooseRedisProvider({ flag: "embedded", env: { REDIS_URL: "redis://r:1" }, dockerAvailable: true, redisServerOnPath: true });
    assert.equal(asked.provider, "embedded");
    assert.equal(chooseRedisProvider({ flag: "local", dockerAvailable: true, redisServerOnPath: true }).provider, "local");
    assert.throws(
      () => chooseRedisProvider({ flag: "local", dockerAvailable: false, redisServerOnPath: false }),
      (e: unknown) =>
        e instanceof EnvironmentError &&
        e.oneLine() === "'redis-server' is not on PATH — install Redis (apt-get install -y redis-server), or use --redis embedded (a redis-server from Maven Central)",
    );
  });

  it("takes a URL in the flag, and 'none' for no online store", () => {
    assert.deepEqual(chooseRedisProvider({ flag: "redis://127.0.0.1:6380/2", dockerAvailable: false, redisServerOnPath: true }).url, "redis://127.0.0.1:6380/2");
    assert.equal(chooseRedisProvider({ flag: "none", env: { REDIS_URL: "redis://r:1" }, dockerAvailable: true, redisServerOnPath: true }).provider, "none");
  });

  it("rejects bad URLs and unknown providers with a remedy", () => {
    assert.throws(() => parseRedisUrl("http://h:1", "REDIS_URL"), (e: unknown) => e instanceof InputError && e.context.field === "REDIS_URL" && /redis:\/\/HOST:PORT/.test(e.remedy ?? ""));
    assert.throws(() => chooseRedisProvider({ env: { REDIS_URL: "localhost:6379" }, dockerAvailable: false, redisServerOnPath: true }), InputError);
    assert.throws(() => chooseRedisProvider({ flag: "memcached", dockerAvailable: false, redisServerOnPath: true }), (e: unknown) => e instanceof InputError && /--redis auto, local, embedded/.test(e.remedy ?? ""));
    assert.throws(() => chooseRedisProvider({ flag: "testcontainers", dockerAvailable: false, redisServerOnPath: true }), EnvironmentError);
    assert.throws(() => chooseRedisProvider({ flag: "url", dockerAvailable: false, redisServerOnPath: true }), (e: unknown) => e instanceof InputError && /REDIS_URL/.test(e.remedy ?? ""));
  });
});
