import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startBroker } from "../broker/index.js";
import type { BrokerHandle } from "../broker/types.js";
import { type ClientOptions, createTopics, deleteGroups, deleteTopics, listGroups } from "../kafka/index.js";
import { type RedisHandle, startRedis } from "../redis/provider.js";
import type { WindowRecord } from "../window/types.js";
import { type ReplayNames, type ReplaySettings, replayTopics } from "./plan.js";

/**
 * Client retries for the replay's own connections (reader, producer, admin): each request retries for about a
 * minute (30 tries, at most 2 s apart), so a broker killed and restarted on the same port is ridden out.
 */
export const RIDE_OUT_OUTAGE = { initialRetryTime: 100, maxRetryTime: 2_000, retries: 30 } as const;

/** Undo steps run last-registered first; one that fails is logged and the rest still run. */
export class Cleanup {
  private readonly steps: { what: string; run(): Promise<unknown> | unknown }[] = [];

  defer(what: string, run: () => Promise<unknown> | unknown): void {
    this.steps.push({ what, run });
  }

  async run(log: (line: string) => void): Promise<void> {
    for (let s = this.steps.pop(); s; s = this.steps.pop()) {
      try {
        await s.run();
      } catch (e) {
        log(`cleanup: ${s.what}: ${(e as Error).message}`);
      }
    }
  }
}

/**
 * The services of one replay and everything it made on them. Life cycle: `openSession` starts Kafka and Redis
 * and creates the topics; callers `defer` the undoing of what they add (the reader, the step); `close` always
 * runs, in a `finally`: it ends the step and the reader, deletes the topics and groups (unless kept), stops the
 * services we started and removes the temporary directory.
 */
export interface ReplaySession {
  readonly broker: BrokerHandle;
  readonly redis: RedisHandle;
  readonly brokers: string[];
  /** Where the step writes its metrics on a clean stop (a chain's step i: `metricsFileOf(i)`). */
  readonly metricsFile: string;
  metricsFileOf(step: number): string;
  /** Settings of a client of this replay, `role` naming it to the broker. */
  client(role: string): ClientOptions;
  defer(what: string, run: () => Promise<unknown> | unknown): void;
  close(): Promise<void>;
}

/**
 * `chain`: the names of each step of a chain after the first, whose input is the step before's output (its
 * topics are made too, and deleted with the rest).
 */
export async function openSession(s: ReplaySettings, names: ReplayNames, log: (line: string) => void, chain: readonly ReplayNames[] = []): Promise<ReplaySession> {
  const cleanup = new Cleanup();
  try {
    const dir = mkdtempSync(join(tmpdir(), "quixlab-replay-"));
    cleanup.defer("temporary directory", () => rmSync(dir, { recursive: true, force: true }));
    const broker = await startBroker({ provider: s.broker.provider, address: s.broker.address, cwd: s.cwd, log });
    cleanup.defer("stopping the broker", () => broker.stop());
    const redis = await startRedis({ provider: s.redis, cwd: s.cwd, log });
    cleanup.defer("stopping Redis", () => redis.stop());
    const brokers = broker.brokers;
    if (!s.keep) {
      // Registered before the topics exist, so a half-made set goes too.
      for (const n of [names, ...chain]) {
        // A chain's step reads the step before's output: that topic is deleted with the step that writes it.
        const own = Object.values(n.topics).filter((t) => n === names || t !== n.topics.input);
        cleanup.defer("deleting groups", () => deleteOwnGroups(brokers, n.base));
        cleanup.defer("deleting topics", () => deleteTopics(brokers, [...own, n.changelog]));
      }
    }
    await createTopics(brokers, replayTopics(names, s.partitions));
    for (const n of chain) await createTopics(brokers, replayTopics(n, s.partitions).filter((t) => t.topic !== n.topics.input));
    log(`replay: topics ${[names, ...chain].map((n) => n.topics.input).join(" → ")} → ${(chain.at(-1) ?? names).topics.output} (${s.partitions} partitions)`);
    return {
      broker,
      redis,
      brokers,
      metricsFile: join(dir, "metrics.json"),
      metricsFileOf: (step) => join(dir, step === 0 ? "metrics.json" : `metrics-${step}.json`),
      client: (role) => ({ clientId: `${names.base}-${role}`, config: { retry: { ...RIDE_OUT_OUTAGE } } }),
      defer: (what, run) => cleanup.defer(what, run),
      close: () => cleanup.run(log),
    };
  } catch (e) {
    await cleanup.run(log);
    throw e;
  }
}

/**
 * Delete the groups whose names start with `base`. After a broker restart a group can still hold a member from
 * before it (a consumer that rejoined as a new member) until its session times out (the step's 6 s, the
 * reader's 10 s), and Kafka refuses to delete a group with members: so retry for a while.
 */
async function deleteOwnGroups(brokers: string[], base: string, forMs = 15_000): Promise<void> {
  const until = Date.now() + forMs;
  for (;;) {
    try {
      const groups = (await listGroups(brokers)).filter((g) => g.startsWith(base));
      if (groups.length) await deleteGroups(brokers, groups);
      return;
    } catch (e) {
      if (Date.now() > until) throw e;
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
}

/** How many of `windows` the online store holds, or null when Redis cannot say. */
export async function countStored(url: string, featureName: string, windows: readonly WindowRecord[]): Promise<number | null> {
  try {
    const { getRange } = await import("../store/online.js");
    const { Redis } = await import("ioredis");
    const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await r.connect();
    try {
      const keys = [...new Set(windows.map((w) => w.key))];
      let n = 0;
      for (const k of keys) n += (await getRange(r, featureName, k)).length;
      return n;
    } finally {
      r.disconnect();
    }
  } catch {
    return null;
  }
}
