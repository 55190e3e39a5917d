import { randomBytes } from "node:crypto";
import type { Admin } from "kafkajs";
import { ServiceError } from "../errors/index.js";
import { waitFor } from "../util/net.js";
import { type ClientOptions, kafkaClient } from "./client.js";
import { brokersOf, explainConnectError, type KafkaTarget } from "./connection.js";

export interface TopicSpec {
  topic: string;
  /** Default 1. */
  partitions?: number;
  /** Default 1 (the local broker has one node); -1 takes the broker's default. */
  replicationFactor?: number;
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

/** Topics, offsets and groups over one admin connection; `openAdmin` makes one, `disconnect` ends it. */
export interface AdminSession {
  listTopics(): Promise<string[]>;
  /** Partitions of a topic (0 when it does not exist). */
  partitionCount(topic: string): Promise<number>;
  /** createTopics over this connection (see below). */
  createTopics(topics: readonly TopicSpec[]): Promise<boolean>;
  topicOffsets(topic: string): Promise<PartitionOffsets[]>;
  /** The group's committed offsets per topic; -1 for a partition it never committed. */
  committedOffsets(group: string, topics: readonly string[]): Promise<{ topic: string; partitions: { partition: number; offset: number }[] }[]>;
  /** Delete topics; topics that do not exist are ignored. */
  deleteTopics(topics: readonly string[]): Promise<void>;
  /** The ids of every consumer group the cluster knows. */
  listGroups(): Promise<string[]>;
  /** Delete consumer groups (they must have no active members); unknown groups are ignored. */
  deleteGroups(groups: readonly string[]): Promise<void>;
  disconnect(): Promise<void>;
}

/**
 * Connect an admin session. Example: `const admin = await openAdmin(brokers); try { … } finally { await admin.disconnect() }`.
 * `config` takes client settings (timeouts, retries) for short-lived checks such as a dashboard refresh.
 */
export async function openAdmin(target: KafkaTarget, opts: ClientOptions = {}): Promise<AdminSession> {
  const admin = kafkaClient(target, { clientId: "quixlab-admin", ...opts }).admin();
  await admin.connect().catch((e: unknown) => {
    throw explainConnectError(e, target);
  });
  return sessionOf(admin);
}

/**
 * kafkajs's BrokerPool.withBroker returns null when a call failed on every broker (the broker went down just then);
 * its admin then reads the null: `fetchTopicMetadata` as `null.topicMetadata`, `listTopics` by destructuring it.
 */
const NULL_METADATA = /of null \(reading 'topicMetadata'\)|property 'topicMetadata' of .* as it is null/;

/** The error to raise for a failed metadata call: kafkajs's null-metadata TypeError as what it means (retriable). */
export function explainMetadataError(e: unknown): unknown {
  if (!(e instanceof TypeError && NULL_METADATA.test(e.message))) return e;
  return new ServiceError("Kafka metadata not available: the request failed on every broker (one restarting?)", {
    cause: e,
    retriable: true,
    remedy: "check the broker is running ('quixlab services status'), then try again",
  });
}

/** A metadata call of kafkajs's admin, its null-metadata failure explained. */
async function metadata<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    throw explainMetadataError(e);
  }
}

function sessionOf(admin: Admin): AdminSession {
  const listTopics = () => metadata(() => admin.listTopics());
  return {
    listTopics,
    partitionCount: async (topic) => {
      if (!(await listTopics()).includes(topic)) return 0;
      return (await metadata(() => admin.fetchTopicMetadata({ topics: [topic] }))).topics[0]?.partitions.length ?? 0;
    },
    createTopics: (topics) => createOn(admin, topics),
    topicOffsets: async (topic) =>
      (await admin.fetchTopicOffsets(topic))
        .map((o) => ({ partition: o.partition, low: Number(o.low), high: Number(o.high) }))
        .sort((a, b) => a.partition - b.partition),
    committedOffsets: async (group, topics) =>
      (await admin.fetchOffsets({ groupId: group, topics: [...topics] })).map((t) => ({
        topic: t.topic,
        partitions: t.partitions.map((p) => ({ partition: p.partition, offset: Number(p.offset) })),
      })),
    deleteTopics: async (topics) => {
      const existing = new Set(await listTopics());
      const present = topics.filter((t) => existing.has(t));
      if (present.length) await admin.deleteTopics({ topics: present });
    },
    listGroups: async () => (await admin.listGroups()).groups.map((g) => g.groupId),
    deleteGroups: async (groups) => {
      const known = new Set((await admin.listGroups()).groups.map((g) => g.groupId));
      const present = groups.filter((g) => known.has(g));
      if (present.length) await admin.deleteGroups(present);
    },
    disconnect: () => admin.disconnect(),
  };
}

