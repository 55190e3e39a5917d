import { randomBytes } from "node:crypto";
import type { Admin } from "kafkajs";
import { ServiceError } from "../errors/index.js";
import { waitFor } from "../util/net.js";
import { kafkaClient } from "./client.js";

export interface TopicSpec {
  topic: string;
  /** Default 1. */
  partitions?: number;
  /** Topic configs, e.g. `{ "retention.ms": "-1" }`. */
  config?: Record<string, string>;
}

export interface PartitionOffsets {
  partition: number;
  /** First offset still stored. */
  low: number;
  /** Next offset to be written (the high watermark). */
  high: number;
}

async function withAdmin<T>(brokers: string[], what: string, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafkaClient(brokers, { clientId: "quixlab-admin" }).admin();
  try {
    await admin.connect();
    return await fn(admin);
  } catch (e) {
    throw new ServiceError(`Kafka at ${brokers.join(",")}: ${what} failed: ${(e as Error).message}`, {
      cause: e,
      retriable: Boolean((e as { retriable?: boolean }).retriable),
      remedy: "check the broker is running ('quixlab services status') and the topic names are valid",
    });
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * Create topics (replication factor 1) and wait until each partition has a leader; existing topics are left
 * as they are. Returns true when at least one topic was created.
 */
export function createTopics(brokers: string[], topics: TopicSpec[]): Promise<boolean> {
  const names = topics.map((t) => t.topic);
  return withAdmin(brokers, `creating ${names.join(", ")}`, async (admin) => {
    // kafkajs's own waitForLeaders gives up on UNKNOWN_TOPIC_OR_PARTITION, which a KRaft broker answers until
    // it has applied the new topic to its metadata cache; so wait here, retrying that.
    const created = await admin.createTopics({
      waitForLeaders: false,
      topics: topics.map((t) => ({
        topic: t.topic,
        numPartitions: t.partitions ?? 1,
        replicationFactor: 1,
        configEntries: Object.entries(t.config ?? {}).map(([name, value]) => ({ name, value })),
      })),
    });
    await waitFor(
      async () => {
        const { topics: metadata } = await admin.fetchTopicMetadata({ topics: names });
        return metadata.length === names.length && metadata.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0));
      },
      { timeoutMs: 30_000, intervalMs: 100, what: `leaders of ${names.join(", ")}` },
    );
    // A KRaft broker can still answer "not the leader" for a moment after metadata lists one; offset queries
    // succeed only once every partition takes writes, so wait for those too.
    await waitFor(
      async () => {
        for (const name of names) await admin.fetchTopicOffsets(name);
        return true;
      },
      { timeoutMs: 30_000, intervalMs: 50, what: `partitions of ${names.join(", ")} to take writes` },
    );
    return created;
  });
}

/** Delete topics; topics that do not exist are ignored. */
export function deleteTopics(brokers: string[], topics: string[]): Promise<void> {
  return withAdmin(brokers, `deleting ${topics.join(", ")}`, async (admin) => {
    const existing = new Set(await admin.listTopics());
    const present = topics.filter((t) => existing.has(t));
    if (present.length) await admin.deleteTopics({ topics: present });
  });
}

/** Delete consumer groups (they must have no active members); unknown groups are ignored. */
export function deleteGroups(brokers: string[], groups: string[]): Promise<void> {
  return withAdmin(brokers, `deleting groups ${groups.join(", ")}`, async (admin) => {
    const known = new Set((await admin.listGroups()).groups.map((g) => g.groupId));
    const present = groups.filter((g) => known.has(g));
    if (present.length) await admin.deleteGroups(present);
  });
}

/** Low and high watermarks of every partition of `topic`, by partition number. */
export function topicOffsets(brokers: string[], topic: string): Promise<PartitionOffsets[]> {
  return withAdmin(brokers, `reading offsets of ${topic}`, async (admin) => {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets
      .map((o) => ({ partition: o.partition, low: Number(o.low), high: Number(o.high) }))
      .sort((a, b) => a.partition - b.partition);
  });
}

/** A topic/group name no other run will use: `<prefix>-<base36 time>-<random>`, restricted to Kafka's charset. */
export function uniqueName(prefix: string): string {
  // A run of illegal characters, with the dashes around it, becomes one dash: "order (10 msgs)-in" -> "order-10-msgs-in".
  const clean = prefix.replace(/-*[^A-Za-z0-9._-]+-*/g, "-").replace(/^-+|-+$/g, "").slice(0, 180) || "quixlab";
  return `${clean}-${Date.now().toString(36)}-${randomBytes(4).toString("hex")}`;
}
