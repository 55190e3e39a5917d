/**
 * A promoted step on Quix Cloud, for real: the app folder `quixlab promote` writes runs with node, given only what
 * Quix Cloud injects (Quix__Sdk__Token, Quix__Portal__Api, Quix__Workspace__Id, the topic variables). A fake
 * Portal API (test/helpers/portal.ts) hands out SCRAM credentials for the broker's SASL listener; the step logs
 * in there, reads the workspace's topic ids and gives the same windows as the same app on the plain listener.
 * A wrong broker password and a wrong token end the app with their typed error within seconds.
 * Needs the package built (`npm run build`): the app imports the compiled `quixlab`.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { loadAppDescriptor, loadDescriptor } from "../../src/descriptor/index.js";
import { loadFeatureRef } from "../../src/feature/ref.js";
import type { WindowRecord } from "../../src/feature/types.js";
import { kafkaClient } from "../../src/kafka/client.js";
import { createTopics, type KafkaConnection, openAdmin } from "../../src/kafka/index.js";
import { parseNotebook } from "../../src/notebook/model.js";
import { applyPromote } from "../../src/promote/apply.js";
import { planPromote } from "../../src/promote/plan.js";
import { readTemplate } from "../../src/promote/template.js";
import { compareWindows } from "../../src/replay/parity.js";
import { testBrokers, uniqueName } from "../harness/services.js";
import { bin, repoRoot as repo } from "../helpers/cli.js";
import { type FakePortal, type ScramTarget, saslSslLibrdkafka, scramBroker, scramLibrdkafka, startFakePortal } from "../helpers/portal.js";
import { dedupe, produceLines, readOutputUntilEof, until } from "./stream-helpers.js";

const TICKS = join(repo, "data", "coinbase-ticker-2021-04-17.jsonl");
const TOKEN = "sdk-test-token";

interface App {
  log(): string;
  exited: Promise<[number | null, NodeJS.Signals | null]>;
  stop(): Promise<number | null>;
}

/** The promoted app as its image runs it (`node --import tsx main.ts`, or `args`), with `vars` as its whole environment. */
function startApp(dir: string, vars: Record<string, string>, args = ["--import", "tsx", "main.ts"]): App {
  const child = spawn(process.execPath, args, { cwd: dir, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...vars }, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  child.stdout.on("data", (d: Buffer) => (log += d));
  child.stderr.on("data", (d: Buffer) => (log += d));
  const exited = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
  return {
    log: () => log,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return (await exited)[0];
    },
  };
}

/** Run the app on `vars`, feed it the ticks on `input`, read its windows from `output` until end of input, stop it. */
async function windowsOf(dir: string, vars: Record<string, string>, kafka: ReturnType<typeof kafkaClient>, input: string, output: string, args?: string[], ready = /ready: /) {
  const started = Date.now();
  const app = startApp(dir, vars, args);
  try {
    await Promise.race([
      until("the app's ready line", () => ready.test(app.log()), 120_000),
      app.exited.then(([code]) => Promise.reject(new Error(`the app exited (${code}) before it was ready:\n${app.log()}`))),
    ]);
    const readyMs = Date.now() - started;
    const lines = (await readFile(TICKS, "utf8")).split("\n").filter(Boolean);
    await produceLines(kafka, input, lines, 2);
    const records = dedupe(await readOutputUntilEof(kafka, output, 2, 120_000));
    const code = await app.stop();
    assert.equal(code, 0, `the app stops cleanly:\n${app.log()}`);
    return { records, readyMs, log: app.log() };
  } finally {
    await app.stop().catch(() => undefined);
  }
}

