import { randomBytes } from "node:crypto";
import { ServiceError } from "../errors/index.js";
import type { EngineSnapshot } from "../window/engine.js";
import { type KafkaTarget, type OutMessage, openAdmin, readTopics } from "../kafka/index.js";

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
  connection: KafkaTarget;
  clientId?: string;
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
 * input partition. A reader in a group of its own reads it (kafkajs has no manual assignment); partitions whose
 * changelog is empty cost no reader at all.
 */
export async function readCheckpoints(o: ReadCheckpointsOptions): Promise<Map<number, Restored>> {
  const out = new Map<number, Restored>(o.partitions.map((p) => [p, { otherVersions: [] }]));
  const wanted = new Set(o.partitions.map((p) => p % o.changelogPartitions));
  const admin = await openAdmin(o.connection, { clientId: o.clientId });
  try {
    const offsets = await admin.topicOffsets(o.changelog);
    const ends = new Map(offsets.filter((x) => wanted.has(x.partition) && x.high > x.low).map((x) => [x.partition, x.high]));
    if (ends.size === 0) return out;
    const groupId = `${o.changelog}.restore.${randomBytes(6).toString("hex")}`;
    const remaining = new Set(ends.keys());
    let finish!: () => void;
    let crash!: (e: Error) => void;
    const done = new Promise<void>((resolve, reject) => {
      finish = resolve;
      crash = reject;
    });
    const reader = await readTopics(o.connection, {
      clientId: o.clientId,
      groupId,
      topics: [o.changelog],
      maxBytesPerPartition: 8 << 20,
      maxWaitTimeInMs: 200,
      retries: 5,
      onBatch: ({ partition, messages }) => {
        if (!wanted.has(partition)) return;
        for (const m of messages) {
          const c = parseCheckpoint(m.value);
          if (!c || c.topic !== o.topic) continue;
          const slot = out.get(c.partition);
          if (!slot) continue;
          if (c.version === o.version) slot.checkpoint = c;
          else if (!slot.otherVersions.includes(c.version)) slot.otherVersions.push(c.version);
        }
      },
      // Batches holding only transaction markers never reach onBatch; their offsets still come here.
      onProgress: (_topic, partition, lastOffset) => {
        const end = ends.get(partition);
        if (end !== undefined && lastOffset >= end - 1) remaining.delete(partition);
        if (remaining.size === 0) finish();
      },
      onCrash: (e) => crash(e),
    });
    try {
      await withTimeout(done, o.timeoutMs ?? 60_000, o.changelog);
    } finally {
      await reader.stop().catch(() => undefined);
    }
    // The group held no offsets; delete it so restores leave nothing behind.
    await admin.deleteGroups([groupId]).catch(() => undefined);
    return out;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

async function withTimeout(done: Promise<void>, timeoutMs: number, changelog: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new ServiceError(`reading the changelog ${changelog} did not reach its end within ${timeoutMs} ms`, {
            retriable: true,
            remedy: "check the broker; an open transaction of a dead producer ends once its transaction times out",
            context: { topic: changelog },
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
}
