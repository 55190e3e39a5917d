/**
 * The source's output topic: made to exist (the platform's way on Quix Cloud), and read back at start so a
 * restarted source knows what it already produced.
 */
import { type AdminSession, deleteGroups, type KafkaTarget, openAdmin, type ReadTopicsOptions, readTopics, type TopicReader, uniqueName } from "../kafka/index.js";
import type { SourceConfig } from "./config.js";
import { Dedup } from "./dedup.js";
import { classifyFrame } from "./protocol.js";

/** Where the source connects: the platform's connection when there is one. */
export function targetOf(config: SourceConfig): KafkaTarget {
  const c = config.connection ?? config.platform?.connection;
  return c ? { ...c, brokers: c.brokers.length ? c.brokers : [...config.brokers] } : [...config.brokers];
}

/**
 * The broker's name of the output topic, once it exists: on a platform it asks the platform (which creates or
 * finds it); else it is created with one partition when missing (declare it in quix.yaml for more).
 */
export async function ensureOutputTopic(config: SourceConfig, log: (line: string) => void): Promise<string> {
  if (config.platform) return (await config.platform.topics([{ name: config.topic, partitions: 1 }]))[0]!;
  const admin = await openAdmin(targetOf(config));
  try {
    if (!(await admin.listTopics()).includes(config.topic)) {
      await admin.createTopics([{ topic: config.topic, partitions: 1, replicationFactor: -1 }]);
      log(`created topic ${config.topic} (1 partition)`);
    }
    return config.topic;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** The Kafka calls the start-up read makes; a test passes its own to drive the read without a broker. */
export interface SeedKafka {
  openAdmin(target: KafkaTarget): Promise<Pick<AdminSession, "topicOffsets" | "disconnect">>;
  readTopics(target: KafkaTarget, o: ReadTopicsOptions): Promise<TopicReader>;
  deleteGroups(target: KafkaTarget, groups: string[]): Promise<void>;
}

const KAFKA: SeedKafka = { openAdmin: (target) => openAdmin(target), readTopics, deleteGroups };

/**
 * The last position per product already in `topic`, read to each partition's end as it is now. Every partition
 * is read from its start: a partition holds many products, and the one that traded last is not the only one a
 * feed resends after a restart (its first ticker per product is the last trade again), so the tail of one
 * partition is not enough. The topic's retention bounds the cost. Aborting `signal` (the source's stop) ends
 * the read early with what it has read, the reader disconnected and its group deleted, so a stop during a long
 * read does not wait for it.
 */
export async function producedPositions(
  target: KafkaTarget,
  topic: string,
  opts: { log: (line: string) => void; signal?: AbortSignal; timeoutMs?: number; kafka?: SeedKafka },
): Promise<{ dedup: Dedup; messages: number }> {
  const kafka = opts.kafka ?? KAFKA;
  const dedup = new Dedup();
  if (opts.signal?.aborted) return { dedup, messages: 0 };
  const admin = await kafka.openAdmin(target);
  let ends: Map<number, number>;
  try {
    ends = new Map((await admin.topicOffsets(topic)).filter((p) => p.high > p.low).map((p) => [p.partition, p.high - 1]));
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  if (ends.size === 0 || opts.signal?.aborted) return { dedup, messages: 0 };
  let messages = 0;
  const groupId = uniqueName(`quixlab-source-seed-${topic}`);
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const progress = (partition: number, offset: number) => {
    if (ends.has(partition) && offset >= ends.get(partition)!) ends.delete(partition);
    if (ends.size === 0) done();
  };
  const reader = await kafka.readTopics(target, {
    groupId,
    topics: [topic],
    onBatch: (b) => {
      for (const m of b.messages) {
        messages++;
        const f = m.value ? classifyFrame(m.value.toString("utf8")) : undefined;
        if (f?.kind === "ticker") dedup.seed(f.product, f.position);
      }
      const last = b.messages[b.messages.length - 1];
      if (last) progress(b.partition, Number(last.offset));
    },
    onProgress: (_t, partition, offset) => progress(partition, offset),
  });
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const end = await firstOf(finished, timeoutMs, opts.signal);
  await reader.stop().catch(() => undefined);
  await kafka.deleteGroups(target, [groupId]).catch(() => undefined);
  if (end === "stopped") opts.log(`stopped while reading what ${topic} holds (${messages} messages read)`);
  if (end === "timeout") opts.log(`reading what ${topic} holds took over ${timeoutMs / 1000} s; continuing with ${messages} messages read (a product not seen may repeat its last trade once)`);
  return { dedup, messages };
}

/** Which comes first: `finished`, `timeoutMs`, or `signal` aborting (at once when it already has). */
function firstOf(finished: Promise<void>, timeoutMs: number, signal: AbortSignal | undefined): Promise<"done" | "timeout" | "stopped"> {
  return new Promise((resolve) => {
    const end = (how: "done" | "timeout" | "stopped") => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", stopped);
      resolve(how);
    };
    const stopped = () => end("stopped");
    const timer = setTimeout(() => end("timeout"), timeoutMs);
    finished.then(() => end("done"));
    if (signal?.aborted) stopped();
    else signal?.addEventListener("abort", stopped, { once: true });
  });
}
