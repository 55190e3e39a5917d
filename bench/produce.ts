/**
 * Producing a ticks file (#18): replay's `produceFile` through the fast producer (src/kafka/fast-producer.ts) against
 * `kcat -P -l` on the same file and broker, in the same run; and through kafkajs (QUIXLAB_FAST_PRODUCE=0) for the
 * before. QUIXLAB_BENCH_PRODUCE_TICKS generated ticks (default 1,000,000; 3 products, 1 % malformed, as `replay`),
 * each run into a topic of its own (3 partitions), checked complete by its end offsets. Ours run in a child process
 * so its peak RSS is its own; kcat's is read with /usr/bin/time when there is one. Best of QUIXLAB_BENCH_ROUNDS (2).
 *
 *   npm run bench -- produce
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startBroker } from "../src/broker/index.js";
import { createTopics, openProducer, topicOffsets, uniqueName } from "../src/kafka/index.js";
import { produceFile } from "../src/replay/produce.js";
import { writeTicksFile } from "../src/tick/generate.js";
import { benchBrokerDir, brokerLogOn } from "./broker-dir.js";
import type { Row } from "./types.js";

export const name = "produce";

const TARGET = 0.5;
const PARTITIONS = 3;

interface Run {
  ms: number;
  /** Peak RSS in MB, when known. */
  rssMB?: number;
}

/** Run a command; resolve with its stdout, reject with its stderr on a non-zero exit. */
function exec(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d));
    child.stderr.on("data", (d: Buffer) => (err += d));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve({ out, err }) : reject(new Error(`${cmd} exited ${code}: ${err.slice(-500)}`))));
  });
}

async function produced(brokers: string[], topic: string): Promise<number> {
  return (await topicOffsets(brokers, topic)).reduce((n, p) => n + Number(p.high), 0);
}

/** produceFile in a child process of its own (`fast`: the fast producer, else kafkajs). */
async function ours(brokers: string[], file: string, n: number, fast: boolean): Promise<Run> {
  const topic = uniqueName(`bench-produce-${fast ? "fast" : "kafkajs"}`);
  await createTopics(brokers, [{ topic, partitions: PARTITIONS }]);
  const env = { ...process.env, QUIXLAB_FAST_PRODUCE: fast ? "1" : "0" };
  const { out } = await exec(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url), "--child", brokers.join(","), topic, file], env);
  const r = JSON.parse(out.trim().split("\n").at(-1)!) as { sent: number; ms: number; rssMB: number };
  const got = await produced(brokers, topic);
  if (r.sent !== n || got !== n) throw new Error(`bench ${name}: ${fast ? "fast" : "kafkajs"} produced ${r.sent}, the topic has ${got}, of ${n}`);
  return { ms: r.ms, rssMB: r.rssMB };
}

/** kcat -P -l: each line a message (no key), librdkafka's defaults (acks=all). */
async function kcat(brokers: string[], file: string, n: number): Promise<Run> {
  const topic = uniqueName("bench-produce-kcat");
  await createTopics(brokers, [{ topic, partitions: PARTITIONS }]);
  const args = ["-P", "-b", brokers.join(","), "-t", topic, "-l", file];
  const timed = existsSync("/usr/bin/time");
  const t0 = performance.now();
  const { err } = timed ? await exec("/usr/bin/time", ["-f", "maxrss=%M", "kcat", ...args]) : await exec("kcat", args);
  const ms = performance.now() - t0;
  const got = await produced(brokers, topic);
  if (got !== n) throw new Error(`bench ${name}: kcat produced ${got} of ${n}`);
  const rss = /maxrss=(\d+)/.exec(err);
  return { ms, ...(rss ? { rssMB: Number(rss[1]) / 1024 } : {}) };
}

const best = (runs: Run[]) => runs.reduce((a, b) => (b.ms < a.ms ? b : a));

