import { ServiceError } from "../errors/index.js";
import { type ClientOptions, type InBatch, headerText, type KafkaTarget, openAdmin, readTopics } from "../kafka/index.js";
import { EofTracker, isEof, SOURCE_PARTITION_HEADER } from "../stream/control.js";
import { SOURCE_OFFSET_HEADER } from "../stream/serde.js";
import type { WindowRecord } from "../window/types.js";
import type { ReplayNames } from "./plan.js";

/**
 * What the replay has read of the step's output, dead-letter and late topics. Pure: it takes batches in and
 * knows when the output is complete. A batch read again (the reader rejoined its group after a broker outage and
 * starts over, since it commits nothing) is skipped by offset, so every count stays what the step wrote.
 */
export class OutputTally {
  readonly windows: WindowRecord[] = [];
  /** Dead letters and late ticks by source partition/offset: a step redelivering them after a crash counts once. */
  readonly rejected = new Set<string>();
  readonly late = new Set<string>();
  private readonly eof: EofTracker;
  private readonly next = new Map<string, number>();

  constructor(
    private readonly topics: ReplayNames["topics"],
    outputPartitions: number,
  ) {
    this.eof = new EofTracker(outputPartitions);
  }

  /** Take one batch (messages in offset order of one partition). */
  add(b: InBatch): void {
    const from = this.delivered(b.topic, b.partition);
    for (const m of b.messages) {
      if (Number(m.offset) < from) continue;
      if (b.topic === this.topics.output) {
        if (this.eof.add(b.partition, m.headers) || isEof(m.headers) || !m.value) continue;
        this.windows.push(JSON.parse(m.value.toString()) as WindowRecord);
      } else if (b.topic === this.topics.dlq || b.topic === this.topics.late) {
        const id = `${headerText(m.headers, SOURCE_PARTITION_HEADER)}/${headerText(m.headers, SOURCE_OFFSET_HEADER)}`;
        (b.topic === this.topics.dlq ? this.rejected : this.late).add(id);
      }
    }
    const last = b.messages.at(-1);
    if (last) this.reached(b.topic, b.partition, Number(last.offset));
  }

  /** The reader got past `lastOffset` (also for batches of transaction markers only, which `add` never sees). */
  reached(topic: string, partition: number, lastOffset: number): void {
    const k = `${topic}/${partition}`;
    this.next.set(k, Math.max(this.next.get(k) ?? 0, lastOffset + 1));
  }

  /** The next offset not yet read of a partition. */
  delivered(topic: string, partition: number): number {
    return this.next.get(`${topic}/${partition}`) ?? 0;
  }

  /** Every output partition carried every input partition's end-of-input marker. */
  get complete(): boolean {
    return this.eof.complete;
  }
}

export interface Collector {
  readonly tally: OutputTally;
  /** Resolves once the output is complete; rejects when the reader stopped for good. */
  readonly completed: Promise<void>;
  /** When the reader last got a batch (ms): the stall watchdog's measure of progress. */
  readonly lastReadAt: number;
  /** Wait until the reader has read `topics` up to the ends they have now. */
  drain(topics: readonly string[], quietMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Read the output, dead-letter and late topics from the start, in a group of the collector's own. Start it before
 * anything is produced. `client` carries the retry budget that rides out a broker outage.
 */
export async function startCollector(
  target: KafkaTarget,
  names: ReplayNames,
  outputPartitions: number,
  o: { client: ClientOptions; onRead?(tally: OutputTally): void },
): Promise<Collector> {
  const tally = new OutputTally(names.topics, outputPartitions);
  let lastReadAt = Date.now();
  let done: () => void = () => undefined;
  let fail: (e: Error) => void = () => undefined;
  const crashed = new Promise<never>((_, reject) => {
    fail = reject;
  });
  const completed = Promise.race([
    new Promise<void>((resolve) => {
      done = resolve;
    }),
    crashed,
  ]);
  // Callers may only await them later: never an unhandled rejection.
  crashed.catch(() => undefined);
  completed.catch(() => undefined);
  const reader = await readTopics(target, {
    ...o.client,
    groupId: names.readerGroup,
    topics: [names.topics.output, names.topics.dlq, names.topics.late],
    sessionTimeoutMs: 10_000,
    // A consumer that crashes on a retriable error restarts and rejoins; these retries only keep it from
    // crashing through a short outage at all. Beyond them, the replay's stall watchdog decides.
    retries: 30,
    onBatch: (b) => {
      tally.add(b);
      lastReadAt = Date.now();
      if (tally.complete) done();
      o.onRead?.(tally);
    },
    onProgress: (topic, partition, lastOffset) => {
      tally.reached(topic, partition, lastOffset);
      lastReadAt = Date.now();
    },
    onCrash: (e) =>
      fail(new ServiceError(`the replay's reader stopped: ${e.message}`, { cause: e, retriable: true, remedy: "check the broker ('quixlab services status') and replay again" })),
  });
  return {
    tally,
    completed,
    get lastReadAt() {
      return lastReadAt;
    },
    async drain(topics, quietMs = 30_000) {
      const admin = await openAdmin(target, o.client);
      const want: [string, number, number][] = [];
      try {
        for (const topic of topics) {
          for (const p of await admin.topicOffsets(topic)) if (p.high > 0) want.push([topic, p.partition, p.high]);
        }
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
      const started = Date.now();
      while (want.some(([t, p, high]) => tally.delivered(t, p) < high)) {
        if (Date.now() - Math.max(started, lastReadAt) > quietMs) {
          throw new ServiceError("timed out reading the dead-letter and late topics", { retriable: true });
        }
        await Promise.race([new Promise((r) => setTimeout(r, 50)), crashed]);
      }
    },
    stop: () => reader.stop(),
  };
}
