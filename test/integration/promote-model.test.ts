/**
 * #17 part 5, `promote --model`: the notebook's model (notebooks/model.ipynb#nextMinute) becomes a deployment running
 * the model step, gated by `replay --model`, once its vector's features run as deployments. Then the promoted apps
 * run as the image runs them (`node --import tsx main.ts` in each folder: the three features and the model), on a
 * real broker and Redis, and the model's predictions equal the notebook's batch predictions.
 * Needs the package built (`npm run build`): apps import the compiled `quixlab`.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { loadDescriptor } from "../../src/descriptor/index.js";
import { batchPredictions, type PredictionRecord } from "../../src/index.js";
import { kafkaClient } from "../../src/kafka/client.js";
import { createTopics } from "../../src/kafka/index.js";
import { type RedisHandle, startRedis } from "../../src/redis/provider.js";
import { loadModelRef } from "../../src/replay/model.js";
import { writeTicksFile } from "../../src/tick/generate.js";
import { testServices, uniqueName } from "../harness/services.js";
import { quixlab, repoRoot as repo } from "../helpers/cli.js";
import { produceLines, readOutputUntilEof } from "./stream-helpers.js";

const TICKS = "data/ticks.jsonl";
const FEATURES = [
  ["ohlc1h", "candles-1h"],
  ["ohlc1m", "candles-1m"],
  ["ohlc60s", "rolling-60s"],
] as const;

describe("quixlab promote --model (real Kafka and Redis)", { timeout: 900_000 }, () => {
  let proj: string;
  let brokers: string[];
  let redis: RedisHandle;
  // The features' replays need no store; the model's gets a fresh one of its own (promote's default for a model).
  const promote = (...args: string[]) => quixlab(["promote", ...args, "--broker", brokers.join(",")], { cwd: proj, timeoutMs: 300_000 });

  before(async () => {
    ({ brokers } = await testServices());
    // Its own Redis: the feature steps write quixlab:ohlc1m:... keys that other tests' steps write too.
    redis = await startRedis({ provider: "local", log: () => undefined });
    await mkdir(join(repo, "tmp"), { recursive: true });
    proj = await mkdtemp(join(repo, "tmp", "promote-model-"));
    await mkdir(join(proj, "notebooks"));
    await mkdir(join(proj, "data"));
    for (const nb of ["ohlc.ipynb", "model.ipynb"]) await copyFile(join(repo, "notebooks", nb), join(proj, "notebooks", nb));
    // 25 minutes, 3 products, disorder within grace, 1 % bad lines: shorter than ohlc60s's retention (max speed).
    await writeTicksFile(join(proj, TICKS), { n: 3_000, products: 3, seed: 7, startMs: Date.UTC(2023, 5, 9, 12, 0), intervalMs: 500, outOfOrderMs: 1_500, malformedRate: 0.01 });
    await writeFile(join(proj, "quix.yaml"), await readFile(join(repo, "test", "fixtures", "promote", "quix.yaml"), "utf8"));
  });

  after(async () => {
    await redis?.stop();
    if (proj) await rm(proj, { recursive: true, force: true });
  });

  it("refuses a model whose features no deployment runs, and writes nothing", async () => {
    const before = await readFile(join(proj, "quix.yaml"), "utf8");
    const r = await promote("notebooks/model.ipynb", "--export", "nextMinute", "--name", "next-minute", "--ticks", TICKS);
    assert.equal(r.code, 2, r.out + r.err);
    assert.match(r.err, /model 'next-minute' reads 'ohlc1h', 'ohlc1m', 'ohlc60s' from the store, and no deployment in quix\.yaml runs them/);
    assert.match(r.err, /promote each of those features first/);
    assert.equal(await readFile(join(proj, "quix.yaml"), "utf8"), before);
    await assert.rejects(readFile(join(proj, "next-minute", "main.ts")), "no app folder");
  });

  it("promotes the features, then the model: its input is ohlc1m's deployment output, gated by replay --model", async () => {
    for (const [exp, name] of FEATURES) {
      const r = await promote("notebooks/ohlc.ipynb", "--export", exp, "--name", name, "--ticks", TICKS, "--redis", "none");
      assert.equal(r.code, 0, `${name}: ${r.out}${r.err}`);
    }
    // --model on a feature is an error (the export is detected either way).
    const wrong = await promote("notebooks/ohlc.ipynb", "--export", "ohlc1m", "--name", "x", "--ticks", TICKS, "--model");
    assert.equal(wrong.code, 2);
    assert.match(wrong.err, /'ohlc1m' in notebooks\/ohlc\.ipynb is not a model made by defineModel/);

    const r = await promote("notebooks/model.ipynb", "--export", "nextMinute", "--name", "next-minute", "--ticks", TICKS, "--model");
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /^PREDICTIONS OK/m);
    assert.match(r.out, /^promoted next-minute uncommitted from notebooks\/model\.ipynb#nextMinute$/m);
    const loaded = loadDescriptor(await readFile(join(proj, "quix.yaml"), "utf8"), "quix.yaml");
    assert.deepEqual(loaded.errors, []);
    const dep = loaded.value.deployments.find((d) => d.name === "next-minute")!;
    const vars = Object.fromEntries(dep.variables.map((v) => [v.name, v.value]));
    assert.deepEqual(vars, { input: "candles-1m", output: "next-minute", dlq: "candles-1m.dlq", consumer_group: "next-minute", REDIS_URL: "redis://redis:6379" });
    const topics = new Set(loaded.value.topics.map((t) => t.name));
    for (const t of ["next-minute", "candles-1m.dlq"]) assert.ok(topics.has(t), `topic ${t} declared`);
    const model = await readFile(join(proj, "next-minute", "model.ts"), "utf8");
    assert.match(model, /^\/\/ Generated by quixlab from notebook notebooks\/model\.ipynb#nextMinute, cells /);
    assert.match(await readFile(join(proj, "next-minute", "main.ts"), "utf8"), /runModelStep\(model/);
    assert.match(await readFile(join(proj, "next-minute", "app.yaml"), "utf8"), /defaultFile: model\.ts/);

    // A second promote of the same notebook is a no-op (REDIS_URL kept across changes: see the unit test).
    const again = await promote("notebooks/model.ipynb", "--export", "nextMinute", "--name", "next-minute", "--ticks", TICKS);
    assert.equal(again.code, 0, again.out + again.err);
    assert.match(again.out, /is up to date with notebooks\/model\.ipynb#nextMinute: nothing to promote/);
    // promote --check compares model.ts with its notebook as it does feature.ts.
    const check = await quixlab(["promote", "--check"], { cwd: proj });
    assert.equal(check.code, 0, check.out + check.err);
    assert.match(check.out, /^ok {4}next-minute \(next-minute\/ from notebooks\/model\.ipynb#nextMinute\)$/m);
  });

  it("the promoted apps run as the image runs them, and the model's predictions equal the notebook's batch ones", async () => {
    const kafka = kafkaClient(brokers);
    const ticks = uniqueName("pm-ticks");
    const out = Object.fromEntries(FEATURES.map(([f]) => [f, uniqueName(`pm-${f}`)]));
    const predictions = uniqueName("pm-predictions");
    await createTopics(brokers, [ticks, ...Object.values(out), predictions].map((topic) => ({ topic, partitions: 2 })));
    const base = { Quix__Broker__Address: brokers.join(","), REDIS_URL: redis.url!, QUIXLAB_IDLE: "0" };
    const apps = [
      ...FEATURES.map(([f, dir]) => ({ dir, env: { ...base, input: ticks, output: out[f]!, consumer_group: uniqueName(dir) } })),
      { dir: "next-minute", env: { ...base, input: out.ohlc1m!, output: predictions, consumer_group: uniqueName("next-minute") } },
    ];
    const running: { dir: string; child: ChildProcess; log: () => string; exited: Promise<unknown[]> }[] = [];
    for (const app of apps) {
      const child = spawn(process.execPath, ["--import", "tsx", "main.ts"], { cwd: join(proj, app.dir), env: { ...process.env, ...app.env }, stdio: ["ignore", "ignore", "pipe"] });
      let log = "";
      child.stderr!.on("data", (d: Buffer) => (log += d.toString()));
      running.push({ dir: app.dir, child, log: () => log, exited: once(child, "exit") });
    }
    try {
      await produceLines(kafka, ticks, (await readFile(join(proj, TICKS), "utf8")).split("\n").filter(Boolean), 2);
      const early = Promise.race(running.map((r) => r.exited.then(([code]) => Promise.reject(new Error(`${r.dir} exited early (${code}):\n${r.log()}`)))));
      const streamed = (await Promise.race([readOutputUntilEof(kafka, predictions, 2, 180_000), early])) as unknown as PredictionRecord[];
      const model = await loadModelRef("next-minute/model.ts#nextMinute", proj);
      const batch = await batchPredictions(model, join(proj, TICKS));
      assert.ok(batch.predictions.length > 50, `a prediction per minute and product (${batch.predictions.length})`);
      // At-least-once: a redelivered trigger gives the same record again, so compare by (key, at).
      const byMoment = new Map(streamed.map((p) => [`${p.key}@${p.at}`, p]));
      assert.equal(byMoment.size, batch.predictions.length, "one prediction per batch prediction");
      for (const p of batch.predictions) assert.deepEqual(byMoment.get(`${p.key}@${p.at}`), p, `${p.key} at ${p.at}`);
    } finally {
      for (const r of running) r.child.kill("SIGTERM");
      for (const r of running) {
        const [code] = await r.exited;
        assert.equal(code, 0, `${r.dir} stops cleanly on SIGTERM:\n${r.log()}`);
      }
    }
  });
});
