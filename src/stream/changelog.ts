import { randomBytes } from "node:crypto";
import type { Kafka } from "kafkajs";
import { ServiceError } from "../errors/index.js";
import type { EngineSnapshot } from "../window/engine.js";
import type { OutMessage } from "./serde.js";

/**
 * The changelog: a compacted topic holding, per input partition, the last checkpoint — the window engine's
 * snapshot and the input offset it corresponds to. It is written together with the outputs (in the same
 * transaction in exactly-once mode), so restoring a checkpoint and seeking to its offset continues exactly where
 * the checkpointed state left off.
 */

/** Name of the changelog topic of a step: `<consumerGroup>.<feature>.changelog`. */
export function changelogTopic(consumerGroup: string, feature: string): string {
  return `${consumerGroup}.${feature}.changelog`;
}

/** Topic settings: compacted, with small segments so compaction keeps it short. */
export const CHANGELOG_CONFIG: Record<string, string> = {
  "cleanup.policy": "compact",
  "segment.ms": "600000",
  "min.cleanable.dirty.ratio": "0.1",
};

export interface Checkpoint {
  readonly format: 1;
  readonly feature: string;
  /** Feature version: a checkpoint of another version is never restored. */
  readonly version: string;
  readonly topic: string;
  readonly partition: number;
  /** Offset of the next input message to process. */
  readonly offset: number;
  readonly engine: EngineSnapshot;
  /** Wall time it was taken, epoch ms. */
  readonly at: number;
}

/** The changelog key of a partition's checkpoint; it carries the feature version, so versions never mix. */
export function checkpointKey(topic: string, partition: number, version: string): string {
  return `${topic}/${partition}/${version}`;
}

/** The changelog message of a checkpoint, on changelog partition `partition % changelogPartitions`. */
export function checkpointMessage(changelog: string, changelogPartitions: number, c: Checkpoint): OutMessage {
  return {
    topic: changelog,
    partition: c.partition % changelogPartitions,
    key: checkpointKey(c.topic, c.partition, c.version),
    value: JSON.stringify(c),
  };
}

/** Parse a changelog value; undefined for anything that is not a checkpoint (never throws). */
export function parseCheckpoint(value: Buffer | string | null): Checkpoint | undefined {
  if (value === null) return undefined;
  try {
    const c = JSON.parse(value.toString()) as Partial<Checkpoint>;
    if (c?.format !== 1 || typeof c.offset !== "number" || typeof c.partition !== "number" || !c.engine) return undefined;
    return c as Checkpoint;
  } catch {
    return undefined;
  }
}

/** What the changelog holds for one input partition. */
export interface Restored {
  checkpoint?: Checkpoint;
  /** Versions of checkpoints found for this partition that were not ours (ignored). */
  otherVersions: string[];
}

export interface ReadCheckpointsOptions {
  kafka: Kafka;
  changelog: string;
  topic: string;
  version: string;
  /** Input partitions to restore. */
  partitions: readonly number[];
  changelogPartitions: number;
  timeoutMs?: number;
}

/**
 * Read the changelog to its end (committed records only) and return the newest checkpoint of each requested
 * input partition. kafkajs has no manual partition assignment, so a short-lived consumer in a group of its own
 * reads it; partitions whose changelog is empty cost no consumer at all.
 */
export async function readCheckpoints(o: ReadCheckpointsOptions): Promise<Map<number, Restored>> {
  const out = new Map<number, Restored>(o.partitions.map((p) => [p, { otherVersions: [] }]));
  const wanted = new Set(o.partitions.map((p) => p % o.changelogPartitions));
  const admin = o.kafka.admin();
  await admin.connect();
  let ends: Map<number, number>;
  let groupId = "";
  try {
    const offsets = await admin.fetchTopicOffsets(o.changelog);
    ends = new Map(offsets.filter((x) => wanted.has(x.partition) && Number(x.high) > Number(x.low)).map((x) => [x.partition, Number(x.high)]));
    if (ends.size === 0) return out;
    groupId = `${o.changelog}.restore.${randomBytes(6).toString("hex")}`;
    const consumer = o.kafka.consumer({ groupId, maxBytesPerPartition: 8 << 20, maxWaitTimeInMs: 200, retry: { retries: 5 } });
    const remaining = new Set(ends.keys());
    let finish!: () => void;
    const done = new Promise<void>((r) => (finish = r));
    const progress = (partition: number, lastOffset: string) => {
      const end = ends.get(partition);
      if (end !== undefined && Number(lastOffset) >= end - 1) remaining.delete(partition);
      if (remaining.size === 0) finish();
    };
    // Batches holding only transaction markers never reach eachBatch; this event still reports their offsets.
    consumer.on(consumer.events.END_BATCH_PROCESS, (e) => progress(e.payload.partition, e.payload.lastOffset));
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: o.changelog, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          if (!wanted.has(batch.partition)) return;
          for (const m of batch.messages) {
            const c = parseCheckpoint(m.value);
            if (!c || c.topic !== o.topic) continue;
            const slot = out.get(c.partition);
            if (!slot) continue;
            if (c.version === o.version) slot.checkpoint = c;
            else if (!slot.otherVersions.includes(c.version)) slot.otherVersions.push(c.version);
          }
        },
      });
      const timeoutMs = o.timeoutMs ?? 60_000;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new ServiceError(`reading the changelog ${o.changelog} did not reach its end within ${timeoutMs} ms`, {
                retriable: true,
                remedy: "check the broker; an open transaction of a dead producer ends once its transaction times out",
                context: { topic: o.changelog },
              }),
            ),
          timeoutMs,
        );
      });
      try {
        await Promise.race([done, timeout]);
      } finally {
        clearTimeout(timer);
      }
    } finally {
      await consumer.disconnect().catch(() => undefined);
    }
    // The group held no offsets; delete it so restores leave nothing behind.
    await admin.deleteGroups([groupId]).catch(() => undefined);
    return out;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
