/**
 * The Quix Cloud connection against the fake Portal API (test/helpers/portal.ts): broker settings to a
 * KafkaConnection, topic ids, the group prefix, precedence of a broker address, caching, and the typed errors.
 */
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { after, before, beforeEach, describe, it } from "node:test";
import { InputError } from "../../src/errors/index.js";
import { clearQuixCloudCache, connectionFromLibrdkafka, prependWorkspaceId, QuixCloudError, QuixTopicError, stripWorkspaceIdPrefix } from "../../src/kafka/index.js";
import { resolveStepConfig, stepConfigFromEnv } from "../../src/stream/config.js";
import { type FakePortal, startFakePortal } from "../helpers/portal.js";

const PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const SETTINGS = {
  "bootstrap.servers": "b1.quix.example:9093,b2.quix.example:9093",
  "security.protocol": "SASL_SSL",
  "sasl.mechanism": "SCRAM-SHA-256",
  "sasl.username": "ws1-user",
  "sasl.password": "pw",
  "ssl.ca.cert": Buffer.from(PEM).toString("base64"),
};

describe("librdkafka settings to a KafkaConnection", () => {
  it("maps SASL_SSL with SCRAM and decodes the base64 CA, as quix-streams does", () => {
    const c = connectionFromLibrdkafka(SETTINGS, "ws1");
    assert.deepEqual(c.brokers, ["b1.quix.example:9093", "b2.quix.example:9093"]);
    assert.deepEqual(c.sasl, { mechanism: "scram-sha-256", username: "ws1-user", password: "pw" });
    assert.deepEqual(c.ssl, { ca: PEM, rejectUnauthorized: true });
  });

  it("takes any case, the sasl.mechanisms alias, PLAIN and SCRAM-SHA-512, and no TLS without ssl", () => {
    const base = { "bootstrap.servers": "b:9092", "sasl.username": "u", "sasl.password": "p" };
    const plain = connectionFromLibrdkafka({ ...base, "security.protocol": "sasl_plaintext", "sasl.mechanisms": "Plain" }, "w");
    assert.equal(plain.sasl?.mechanism, "plain");
    assert.equal(plain.ssl, undefined);
    assert.equal(connectionFromLibrdkafka({ ...base, "security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "scram-sha-512" }, "w").sasl?.mechanism, "scram-sha-512");
    assert.equal(connectionFromLibrdkafka({ ...base, "security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN" }, "w").ssl, true, "SSL without a CA: the system's");
    assert.deepEqual(connectionFromLibrdkafka({ "bootstrap.servers": "b:9092" }, "w"), { brokers: ["b:9092"], source: "Quix Cloud workspace w" });
  });

  it("refuses what kafkajs cannot do, naming it", () => {
    assert.throws(() => connectionFromLibrdkafka({ "bootstrap.servers": "b", "security.protocol": "SASL_SSL", "sasl.mechanism": "GSSAPI", "sasl.username": "u", "sasl.password": "p" }, "w"), (e: unknown) => e instanceof QuixCloudError && /GSSAPI/.test(e.message));
    assert.throws(() => connectionFromLibrdkafka({ "security.protocol": "SASL_SSL" }, "w"), /no bootstrap.servers/);
    assert.throws(() => connectionFromLibrdkafka({ "bootstrap.servers": "b", "security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN" }, "w"), /sasl.username/);
  });

  it("prefixes groups with the workspace id once, and strips it", () => {
    assert.equal(prependWorkspaceId("ws1", "quixlab-ohlc1m"), "ws1-quixlab-ohlc1m");
    assert.equal(prependWorkspaceId("ws1", "ws1-quixlab-ohlc1m"), "ws1-quixlab-ohlc1m");
    assert.equal(stripWorkspaceIdPrefix("ws1", "ws1-g"), "g");
    assert.equal(stripWorkspaceIdPrefix("ws1", "g"), "g");
  });
});

describe("resolveStepConfig on Quix Cloud (fake Portal API)", () => {
  let portal: FakePortal;
  const env = () => ({ input: "ticks", output: "candles", Quix__Sdk__Token: "sdk-good", Quix__Portal__Api: portal.url, Quix__Workspace__Id: "ws1" });
  before(async () => {
    portal = await startFakePortal({ token: "sdk-good", workspaceId: "ws1", librdkafka: SETTINGS });
    await portal.declare("ticks", 3);
    await portal.declare("candles", 3);
  });
  after(() => portal.close());
  beforeEach(() => {
    clearQuixCloudCache();
    portal.requests.length = 0;
  });

  it("connects with the Portal's settings, the bearer token and X-Version, and caches them for the process", async () => {
    const a = await resolveStepConfig(env());
    assert.deepEqual(a.brokers, ["b1.quix.example:9093", "b2.quix.example:9093"]);
    assert.equal(a.connection?.sasl?.username, "ws1-user");
    assert.equal(a.platform?.group("quixlab-ohlc1m"), "ws1-quixlab-ohlc1m");
    assert.deepEqual(portal.requests.map((r) => [r.method, r.path, r.authorization, r.version]), [["GET", "/workspaces/ws1/broker/librdkafka", "Bearer sdk-good", "2.0"]]);
    const b = await resolveStepConfig(env());
    assert.equal(b.platform, a.platform, "one connection per process");
    assert.equal(portal.requests.length, 1, "the settings were fetched once");
  });

  it("gives the workspace's topic ids, creates missing ones through the API (the changelog compacted, like the input's partitions), once", async () => {
    const { platform } = await resolveStepConfig(env());
    const names = ["ticks", "candles", "ticks.dlq", "candles.late", "quixlab-ohlc1m.ohlc1m.changelog"];
    const requests = names.map((name, i) => ({ name, ...(i === 4 ? { compact: true } : {}) }));
    assert.deepEqual(await platform!.topics(requests), names.map((n) => `ws1-${n}`));
    const posts = portal.requests.filter((r) => r.method === "POST");
    assert.deepEqual(
      posts.map((r) => r.body as { name: string; configuration: { partitions: number; cleanupPolicy: string | null } }).map((b) => [b.name, b.configuration.partitions, b.configuration.cleanupPolicy]),
      [["ticks.dlq", 3, null], ["candles.late", 3, null], ["quixlab-ohlc1m.ohlc1m.changelog", 3, "compact"]],
    );
    assert.equal(portal.topics.get("quixlab-ohlc1m.ohlc1m.changelog")?.configuration?.cleanupPolicy, "Compact");
    const before = portal.requests.length;
    await platform!.topics(requests);
    assert.equal(portal.requests.length, before, "topic lookups are cached");
  });

  it("waits until a created topic is Ready", async () => {
    const slow = await startFakePortal({ token: "t", workspaceId: "ws2", librdkafka: SETTINGS, creatingReads: 2 });
    try {
      await slow.declare("in", 1);
      const { platform } = await resolveStepConfig({ ...env(), Quix__Sdk__Token: "t", Quix__Portal__Api: slow.url, Quix__Workspace__Id: "ws2" });
      assert.deepEqual(await platform!.topics([{ name: "in" }, { name: "new" }]), ["ws2-in", "ws2-new"]);
      assert.ok(slow.requests.filter((r) => r.method === "GET" && r.path === "/ws2/topics").length >= 3, "polled the topic list until Ready");
    } finally {
      await slow.close();
    }
  });

  it("a topic it may not create is a QuixTopicError naming it and saying to declare it in quix.yaml", async () => {
    const strict = await startFakePortal({ token: "t", workspaceId: "ws3", librdkafka: SETTINGS, refuseCreate: true });
    try {
      await strict.declare("in", 1);
      const { platform } = await resolveStepConfig({ ...env(), Quix__Sdk__Token: "t", Quix__Portal__Api: strict.url, Quix__Workspace__Id: "ws3" });
      await assert.rejects(platform!.topics([{ name: "in" }, { name: "in.dlq" }]), (e: unknown) => e instanceof QuixTopicError && e.context.topic === "in.dlq" && /declare 'in\.dlq' in quix\.yaml/.test(e.oneLine()) && e.exitCode === 2);
    } finally {
      await strict.close();
    }
  });

  it("without a workspace id uses the token's only workspace", async () => {
    const { platform } = await resolveStepConfig({ ...env(), Quix__Workspace__Id: "" });
    assert.equal(platform?.group("g"), "ws1-g");
    assert.deepEqual(portal.requests.map((r) => r.path), ["/workspaces", "/workspaces/ws1/broker/librdkafka"]);
  });

  it("a broker address wins over the token, as in quix-streams: --broker, Quix__Broker__Address, KAFKA_BROKERS", async () => {
    for (const [extra, flags, want] of [
      [{ Quix__Broker__Address: "10.0.0.1:9092" }, {}, "10.0.0.1:9092"],
      [{ KAFKA_BROKERS: "10.0.0.2:9092" }, {}, "10.0.0.2:9092"],
      [{ Quix__Broker__Address: "10.0.0.1:9092" }, { broker: "10.0.0.3:9092" }, "10.0.0.3:9092"],
    ] as const) {
      const c = await resolveStepConfig({ ...env(), ...extra }, flags);
      assert.deepEqual([c.brokers, c.platform, c.connection], [[want], undefined, undefined]);
    }
    assert.equal(portal.requests.length, 0, "the Portal API was not asked");
  });

  it("a wrong token is a QuixCloudError naming Quix__Sdk__Token (exit 2)", async () => {
    await assert.rejects(resolveStepConfig({ ...env(), Quix__Sdk__Token: "sdk-bad" }), (e: unknown) => {
      assert.ok(e instanceof QuixCloudError);
      assert.equal(e.status, 401);
      assert.equal(e.context.field, "Quix__Sdk__Token");
      assert.match(e.oneLine(), /refused the token.*check Quix__Sdk__Token/);
      assert.equal(e.exitCode, 2);
      return true;
    });
  });

  it("an unreachable Portal API is a QuixCloudError naming Quix__Portal__Api, within a second or two", async () => {
    const port = await new Promise<number>((ok) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => ok(p));
      });
    });
    const started = Date.now();
    await assert.rejects(resolveStepConfig({ ...env(), Quix__Portal__Api: `http://127.0.0.1:${port}` }), (e: unknown) => e instanceof QuixCloudError && e.context.field === "Quix__Portal__Api" && /unreachable/.test(e.message));
    assert.ok(Date.now() - started < 3_000, `${Date.now() - started} ms`);
  });

  it("a token without Quix__Portal__Api is an InputError; stepConfigFromEnv says to use resolveStepConfig", async () => {
    await assert.rejects(resolveStepConfig({ ...env(), Quix__Portal__Api: "" }), (e: unknown) => e instanceof InputError && e.context.field === "Quix__Portal__Api");
    assert.throws(() => stepConfigFromEnv(env()), (e: unknown) => e instanceof InputError && /resolveStepConfig/.test(e.oneLine()));
    assert.deepEqual(stepConfigFromEnv({ ...env(), KAFKA_BROKERS: "h:1" }).brokers, ["h:1"], "the plain case is unchanged");
  });
});
