/**
 * Shared by the tests that run a promoted app as it is deployed (a process from its folder alone, or its Docker
 * image): feed it recorded ticks on the real broker, check its windows against the batch result, stop it, and
 * check that it checkpointed and left its consumer group.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createTopics } from "../../src/kafka/index.js";
import { kafkaClient } from "../../src/kafka/client.js";
import type { WindowRecord } from "../../src/feature/types.js";
import { compareWindows } from "../../src/replay/parity.js";
import { uniqueName } from "../harness/services.js";
import { dedupe, produceLines, readOutputUntilEof, until } from "./stream-helpers.js";

/** What a deployed step must not carry (the notebook side: DataFrames, the kernel, the compiler, the CLI's UI). */
export const NOTEBOOK_PACKAGES = ["danfojs-node", "@tensorflow", "tslab", "typescript", "ink", "react"];

/** A started app: its log so far, and a stop that resolves with its exit code. */
export interface RunningApp {
  log(): string;
  stop(): Promise<number | null>;
}

export interface AppRunResult {
  /** From the start call to the app's `ready:` line. */
  readyMs: number;
  windows: number;
  log: string;
}

/**
 * Start an app with the deployment's variables as its environment, prove parity on `ticksFile`, stop it.
 * `start` gets the variables (input, output, Quix__Broker__Address, REDIS_URL, consumer_group).
 */
export async function proveAppRun(o: {
  name: string;
  brokers: string[];
  redisUrl: string;
  ticksFile: string;
  batch: readonly WindowRecord[];
  start(vars: Record<string, string>): Promise<RunningApp>;
}): Promise<AppRunResult> {
  const input = uniqueName(`${o.name}-in`);
  const output = uniqueName(`${o.name}-out`);
  const group = uniqueName(`${o.name}-group`);
  await createTopics(o.brokers, [
    { topic: input, partitions: 2 },
    { topic: output, partitions: 2 },
  ]);
  const vars = { input, output, Quix__Broker__Address: o.brokers.join(","), REDIS_URL: o.redisUrl, consumer_group: group };
  const kafka = kafkaClient(o.brokers);
  const started = Date.now();
  const app = await o.start(vars);
  let stopped = false;
  try {
    await until("the app's ready line", () => /ready: /.test(app.log()), 120_000);
    const readyMs = Date.now() - started;
    const lines = readFileSync(o.ticksFile, "utf8").split("\n").filter(Boolean);
    await produceLines(kafka, input, lines, 2);
    const streamed = await readOutputUntilEof(kafka, output, 2, 120_000);
    const parity = compareWindows(o.batch, dedupe(streamed));
    assert.equal(parity.ok, true, `${o.name}: ${JSON.stringify({ ...parity, mismatches: parity.mismatches.slice(0, 2) })}\n${app.log()}`);

    stopped = true;
    const code = await app.stop();
    const log = app.log();
    assert.equal(code, 0, `${o.name} stops cleanly:\n${log}`);
    assert.match(log, /stopped \(consumed \d+, emitted \d+/, "the step says it stopped after its last checkpoint");

    const admin = kafka.admin();
    await admin.connect();
    try {
      const [described] = (await admin.describeGroups([group])).groups;
      assert.deepEqual([described?.state, described?.members.length], ["Empty", 0], "the app left its consumer group");
      const committed = (await admin.fetchOffsets({ groupId: group, topics: [input] }))[0]!.partitions;
      const ends = await admin.fetchTopicOffsets(input);
      for (const end of ends) {
        const c = committed.find((p) => p.partition === end.partition);
        assert.equal(c?.offset, end.high, `partition ${end.partition}: the group's offset is at the end of the input (checkpointed)`);
      }
    } finally {
      await admin.disconnect();
    }
    return { readyMs, windows: parity.matched, log };
  } finally {
    if (!stopped) await app.stop().catch(() => undefined);
  }
}