export async function run(): Promise<Row[]> {
  const n = Number(process.env.QUIXLAB_BENCH_PRODUCE_TICKS ?? 1_000_000);
  const rounds = Number(process.env.QUIXLAB_BENCH_ROUNDS ?? 2);
  const say = (line: string) => process.stderr.write(`bench ${name}: ${line}\n`);
  const dir = mkdtempSync(join(tmpdir(), "quixlab-bench-produce-"));
  const where = benchBrokerDir();
  const broker = await startBroker({ provider: "auto", log: say, parentDir: where.parentDir });
  try {
    const file = join(dir, "ticks.jsonl");
    say(`generating ${n.toLocaleString("en-US")} ticks…`);
    const { bytes } = await writeTicksFile(file, { n, products: 3, seed: 11, outOfOrderMs: 1_500, malformedRate: 0.01 });
    const { brokers } = broker;
    const fast: Run[] = [];
    const peer: Run[] = [];
    for (let r = 0; r < rounds; r++) {
      say(`round ${r + 1}: kcat…`);
      peer.push(await kcat(brokers, file, n));
      say(`round ${r + 1}: fast producer…`);
      fast.push(await ours(brokers, file, n, true));
    }
    say("kafkajs (QUIXLAB_FAST_PRODUCE=0)…");
    const before = await ours(brokers, file, n, false);
    const f = best(fast);
    const k = best(peer);
    const rate = (x: Run) => n / (x.ms / 1000);
    const what = `${(n / 1e6).toFixed(n % 1e6 ? 2 : 0)}M ticks (${(bytes / 1e6).toFixed(0)} MB), ${PARTITIONS} partitions, ${broker.provider} broker`;
    const kcatRow = { name: "kcat -P -l", value: rate(k) };
    const mb = (x: Run) => (x.rssMB === undefined ? "?" : `${Math.round(x.rssMB)} MB`);
    return [
      {
        suite: name,
        name: `produceFile ${what}: fast producer`,
        value: rate(f),
        unit: "ticks/s",
        baseline: kcatRow,
        ratio: rate(f) / rate(k),
        target: TARGET,
        ok: rate(f) / rate(k) >= TARGET,
        note: `best of ${rounds}: ${(f.ms / 1000).toFixed(2)} s vs kcat ${(k.ms / 1000).toFixed(2)} s; peak RSS ${mb(f)} (kcat ${mb(k)}); idempotent, acks=all, 5 in flight; kcat with librdkafka defaults, no keys; broker log on ${brokerLogOn(where, broker.provider)}`,
      },
      { suite: name, name: "produceFile fast producer: peak RSS", value: f.rssMB ?? 0, unit: "MB" },
      {
        suite: name,
        name: "produceFile through kafkajs (QUIXLAB_FAST_PRODUCE=0)",
        value: rate(before),
        unit: "ticks/s",
        baseline: kcatRow,
        ratio: rate(before) / rate(k),
        note: `${(before.ms / 1000).toFixed(1)} s, peak RSS ${mb(before)}; idempotent, 1 in flight`,
      },
    ];
  } finally {
    await broker.stop().catch((e: unknown) => say(`stopping kafka: ${(e as Error).message}`));
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The child: produceFile of `file` to `topic`, timed; prints {sent, ms, rssMB}. */
async function child(brokers: string[], topic: string, file: string): Promise<void> {
  const producer = await openProducer(brokers, { clientId: "bench-produce" });
  try {
    const t0 = performance.now();
    const sent = await produceFile(producer, topic, file, { speed: Number.POSITIVE_INFINITY });
    const ms = performance.now() - t0;
    process.stdout.write(`${JSON.stringify({ sent, ms, rssMB: process.resourceUsage().maxRSS / 1024 })}\n`);
  } finally {
    await producer.disconnect();
  }
}

if (process.argv[2] === "--child" && process.argv[1] === fileURLToPath(import.meta.url)) {
  const [, , , brokers, topic, file] = process.argv;
  await child(brokers!.split(","), topic!, file!);
}