async function withAdmin<T>(target: KafkaTarget, what: string, fn: (admin: AdminSession) => Promise<T>): Promise<T> {
  let admin: AdminSession | undefined;
  try {
    admin = await openAdmin(target);
    return await fn(admin);
  } catch (e) {
    throw new ServiceError(`Kafka at ${brokersOf(target).join(",")}: ${what} failed: ${(e as Error).message}`, {
      cause: e,
      retriable: Boolean((e as { retriable?: boolean }).retriable),
      remedy: "check the broker is running ('quixlab services status') and the topic names are valid",
    });
  } finally {
    await admin?.disconnect().catch(() => undefined);
  }
}

/**
 * Create topics (replication factor 1) and wait until each partition has a leader; existing topics are left
 * as they are. Returns true when at least one topic was created.
 */
export function createTopics(target: KafkaTarget, topics: TopicSpec[]): Promise<boolean> {
  return withAdmin(target, `creating ${topics.map((t) => t.topic).join(", ")}`, (admin) => admin.createTopics(topics));
}

async function createOn(admin: Admin, topics: readonly TopicSpec[]): Promise<boolean> {
  const names = topics.map((t) => t.topic);
  // kafkajs's own waitForLeaders gives up on UNKNOWN_TOPIC_OR_PARTITION, which a KRaft broker answers until
  // it has applied the new topic to its metadata cache; so wait here, retrying that.
  const created = await admin.createTopics({
    waitForLeaders: false,
    topics: topics.map((t) => ({
      topic: t.topic,
      numPartitions: t.partitions ?? 1,
      replicationFactor: t.replicationFactor ?? 1,
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
}

/** Delete topics; topics that do not exist are ignored. */
export function deleteTopics(target: KafkaTarget, topics: string[]): Promise<void> {
  return withAdmin(target, `deleting ${topics.join(", ")}`, (admin) => admin.deleteTopics(topics));
}
/** Delete consumer groups (they must have no active members); unknown groups are ignored. */
export function deleteGroups(target: KafkaTarget, groups: string[]): Promise<void> {
  return withAdmin(target, `deleting groups ${groups.join(", ")}`, (admin) => admin.deleteGroups(groups));
}

/**
 * The ids of every consumer group the cluster knows (for cleanup by name prefix: a group that a crashed process
 * made with a random suffix can only be found this way).
 * @example (await listGroups(brokers)).filter((g) => g.startsWith(prefix))
 */
export function listGroups(target: KafkaTarget): Promise<string[]> {
  return withAdmin(target, "listing consumer groups", (admin) => admin.listGroups());
}

/** Low and high watermarks of every partition of `topic`, by partition number. */
export function topicOffsets(target: KafkaTarget, topic: string): Promise<PartitionOffsets[]> {
  return withAdmin(target, `reading offsets of ${topic}`, (admin) => admin.topicOffsets(topic));
}

/** A topic/group name no other run will use: `<prefix>-<base36 time>-<random>`, restricted to Kafka's charset. */
export function uniqueName(prefix: string): string {
  // A run of illegal characters, with the dashes around it, becomes one dash: "order (10 msgs)-in" -> "order-10-msgs-in".
  const clean = prefix.replace(/-*[^A-Za-z0-9._-]+-*/g, "-").replace(/^-+|-+$/g, "").slice(0, 180) || "quixlab";
  return `${clean}-${Date.now().toString(36)}-${randomBytes(4).toString("hex")}`;
}
