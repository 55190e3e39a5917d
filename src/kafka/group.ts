import type { EachBatchPayload } from "kafkajs";
import type { Log } from "../infra/process.js";
import { kafkaClient } from "./client.js";
import { explainConnectError, type KafkaTarget } from "./connection.js";
import { rawBatchesAvailable, rawBatchOf, withoutRawBatches, withRawBatches } from "./rawfetch.js";
import type { RawBatch } from "./record-batch.js";
import type { InMessage } from "./types.js";

/**
 * A consumer-group runner: one kafkajs consumer in a group, subscribed to one topic, handing each fetched batch of
 * a partition to `onBatch` as quixlab's own `GroupBatch`. Offsets are never committed automatically; the caller
 * resolves (moves the fetch position) and commits. The fetch patch (rawfetch.ts) lives behind it: with
 * `rawBatches`, plain record batches arrive undecoded in `GroupBatch.raw`, and every callback into the caller
 * (batches, assignments, crashes, log lines) runs outside the patch's context, so consumers the caller starts from
 * there decode as usual.
 */

/** One partition's fetched batch. */
export interface GroupBatch {
  readonly topic: string;
  readonly partition: number;
  /** The offset the fetch asked for (the partition's fetch position). */
  readonly fetchedOffset: number;
  /** Offset of the batch's last record, past trailing transaction markers. */
  readonly lastOffset: number;
  /** The partition's high watermark when fetched. */
  readonly highWatermark: number;
  /** The records, decoded (empty when they came as `raw`). */
  readonly messages: readonly InMessage[];
  /** The record batches as fetched, copied into a transferable buffer: only with `rawBatches`, for plain batches. */
  readonly raw?: RawBatch;
  /** Move the partition's fetch position past `offset` (no commit). */
  resolveOffset(offset: number): void;
  /** Commit `next` (the next offset to consume) as the group's offset of this partition. */
  commit(next: number): Promise<void>;
  /** Keep the group membership during long work; throws when a rebalance needs the partition back. */
  heartbeat(): Promise<void>;
  /** False once the consumer is stopping. */
  isRunning(): boolean;
  /** True when a seek or a rebalance made this batch obsolete. */
  isStale(): boolean;
  /** Pause this partition (until `resume`). */
  pause(): void;
}

export interface GroupOptions {
  groupId: string;
  topic: string;
  clientId?: string;
  /** kafkajs' warnings and errors, and the runner's own lines (called outside the fetch patch's context). */
  log?: Log;
  /** How long a dead member holds its partitions (default 10,000 ms). */
  sessionTimeoutMs?: number;
  /** Partitions whose batches are handled at once (default 4). */
  concurrency?: number;
  /** Deliver plain record batches undecoded (`GroupBatch.raw`) when the fetch patch is installed. Default false. */
  rawBatches?: boolean;
  /** Each batch; a rejection makes kafkajs retry it (then restart the consumer), from the partition's fetch position. */
  onBatch(batch: GroupBatch): Promise<void>;
  /** The partitions of `topic` this member holds after each join. */
  onAssign?(partitions: number[]): void;
  /** The consumer crashed; `restart` says whether kafkajs restarts it (it rejoins) or it stopped for good. */
  onCrash?(error: Error, restart: boolean): void;
}

/** A group member: `start` joins and runs it, `stop` leaves. */
export interface GroupRunner {
  /** True when batches come undecoded (`rawBatches` asked and the patch installed), else why not. */
  readonly rawBatches: true | string;
  /** Connect, subscribe and run; resolves once the consumer runs (the first assignment follows, `onAssign`). */
  start(): Promise<void>;
  /** Fetch `partition` from `offset` next. Throws when the consumer is not running. */
  seek(partition: number, offset: number): void;
  pause(partitions: readonly number[]): void;
  resume(partitions: readonly number[]): void;
  /** Leave the group and disconnect; running batches finish first. */
  stop(): Promise<void>;
}

/**
 * A member of `groupId` consuming `topic` (from the beginning when the group has no offsets), not started yet: the
 * caller holds the runner (to seek, pause) before the first batch arrives.
 * @example const r = groupRunner(brokers, { groupId, topic, onBatch: async (b) => { …; b.resolveOffset(b.lastOffset) } }); await r.start()
 */
export function groupRunner(target: KafkaTarget, o: GroupOptions): GroupRunner {
  const log = o.log ? (line: string) => withoutRawBatches(() => o.log!(line)) : undefined;
  const session = o.sessionTimeoutMs ?? 10_000;
  const consumer = kafkaClient(target, { clientId: o.clientId, log }).consumer({
    groupId: o.groupId,
    sessionTimeout: session,
    heartbeatInterval: Math.max(100, Math.min(3_000, Math.floor(session / 3))),
    rebalanceTimeout: Math.max(session, 30_000),
    maxWaitTimeInMs: 500,
    maxBytesPerPartition: 8 << 20,
    readUncommitted: false,
  });
  const raw: true | string = o.rawBatches ? rawBatchesAvailable() : "not asked for";
  // kafkajs calls these from inside the patch's context (run() below): the caller's code runs outside it.
  consumer.on(consumer.events.GROUP_JOIN, (e) => withoutRawBatches(() => o.onAssign?.(e.payload.memberAssignment[o.topic] ?? [])));
  consumer.on(consumer.events.CRASH, (e) => withoutRawBatches(() => o.onCrash?.(e.payload.error, e.payload.restart)));
  const topic = o.topic;
  return {
    rawBatches: raw,
    async start() {
      await consumer.connect().catch((e: unknown) => {
        throw explainConnectError(e, target);
      });
      try {
        await consumer.subscribe({ topic, fromBeginning: true });
        const run = () =>
          consumer.run({
            autoCommit: false,
            eachBatchAutoResolve: false,
            partitionsConsumedConcurrently: o.concurrency ?? 4,
            eachBatch: (p) => withoutRawBatches(() => o.onBatch(batchOf(p, raw === true, topic))),
          });
        // The fetches this run starts (and restarts after a crash) leave plain batches undecoded.
        await (raw === true ? withRawBatches(run) : run());
      } catch (e) {
        await consumer.disconnect().catch(() => undefined);
        throw e;
      }
    },
    seek: (partition, offset) => consumer.seek({ topic, partition, offset: String(offset) }),
    pause: (partitions) => consumer.pause([{ topic, partitions: [...partitions] }]),
    resume: (partitions) => consumer.resume([{ topic, partitions: [...partitions] }]),
    stop: () => consumer.disconnect(),
  };
}

function batchOf(p: EachBatchPayload, raw: boolean, topic: string): GroupBatch {
  const { batch } = p;
  const partition = batch.partition;
  // kafkajs keeps the offset it fetched from on the batch but leaves it out of its typings.
  const fetchedOffset = Number((batch as unknown as { fetchedOffset: string }).fetchedOffset);
  const lastOffset = Number(batch.lastOffset());
  const rawBatch = raw ? rawBatchOf(partition, batch.messages, fetchedOffset, lastOffset + 1) : undefined;
  return {
    topic,
    partition,
    fetchedOffset,
    lastOffset,
    highWatermark: Number(batch.highWatermark),
    messages: rawBatch ? [] : batch.messages,
    raw: rawBatch,
    resolveOffset: (offset) => p.resolveOffset(String(offset)),
    commit: (next) => p.commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition, offset: String(next) }] }] }),
    heartbeat: () => p.heartbeat(),
    isRunning: () => p.isRunning(),
    isStale: () => p.isStale(),
    pause: () => void p.pause(),
  };
}
