import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Admin } from "kafkajs";
import { ohlc } from "../../src/feature/shipped/ohlc.js";
import { generateTicks } from "../../src/tick/generate.js";
import { bin, repoRoot as root } from "../helpers/cli.js";
import { assertStreamedWindows, GiveUp, produceLines, readOutputUntilEof, type StreamSession, streamCase, streamSession, until } from "./stream-helpers.js";

const PARTITIONS = 4;
const KILLS = 3;

/** A feature module with a name of its own, so this test's Redis keys are its own in the shared Redis. */
const dirs: string[] = [];

function featureModule(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), "quixlab-crash-"));
  dirs.push(dir);
  const file = join(dir, "feature.ts");
  // An ES module, like the project's own feature modules.
  writeFileSync(join(dir, "package.json"), '{"type":"module"}\n');
  writeFileSync(file, `import { ohlc } from ${JSON.stringify(join(root, "src/feature/shipped/ohlc.ts"))};\nexport const f = ohlc({ size: "60s", step: "5s", name: ${JSON.stringify(name)} });\n`);
  return file;
}

interface Child {
  proc: ChildProcess;
  stderr: () => string;
}

/** Fails fast, with the step's log, when the child died on its own. */
function alive(c: Child): void {
  if (c.proc.exitCode !== null) throw new GiveUp(`the step exited with ${c.proc.exitCode}:\n${c.stderr()}`);
}

function startStep(module: string, env: Record<string, string>): Child {
  const proc = spawn(process.execPath, [bin, "run", `${module}#f`], {
    cwd: root,
    env: { ...process.env, ...env, NO_COLOR: "1" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let err = "";
  proc.stderr!.on("data", (d) => (err += d));
  return { proc, stderr: () => err };
}

/** Sum of the group's committed offsets on `topic` (0 for partitions without one). */
async function committed(admin: Admin, groupId: string, topic: string): Promise<number> {
  const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return (t?.partitions ?? []).reduce((s, p) => s + Math.max(0, Number(p.offset)), 0);
}

describe("stream step crash recovery (SIGKILL, restart)", () => {
  let session: StreamSession;
  const children: Child[] = [];
  const lines = generateTicks({ n: 50_000, products: 3, seed: 99, outOfOrderMs: 1_000, malformedRate: 0.001 });

  before(async () => {
    session = await streamSession();
  });

  after(async () => {
    for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill("SIGKILL");
    await session?.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  for (const processing of ["at-least-once", "exactly-once"] as const) {
    it(`${processing}${processing === "at-least-once" ? ", in a worker thread" : ""}: killed ${KILLS} times mid-stream, the output and Redis equal the uninterrupted run`, async (t) => {
      const { kafka, admin, brokers, redisUrl } = session;
      const { name, input, output, group } = await streamCase(admin, t, processing, PARTITIONS);
      const module = featureModule(name);
      const expected = (await ohlc({ size: "60s", step: "5s", name }).batchRecords(lines)).records;
      const env = {
        input,
        output,
        consumer_group: group,
        processing,
        KAFKA_BROKERS: brokers.join(","),
        REDIS_URL: redisUrl,
        QUIXLAB_SESSION_TIMEOUT_MS: "6000",
        // At-least-once in the worker thread, exactly-once in the step's own.
        QUIXLAB_WORKER: processing === "at-least-once" ? "1" : "0",
      };
      const chunk = Math.ceil(lines.length / (KILLS + 1));
      await produceLines(kafka, input, lines.slice(0, chunk));
      for (let k = 1; k <= KILLS; k++) {
        const child = startStep(module, env);
        children.push(child);
        // Real progress of this incarnation: the group's committed offsets moved (a checkpoint completed, outputs
        // and changelog written); other partitions are typically mid-batch when the kill lands.
        const { start } = await until("the group's offsets", async () => {
          alive(child);
          return { start: await committed(admin, group, input) };
        });
        await until(`a checkpoint of incarnation ${k}`, async () => {
          alive(child);
          return (await committed(admin, group, input)) > start;
        }, 90_000);
        child.proc.kill("SIGKILL");
        await once(child.proc, "exit");
        // The next slice arrives while the step is dead, so every incarnation has work when it comes back.
        await produceLines(kafka, input, lines.slice(k * chunk, (k + 1) * chunk), k === KILLS ? PARTITIONS : undefined);
      }
      const last = startStep(module, env);
      children.push(last);
      const streamed = await readOutputUntilEof(kafka, output, PARTITIONS, 150_000);
      last.proc.kill("SIGTERM");
      const [code] = await once(last.proc, "exit");
      assert.equal(code, 0, `clean shutdown on SIGTERM\n${last.stderr()}`);
      assert.match(last.stderr(), /restored checkpoint at offset \d+/, "the last incarnation restored state");
      assert.equal(/decoding and windowing in a worker thread/.test(last.stderr()), env.QUIXLAB_WORKER === "1", "quixlab run uses the worker thread when asked to");

      await assertStreamedWindows(streamed, expected, processing, session.redis, name);
    });
  }
});
