import type { ClientOptions } from "./client.js";
import { kafkaClient } from "./client.js";
import { explainConnectError, type KafkaTarget } from "./connection.js";
import type { InBatch } from "./types.js";

export interface ReadTopicsOptions extends ClientOptions {
  /** A group of the reader's own (kafkajs has no manual assignment); it commits nothing unless `commit`. */
  groupId: string;
  topics: readonly string[];
  /** Default true: a group without offsets starts at the beginning. */
  fromBeginning?: boolean;
  /** Longest a fetch waits for data (default 100 ms). */
  maxWaitTimeInMs?: number;
  maxBytesPerPartition?: number;
  sessionTimeoutMs?: number;
  /** Retries of a failing consumer before it crashes (kafkajs' default otherwise). */
  retries?: number;
  /**
   * Commit each batch's offsets once `onBatch` resolved (default false: the reader commits nothing), so a member
   * that restarts goes on after what it finished: at-least-once, a batch cut short is read again.
   */
  commit?: boolean;
  /** Read committed records only (default true; false also shows aborted transactions). */
  readCommitted?: boolean;
  /** Each batch of messages, in offset order per partition. */
  onBatch(batch: InBatch): void | Promise<void>;
  /**
   * After each batch, with its last offset: also for batches that held only transaction markers, which never
   * reach `onBatch` (a reader waiting for a partition's end needs those offsets).
   */
  onProgress?(topic: string, partition: number, lastOffset: number): void;
  /** The reader stopped for good after an error (kafkajs gave up retrying). */
  onCrash?(error: Error): void;
}

/** A running reader; `stop` leaves its group and disconnects. */
export interface TopicReader {
  stop(): Promise<void>;
}

/**
 * Read topics from the start (or the group's offsets) and hand each batch to `onBatch` until stopped. Resolves
 * once the reader has subscribed and started; messages arrive from then on.
 * @example const r = await readTopics(brokers, { groupId: "peek", topics: ["ohlc1m"], onBatch: (b) => … }); …; await r.stop()
 */
export async function readTopics(target: KafkaTarget, o: ReadTopicsOptions): Promise<TopicReader> {
  const consumer = kafkaClient(target, o).consumer({
    groupId: o.groupId,
    maxWaitTimeInMs: o.maxWaitTimeInMs ?? 100,
    ...(o.maxBytesPerPartition === undefined ? {} : { maxBytesPerPartition: o.maxBytesPerPartition }),
    sessionTimeout: o.sessionTimeoutMs ?? 10_000,
    readUncommitted: o.readCommitted === false,
    ...(o.retries === undefined ? {} : { retry: { retries: o.retries } }),
  });
  if (o.onProgress) {
    const progress = o.onProgress;
    consumer.on(consumer.events.END_BATCH_PROCESS, (e) => progress(e.payload.topic, e.payload.partition, Number(e.payload.lastOffset)));
  }
  if (o.onCrash) {
    const crash = o.onCrash;
    consumer.on(consumer.events.CRASH, (e) => {
      if (!e.payload.restart) crash(e.payload.error);
    });
  }
  await consumer.connect().catch((e: unknown) => {
    throw explainConnectError(e, target);
  });
  try {
    await consumer.subscribe({ topics: [...o.topics], fromBeginning: o.fromBeginning ?? true });
    await consumer.run({
      autoCommit: o.commit === true,
      eachBatch: async ({ batch }) => {
        if (batch.messages.length) await o.onBatch({ topic: batch.topic, partition: batch.partition, messages: batch.messages, highWatermark: batch.highWatermark });
      },
    });
  } catch (e) {
    await consumer.disconnect().catch(() => undefined);
    throw e;
  }
  return { stop: () => consumer.disconnect() };
}
