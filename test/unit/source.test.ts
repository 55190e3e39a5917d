/** The pure core of the sources: frames, duplicates, backoff, looped times, configuration, and the app planner. */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { loadAppDescriptor } from "../../src/descriptor/index.js";
import { planSourceApp } from "../../src/promote/source-app.js";
import { InputError } from "../../src/errors/index.js";
import { readTemplate } from "../../src/promote/template.js";
import { repoRoot, runCli } from "../helpers/cli.js";
import { backoffDelay, classifyFrame, Dedup, isNewer, resolveSourceConfig, shiftTime, subscribeMessage } from "../../src/source/index.js";

describe("source core", () => {
  it("subscribes to ticker and heartbeat, and classifies each frame", () => {
    assert.deepEqual(JSON.parse(subscribeMessage(["BTC-USD"])), { type: "subscribe", product_ids: ["BTC-USD"], channels: ["ticker", "heartbeat"] });
    assert.deepEqual(classifyFrame('{"type":"ticker","sequence":"7","product_id":"BTC-USD","time":"2021-04-17T16:43:30.244075Z","trade_id":9}'), {
      kind: "ticker",
      product: "BTC-USD",
      position: { sequence: 7, tradeId: 9 },
      time: Date.parse("2021-04-17T16:43:30.244Z"),
    });
    assert.equal(classifyFrame('{"type":"heartbeat","sequence":1}').kind, "heartbeat");
    assert.equal(classifyFrame('{"type":"subscriptions","channels":[]}').kind, "subscriptions");
    assert.deepEqual(classifyFrame('{"type":"error","message":"Failed to subscribe","reason":"X is not a valid product"}'), { kind: "error", message: "Failed to subscribe: X is not a valid product", subscription: true });
    assert.deepEqual(classifyFrame('{"type":"error","message":"Internal server error"}'), { kind: "error", message: "Internal server error", subscription: false });
    assert.equal((classifyFrame('{"type":"error","message":"Failed","reason":"ETH-XYZ is not a valid product"}') as { subscription: boolean }).subscription, true);
    assert.equal(classifyFrame('{"type":"ticker","price":"1"}').kind, "bad");
    assert.equal(classifyFrame("nope").kind, "bad");
    assert.equal(classifyFrame('{"type":"l2update"}').kind, "other");
  });

  it("drops what is not newer per product, by trade_id, else sequence; a seed counts as produced", () => {
    const d = new Dedup();
    assert.equal(d.accept("A", { sequence: 10, tradeId: 5 }), true);
    assert.equal(d.accept("A", { sequence: 11, tradeId: 5 }), false, "same trade, later sequence: still a duplicate");
    assert.equal(d.accept("A", { sequence: 3, tradeId: 6 }), true, "trade_id wins over a sequence that went back");
    assert.equal(d.accept("B", { sequence: 1 }), true, "products are independent");
    assert.equal(d.accept("B", { sequence: 1 }), false);
    d.seed("C", { tradeId: 100 });
    d.seed("C", { tradeId: 50 });
    assert.equal(d.accept("C", { tradeId: 100 }), false);
    assert.equal(d.accept("C", { tradeId: 101 }), true);
    assert.equal(isNewer({}, { tradeId: 1 }), true, "nothing to compare: produced");
  });

  it("backs off from 250 ms doubling to 2 s by default (a given cap otherwise), never under half", () => {
    assert.deepEqual([0, 1, 2, 3, 4, 20].map((a) => backoffDelay(a, { random: () => 1 })), [250, 500, 1000, 2000, 2000, 2000]);
    assert.deepEqual([0, 6].map((a) => backoffDelay(a, { random: () => 0 })), [125, 1000]);
    assert.deepEqual([5, 6, 20].map((a) => backoffDelay(a, { capMs: 10_000, random: () => 1 })), [8000, 10000, 10000]);
  });

  it("takes the reconnect cap from --max-backoff, else max_backoff, else 2 s", async () => {
    const env = { output: "t", products: "BTC-USD", KAFKA_BROKERS: "h:1" };
    assert.equal((await resolveSourceConfig("coinbase", env)).maxBackoffMs, 2000);
    assert.equal((await resolveSourceConfig("coinbase", { ...env, max_backoff: "5s" })).maxBackoffMs, 5000);
    assert.equal((await resolveSourceConfig("coinbase", { ...env, max_backoff: "5s" }, { maxBackoff: "500ms" })).maxBackoffMs, 500);
    assert.equal((await resolveSourceConfig("coinbase", { ...env, max_backoff: "750" })).maxBackoffMs, 750, "a number is ms");
    await assert.rejects(resolveSourceConfig("coinbase", { ...env, max_backoff: "soon" }), (e: InputError) => e instanceof InputError && /bad max_backoff 'soon'/.test(e.message) && /--max-backoff/.test(e.remedy ?? ""));
    await assert.rejects(resolveSourceConfig("coinbase", env, { maxBackoff: "0s" }), /above zero/);
  });

  it("has --max-backoff on the coinbase source only, and says so in --help", async () => {
    const help = await runCli(repoRoot, "source", "--help");
    assert.equal(help.code, 0, help.err);
    assert.match(help.out, /--max-backoff D +coinbase: the longest wait between reconnect attempts/);
    assert.match(help.out, /max_backoff +coinbase: /, "the environment variable is listed");
    const replay = await runCli(repoRoot, "source", "replay", "--ticks", "package.json", "--topic", "t", "--max-backoff", "1s");
    assert.equal(replay.code, 2);
    assert.match(replay.err, /--max-backoff is not an option of the replay source/);
  });

  it("shifts only time for a looped pass, keeping the sub-millisecond digits", () => {
    const line = '{"type":"ticker","time":"2021-04-17T16:43:30.244075Z","trade_id":1}';
    assert.equal(shiftTime(line, 60_000), '{"type":"ticker","time":"2021-04-17T16:44:30.244075Z","trade_id":1}');
    assert.equal(shiftTime('{"type":"ticker"}', 5), '{"type":"ticker"}');
  });

  it("reads its configuration from the environment, flags first, with errors naming the variable", async () => {
    const env = { output: "ticks", products: "BTC-USD,ETH-USD", KAFKA_BROKERS: "127.0.0.1:9092", REDIS_URL: "none", QUIXLAB_STEP: "cb" };
    const c = await resolveSourceConfig("coinbase", env);
    assert.deepEqual([c.topic, c.products, c.endpoint, [...c.brokers], c.redis, c.stepName], ["ticks", ["BTC-USD", "ETH-USD"], "wss://ws-feed.exchange.coinbase.com", ["127.0.0.1:9092"], null, "cb"]);
    const cwd = mkdtempSync(join(tmpdir(), "quixlab-source-config-"));
    writeFileSync(join(cwd, "a.jsonl"), "\n");
    const r = await resolveSourceConfig("replay", { output: "t", ticks: "a.jsonl", speed: "10x", loop: "true", KAFKA_BROKERS: "h:1" }, { topic: "u" }, { cwd });
    assert.deepEqual([r.topic, r.ticks, r.speed, r.loop, r.eof], ["u", join(cwd, "a.jsonl"), 10, true, false]);
    await assert.rejects(resolveSourceConfig("replay", { output: "t", ticks: "missing.jsonl", KAFKA_BROKERS: "h:1" }, {}, { cwd }), /ticks file missing\.jsonl not found/);
    rmSync(cwd, { recursive: true, force: true });
    await assert.rejects(resolveSourceConfig("coinbase", { output: "t", KAFKA_BROKERS: "h:1" }), /no products/);
    await assert.rejects(resolveSourceConfig("coinbase", { output: "t", products: "btc", KAFKA_BROKERS: "h:1" }), /bad products 'btc'/);
    await assert.rejects(resolveSourceConfig("replay", { output: "t", ticks: "package.json", speed: "fast", KAFKA_BROKERS: "h:1" }), /bad speed 'fast'/);
    await assert.rejects(resolveSourceConfig("replay", { ticks: "a", KAFKA_BROKERS: "h:1" }), /no output topic/);
    await assert.rejects(resolveSourceConfig("replay", { output: "t", ticks: "package.json" }), /no Kafka broker address/);
  });

  it("plans a source app: a Job for a replay that ends, a Service that loops, a valid app.yaml, the recording inside", () => {
    const base = { template: readTemplate("source"), versions: { quixlab: "^0.1.0", tsx: "^4", typescript: "~5.8.3", "@types/node": "^20" } };
    const job = planSourceApp({ ...base, type: "replay", deployment: "rp", topic: "ticks", ticks: { name: "t.jsonl", bytes: Buffer.from("x\n") } });
    assert.equal(job.deploymentType, "Job");
    assert.deepEqual([...job.files.keys()].sort(), [".dockerignore", "Dockerfile", "app.yaml", "main.ts", "package.json", "t.jsonl", "tsconfig.json"]);
    assert.deepEqual(loadAppDescriptor(job.appYaml, "app.yaml").errors, []);
    assert.equal(JSON.parse(String(job.files.get("package.json"))).dependencies.quixlab, "^0.1.0");
    const svc = planSourceApp({ ...base, type: "coinbase", deployment: "cb", topic: "ticks", products: ["BTC-USD"] });
    assert.equal(svc.deploymentType, "Service");
    assert.deepEqual(svc.variables.map((v) => [v.name, v.value]), [["output", "ticks"], ["products", "BTC-USD"], ["endpoint", "wss://ws-feed.exchange.coinbase.com"]]);
    assert.throws(() => planSourceApp({ ...base, type: "coinbase", deployment: "bad name", topic: "t", products: ["BTC-USD"] }), /bad deployment name/);
  });
});
