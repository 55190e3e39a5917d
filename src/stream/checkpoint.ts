import type { GroupBatch, OutMessage } from "../kafka/index.js";
import { checkpointMessage } from "./changelog.js";
import type { OnlineSink } from "./online-sink.js";
import type { Pending } from "./partition.js";
import type { PartState, StepContext } from "./state.js";

/**
 * Writing a checkpoint: the windows to the online store, then the outputs, the changelog record and the consumed
 * offset to Kafka, in the order the processing guarantee needs (README.md, "Guarantees and checkpoints").
 *
 * Life cycle: `start` connects; `claim` takes partitions over before their changelog is read; `write` for each
 * checkpoint of a partition, in order; `release` when a partition is revoked or reset; `close` at the end.
 */
export interface CheckpointWriter {
  start(): Promise<void>;
  /** Take partitions over before their changelog is read (exactly-once: fences and aborts older owners). */
  claim(partitions: readonly number[]): Promise<void>;
  /** Partitions no longer held, or reset after a failed checkpoint: forget what is kept for them. */
  release(partitions: readonly number[]): void;
  /**
   * Write a checkpoint of `st`'s partition. Resolves once the next one may be handed over: at-least-once as soon as
   * this one is under way (it lands in the background, after the one before), exactly-once once its transaction
   * has committed. Rejects with EarlierCheckpointFailed when the one before it failed (the partition was reset).
   */
  write(st: PartState, partition: number, pend: Pending, batch: GroupBatch): Promise<void>;
  /** Resolves once every checkpoint of `st` handed over has landed or failed. */
  settled(st: PartState): Promise<void>;
  close(): Promise<void>;
}

/** The partition's previous checkpoint failed: the batch in hand must be dropped, the state was reset already. */
export class EarlierCheckpointFailed extends Error {}

/** Called when a checkpoint written in the background failed: reset the partition and fetch again. */
export type OnCheckpointFailed = (st: PartState, partition: number, e: unknown) => void;

/** What both writers do the same way: the changelog record, the online store, and counting what landed. */
export class CheckpointParts {
  private lastDropLog = 0;

  constructor(
    readonly ctx: StepContext,
    readonly sink: OnlineSink | undefined,
    readonly latency: { add(ms: number): void },
  ) {}

  /** The changelog record of a checkpoint: the engine snapshot and the position it belongs to. */
  record(p: number, pend: Pending): OutMessage {
    const { o, layout } = this.ctx;
    return checkpointMessage(o.changelog, layout.changelogPartitions, {
      format: 1,
      feature: o.feature.name,
      version: o.feature.version,
      topic: o.topics.input,
      partition: p,
      offset: pend.position,
      engine: pend.snapshot,
      at: Date.now(),
    });
  }

  /** Store the checkpoint's windows (retrying while Redis is down, heartbeating meanwhile). */
  async store(pend: Pending, batch: GroupBatch): Promise<void> {
    if (this.sink) await this.sink.flush(pend.windows, () => batch.heartbeat(), pend.updates, pend.watermarks);
  }

  /** A checkpoint's outputs are acknowledged (readable): its windows' latency ends here. */
  delivered(pend: Pending): void {
    const now = Date.now();
    for (const t of pend.triggers) this.latency.add(Math.max(0, now - t));
  }

  /** Count a checkpoint whose outputs are readable and whose changelog record has landed. */
  account(p: number, pend: Pending): void {
    const { m, o, layout } = this.ctx;
    const c = pend.counts;
    m.consumed += c.consumed;
    m.emitted += c.emitted;
    m.rejected += c.rejected;
    m.late += c.late;
    if (c.updates) m.updates = (m.updates ?? 0) + c.updates;
    for (const w of pend.windows) if (w.end > (m.lastWindowEnd ?? Number.NEGATIVE_INFINITY)) m.lastWindowEnd = w.end;
    m.checkpoints++;
    const now = Date.now();
    if (c.eof > 0) {
      if (!m.eofPartitions.includes(p)) m.eofPartitions = [...m.eofPartitions, p].sort((a, b) => a - b);
      o.log(`partition ${p}: end of input at offset ${pend.position - 1}; open windows flushed, ${layout.outputPartitions} output partitions marked`);
    }
    // Bad data can be constant; say so at most every 10 s, the totals are in the metrics.
    if ((c.rejected || c.late) && now - this.lastDropLog >= 10_000) {
      this.lastDropLog = now;
      o.log(`so far ${m.rejected} rejected -> ${o.topics.dlq}, ${m.late} late -> ${o.topics.late}`);
    }
  }
}

/** True when the checkpoint holds nothing new since the one before. */
export function isEmptyCheckpoint(st: PartState, pend: Pending): boolean {
  return pend.position === st.taken && pend.messages.length === 0 && pend.counts.consumed === 0;
}

/**
 * Two consecutive checkpoints of a partition as one: everything `a` and `b` produce, in order, with `b`'s state
 * and position. Per key, `b`'s watermark and early result win (they are the newer).
 */
export function mergePending(a: Pending, b: Pending): Pending {
  const byKey = <T>(xs: readonly T[], ys: readonly T[], key: (x: T) => string): T[] => {
    if (xs.length === 0) return [...ys];
    const m = new Map<string, T>();
    for (const x of xs) m.set(key(x), x);
    for (const y of ys) m.set(key(y), y);
    return [...m.values()];
  };
  const c = a.counts;
  const d = b.counts;
  return {
    position: b.position,
    messages: a.messages.concat(b.messages),
    windows: a.windows.concat(b.windows),
    updates: byKey(a.updates, b.updates, (r) => r.key),
    triggers: a.triggers.concat(b.triggers),
    watermarks: byKey(a.watermarks, b.watermarks, ([k]) => k),
    snapshot: b.snapshot,
    counts: { consumed: c.consumed + d.consumed, emitted: c.emitted + d.emitted, rejected: c.rejected + d.rejected, late: c.late + d.late, eof: c.eof + d.eof, updates: c.updates + d.updates },
  };
}
