import type { GroupBatch, GroupRunner } from "../kafka/index.js";
import type { StepMetrics } from "./metrics.js";
import type { ResolvedOptions } from "./options.js";
import type { Pending } from "./partition.js";

/**
 * One partition's processing as the batch loop sees it, in the step's thread or in the worker: the loop hands it
 * each batch and writes the checkpoints it returns. The same PartitionProcessor and `runBatch` run either way.
 */
export interface BatchProcessor {
  readonly partition: number;
  /**
   * True when a batch is processed elsewhere (the worker) while the next is fetched: the loop lets two batches of
   * the partition be ahead of their writes. False (in the step's thread, where a batch is processed before
   * `process` returns): the loop returns once the batch's checkpoints are under way, so fetching does not outrun
   * the writes (many small batches, each queueing a checkpoint, add latency and gain nothing).
   */
  readonly pipelined: boolean;
  /** Offset of the next message it expects; moves to a batch's end as soon as the batch is handed over. */
  position: number;
  openWindows(): number;
  /** Process a batch; its checkpoints, in order (the last at the batch's end). */
  process(batch: GroupBatch): Promise<Pending[]>;
  /** Live input: close quiet keys' windows on the wall clock (`now`); the checkpoint holding what closed. */
  closeIdle(now: number): Promise<Pending | undefined>;
}

/** One assigned input partition, as the step's parts see it. Replaced as a whole when the partition is reset. */
export interface PartState {
  /** Undefined until the first batch when the changelog had no checkpoint: the fetch position is the start. */
  proc?: BatchProcessor;
  /** The position came from the changelog and was not yet matched against a fetch. */
  restored: boolean;
  seeks: number;
  /** Position of the newest checkpoint Kafka acknowledged: where a restart resumes. */
  committed: number;
  /** Position of the newest checkpoint taken (acknowledged or not). */
  taken: number;
  /** At-least-once: the checkpoint being written while the next messages are processed (one per partition). */
  writing: Promise<void>;
  /** The newest batch handed to the processor, until its checkpoints are written (never rejects)... */
  chain: Promise<void>;
  /** ... and the one before it: a partition has at most two batches in its processor. */
  chainBefore: Promise<void>;
  highWatermark?: number;
}

export function newPartState(): PartState {
  const done = Promise.resolve();
  return { restored: true, seeks: 0, committed: -1, taken: -1, writing: done, chain: done, chainBefore: done };
}

/** Partition counts found when the topics were checked. */
export interface Layout {
  inputPartitions: number;
  outputPartitions: number;
  changelogPartitions: number;
}

/** What the step's parts share: settings, metrics, the partitions held, and the work in flight. */
export class StepContext {
  readonly parts = new Map<number, PartState>();
  /** Partitions paused because a newer owner fenced this replica (exactly-once), until the next assignment. */
  readonly fenced = new Set<number>();
  assigned: number[] = [];
  joins = 0;
  layout: Layout = { inputPartitions: 1, outputPartitions: 1, changelogPartitions: 1 };
  runner?: GroupRunner;
  private readonly stopAc = new AbortController();
  /** Checkpoints and batches in flight; stop and restore wait for them. */
  private readonly inflight = new Set<Promise<void>>();

  constructor(
    readonly o: ResolvedOptions,
    readonly m: StepMetrics,
  ) {}

  get log() {
    return this.o.log;
  }

  /** Aborted once the step stops or fails. */
  get stopped(): AbortSignal {
    return this.stopAc.signal;
  }

  stop(): void {
    this.stopAc.abort();
  }

  /** Keep a background promise until it settles (drain waits for it). */
  track(p: Promise<void>): void {
    const tracked = p.catch(() => undefined).finally(() => this.inflight.delete(tracked));
    this.inflight.add(tracked);
  }

  /** Wait until every background write has settled (those started meanwhile too). */
  async drain(): Promise<void> {
    while (this.inflight.size) await Promise.all([...this.inflight]);
  }

  /** Fetch the partition from `offset` next (nothing when the position is unknown or the consumer is gone). */
  rewind(p: number, offset: number): void {
    if (offset < 0 || !this.runner) return;
    try {
      this.runner.seek(p, offset);
    } catch (e) {
      this.log(`partition ${p}: cannot rewind to ${offset} (${message(e)}); the next assignment starts from the group's offset`);
    }
  }
}

export const message = (e: unknown) => (e instanceof Error ? e.message : String(e));