describe("a promoted step on Quix Cloud (fake Portal API, the broker's SCRAM listener)", { timeout: 400_000 }, () => {
  let proj: string;
  let appDir: string;
  let scram: ScramTarget;
  let sasl: KafkaConnection;
  let batch: readonly WindowRecord[];
  const portals: FakePortal[] = [];
  /** A workspace of its own (ids `<ws>-<name>`) whose topics are made on the broker, through the SCRAM listener. */
  const workspace = async (librdkafka = scramLibrdkafka(scram)) => {
    const ws = uniqueName("ws").replace(/[^a-z0-9]/gi, "").slice(0, 24);
    const portal = await startFakePortal({
      token: TOKEN,
      workspaceId: ws,
      librdkafka,
      createOnBroker: (id, partitions, compact) => createTopics(sasl, [{ topic: id, partitions, ...(compact ? { config: { "cleanup.policy": "compact" } } : {}) }]).then(() => undefined),
    });
    portals.push(portal);
    return { ws, portal, vars: { Quix__Sdk__Token: TOKEN, Quix__Portal__Api: portal.url, Quix__Workspace__Id: ws, input: "ticks", output: "candles", REDIS_URL: "none" } };
  };

  before(async () => {
    scram = await scramBroker();
    sasl = { brokers: scram.brokers, sasl: { mechanism: "scram-sha-256", username: scram.username, password: scram.password } };
    await mkdir(join(repo, "tmp"), { recursive: true });
    // Inside the repository, so the app's `import ... from "quixlab"` resolves to this (built) package.
    proj = await mkdtemp(join(repo, "tmp", "quix-cloud-it-"));
    const notebookPath = "notebooks/ohlc.ipynb";
    const notebook = parseNotebook(await readFile(join(repo, notebookPath), "utf8"), notebookPath);
    const plan = planPromote({
      notebook,
      notebookPath,
      exportName: "ohlc1m",
      deployment: "candles-1m",
      descriptorText: null,
      appDir: "candles-1m",
      existingFiles: {},
      template: readTemplate("app"),
      versions: { quixlab: "*", tsx: "^4.20.0", typescript: "~5.8.3", "@types/node": "^20.19.0" },
      newVersion: "test",
    });
    await applyPromote(plan, { root: proj, descriptorFile: join(proj, "quix.yaml") });
    appDir = join(proj, "candles-1m");
    batch = (await (await loadFeatureRef(`${join(appDir, "feature.ts")}#ohlc1m`, appDir)).batchRecords(TICKS)).records;
    assert.ok(batch.length > 0);
  });

  after(async () => {
    for (const p of portals) await p.close();
    if (proj) await rm(proj, { recursive: true, force: true });
  });

  it("given only the Quix variables, connects through SCRAM to the workspace's topics and gives the plain listener's windows", async () => {
    const { ws, portal, vars } = await workspace();
    await portal.declare("ticks", 2);
    await portal.declare("candles", 2);
    const onQuix = await windowsOf(appDir, vars, kafkaClient(sasl), `${ws}-ticks`, `${ws}-candles`);
    process.stderr.write(`[quix-cloud] SCRAM: ready ${onQuix.readyMs} ms after start, ${onQuix.records.length} windows\n`);

    // Every topic the step uses is the workspace's; the ones not declared were created through the Portal API.
    const created = portal.requests.filter((r) => r.method === "POST").map((r) => r.body as { name: string; configuration: { partitions: number; cleanupPolicy: string | null } });
    assert.deepEqual(
      created.map((b) => [b.name, b.configuration.partitions, b.configuration.cleanupPolicy]).sort(),
      [["candles.late", 2, null], ["quixlab-ohlc1m.ohlc1m.changelog", 2, "compact"], ["ticks.dlq", 2, null]],
    );
    assert.ok(portal.requests.every((r) => r.authorization === `Bearer ${TOKEN}` && r.version === "2.0"));
    const admin = await openAdmin(sasl);
    try {
      const topics = new Set(await admin.listTopics());
      for (const t of ["ticks", "candles", "ticks.dlq", "candles.late", "quixlab-ohlc1m.ohlc1m.changelog"]) assert.ok(topics.has(`${ws}-${t}`), `${ws}-${t} on the broker`);
      const committed = await admin.committedOffsets(`${ws}-quixlab-ohlc1m`, [`${ws}-ticks`]);
      assert.ok(committed[0]!.partitions.every((p) => p.offset > 0), `the group has the workspace's prefix: ${JSON.stringify(committed)}`);
    } finally {
      await admin.disconnect();
    }

    // The same app on the plain listener; the Quix variables are set too, and a broker address wins over them.
    const brokers = await testBrokers();
    const input = uniqueName("quix-plain-in");
    const output = uniqueName("quix-plain-out");
    await createTopics(brokers, [
      { topic: input, partitions: 2 },
      { topic: output, partitions: 2 },
    ]);
    const asked = portal.requests.length;
    const plain = await windowsOf(appDir, { ...vars, input, output, Quix__Broker__Address: brokers.join(","), consumer_group: uniqueName("quix-plain-group") }, kafkaClient(brokers), input, output);
    assert.equal(portal.requests.length, asked, "with a broker address the Portal API is not asked");

    const same = compareWindows(plain.records, onQuix.records);
    assert.equal(same.ok, true, JSON.stringify({ ...same, mismatches: same.mismatches.slice(0, 2) }));
    assert.equal(compareWindows(batch, onQuix.records).ok, true, "and both are the batch's windows");
  });

  it("with the promoted quix.yaml's topics declared and the app.yaml's variables as Quix injects them, creates nothing and uses the declared names", async () => {
    const { ws, portal, vars } = await workspace();
    // What Quix would do from the promoted project: create every topic quix.yaml declares, and give the deployment
    // its app.yaml defaults (v2.0 inheritance) as environment variables.
    const declared = loadDescriptor(await readFile(join(proj, "quix.yaml"), "utf8")).value.topics;
    assert.deepEqual(
      declared.map((t) => t.name),
      ["ticks", "candles-1m", "ticks.dlq", "candles-1m.late", "candles-1m.ohlc1m.changelog"],
    );
    for (const t of declared) await portal.declare(t.name, 2);
    const app = loadAppDescriptor(await readFile(join(appDir, "app.yaml"), "utf8")).value;
    const injected = Object.fromEntries(app.variables.flatMap((v) => (v.defaultValue === undefined ? [] : [[v.name, v.defaultValue]])));
    assert.deepEqual(
      ["input", "output", "dlq", "late", "consumer_group"].map((n) => injected[n]),
      ["ticks", "candles-1m", "ticks.dlq", "candles-1m.late", "candles-1m"],
    );
    const run = await windowsOf(appDir, { ...vars, ...injected }, kafkaClient(sasl), `${ws}-ticks`, `${ws}-candles-1m`);
    assert.deepEqual(
      portal.requests.filter((r) => r.method === "POST"),
      [],
      "every topic the step uses was declared by promote: the step looked them up and created none",
    );
    assert.equal(compareWindows(batch, run.records).ok, true);
    const admin = await openAdmin(sasl);
    try {
      const committed = await admin.committedOffsets(`${ws}-candles-1m`, [`${ws}-ticks`]);
      assert.ok(committed[0]!.partitions.every((p) => p.offset > 0), `the group is the workspace's candles-1m: ${JSON.stringify(committed)}`);
    } finally {
      await admin.disconnect();
    }
  });

  it("over SASL_SSL, trusting the CA the Portal API returns (base64 ssl.ca.cert), gives the batch's windows", async (t) => {
    const ssl = scram.ssl;
    if (!ssl) return t.skip("the broker has no SASL_SSL listener");
    const { ws, portal, vars } = await workspace(saslSslLibrdkafka({ ...scram, ssl }));
    await portal.declare("ticks", 2);
    await portal.declare("candles", 2);
    const run = await windowsOf(appDir, vars, kafkaClient(sasl), `${ws}-ticks`, `${ws}-candles`);
    assert.equal(compareWindows(batch, run.records).ok, true);
    assert.match(run.log, /brokers 127\.0\.0\.1:\d+, SASL scram-sha-512, TLS/);
    process.stderr.write(`[quix-cloud] SASL_SSL: ready ${run.readyMs} ms after start, ${run.records.length} windows\n`);
  });

  it("quixlab run, given only the Quix variables, runs the feature on the workspace too", async () => {
    const { ws, portal, vars } = await workspace();
    await portal.declare("ticks", 2);
    await portal.declare("candles", 2);
    const run = await windowsOf(appDir, vars, kafkaClient(sasl), `${ws}-ticks`, `${ws}-candles`, [bin, "run", "feature.ts#ohlc1m"], /running ohlc1m /);
    assert.equal(compareWindows(batch, run.records).ok, true);
    assert.match(run.log, /on Quix Cloud workspace \S+: topics ticks=\S+-ticks/);
  });

  it("a wrong broker password ends the app with the SASL error, exit 2, within seconds", async () => {
    const { portal, vars } = await workspace(scramLibrdkafka(scram, "SCRAM-SHA-512", "not-the-password"));
    await portal.declare("ticks", 1);
    await portal.declare("candles", 1);
    const started = Date.now();
    const app = startApp(appDir, vars);
    // A hang (kafkajs retrying a refused login for minutes) fails here rather than at the suite's timeout.
    const hung = new Promise<[null]>((done) => setTimeout(() => done([null]), 60_000).unref());
    const [code] = await Promise.race([app.exited, hung]);
    if (code === null) await app.stop();
    const ms = Date.now() - started;
    process.stderr.write(`[quix-cloud] wrong password: exit ${code} after ${ms} ms\n`);
    assert.equal(code, 2, app.log());
    assert.match(app.log(), /refused the SASL login of '[^']+' \(scram-sha-512\).*Quix__Sdk__Token/);
    assert.ok(ms < 30_000, `${ms} ms`);
  });

  it("a wrong token ends the app with a Quix Cloud error naming Quix__Sdk__Token, exit 2", async () => {
    const { vars } = await workspace();
    const app = startApp(appDir, { ...vars, Quix__Sdk__Token: "not-the-token" });
    const [code] = await app.exited;
    assert.equal(code, 2, app.log());
    assert.match(app.log(), /refused the token \(401.*check Quix__Sdk__Token/);
  });
});
