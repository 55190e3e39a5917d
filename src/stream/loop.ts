import { type GroupBatch, isFenced } from "../kafka/index.js";
import { type CheckpointWriter, EarlierCheckpointFailed, isEmptyCheckpoint } from "./checkpoint.js";
import type { Processors } from "./processors.js";
import { decide, type PartitionView } from "./recovery.js";
import type { Restorer } from "./restore.js";
import { type BatchProcessor, message, type PartState, type StepContext } from "./state.js";

/**
 * The batch loop, one for both processing paths: for each fetched batch, decide what the partition needs
 * (recovery.ts), hand the batch to its processor and return, so the consumer fetches the next batch while this
 * one is processed (in the worker) and its checkpoints are written. A batch's checkpoints are written after the
 * previous batch's (`chain`); with the worker, the batch after next waits until this one's are under way
 * (`chainBefore`): two batches per partition absorb the jitter of either side without letting the queue grow. In
 * the step's thread the batch returns once its own are under way. Either way a checkpoint that waits (Redis down)
 * holds the partition's fetching back.
 */
export class BatchLoop {
  constructor(
    private readonly ctx: StepContext,
    private readonly restorer: Restorer,
    private readonly processors: Processors,
    private readonly writer: CheckpointWriter,
  ) {}

  /** Per partition: batches fetched and not yet processed (restoring or preparing counts): idle closing waits. */
  private readonly busy = new Map<number, number>();

  async onBatch(b: GroupBatch): Promise<void> {
    const p = b.partition;
    this.busy.set(p, (this.busy.get(p) ?? 0) + 1);
    let handed = false;
    const done = () => this.busy.set(p, this.busy.get(p)! - 1);
    try {
      handed = await this.take(b, done);
    } finally {
      if (!handed) done();
    }
  }

  /** onBatch's work; true once the batch is handed over (then `done` runs when its processing ends). */
  private async take(b: GroupBatch, done: () => void): Promise<boolean> {
    const { ctx } = this;
    const p = b.partition;
    await this.restorer.restoring;
    // The batch before the previous one first (a failure has reset the partition and rewound the fetch).
    const prev = ctx.parts.get(p);
    if (prev) {
      await prev.chainBefore;
      if (ctx.parts.get(p) !== prev) return false;
    }
    if (ctx.fenced.has(p)) return false;
    const st = await this.prepare(p, b.fetchedOffset);
    if (!st?.proc || ctx.stopped.aborted || !b.isRunning() || b.isStale()) return false;
    await this.handOver(st, st.proc, b, done);
    return true;
  }

  /** Bring the partition's state to the fetch position; undefined when the batch is to be skipped. */
  private async prepare(p: number, fetched: number): Promise<PartState | undefined> {
    const { ctx } = this;
    let st = ctx.parts.get(p);
    let d = decide(view(st), fetched);
    if (d.kind === "restore") {
      if (st?.proc) ctx.log(`partition ${p}: fetch at ${fetched} but state at ${st.proc.position}: another replica moved it; restoring`);
      await this.restorer.restore([p], d.replace);
      st = ctx.parts.get(p);
      // Reassigned meanwhile: the latest assignment's restore takes it from here.
      if (!st) return undefined;
      d = decide(view(st), fetched);
    }
    if (!st || d.kind === "restore") return undefined;
    if (d.kind === "seek") {
      st.seeks++;
      ctx.log(`partition ${p}: seeking from ${fetched} to checkpoint offset ${d.to}`);
      ctx.runner?.seek(p, d.to);
      return undefined;
    }
    if (d.kind === "fresh") {
      if (d.why === "seek failed") ctx.log(`partition ${p}: cannot seek to checkpoint offset ${st.proc?.position} (fetch stays at ${fetched}); starting from an empty state there`);
      st.proc = await this.processors.open(p, fetched);
      st.committed = st.taken = fetched;
    }
    st.restored = false;
    st.seeks = 0;
    return st;
  }

  /** Hand the batch over and chain its checkpoints' writes after the previous batch's. */
  private async handOver(st: PartState, proc: BatchProcessor, b: GroupBatch, done: () => void): Promise<void> {
    const { ctx, writer } = this;
    const p = proc.partition;
    st.highWatermark = b.highWatermark;
    const result = proc.process(b);
    result.then(done, done);
    // Moves the fetch position only (auto-commit is off): the commit follows each checkpoint's write.
    b.resolveOffset(b.lastOffset);
    const chain = st.chain.then(async () => {
      for (const pend of await result) {
        // Reset meanwhile (a checkpoint failed): these come after the rewind point and are redone.
        if (ctx.parts.get(p) !== st) return;
        if (isEmptyCheckpoint(st, pend)) continue;
        await writer.write(st, p, pend, b);
      }
    });
    st.chainBefore = st.chain;
    st.chain = chain.catch((e) => {
      if (!(e instanceof EarlierCheckpointFailed)) this.failed(st, p, e);
    });
    ctx.track(st.chain);
    // Stopping or moving: what was handed over is written before the batch ends (and so before the group is left).
    if (ctx.stopped.aborted || !b.isRunning()) {
      await st.chain;
      await writer.settled(st);
    } else if (!proc.pipelined) await st.chain;
  }

  /**
   * Live input (`idle`): close the quiet keys' windows of every partition held, at wall time `now`. Only a
   * partition that is caught up counts as quiet: none of its batches is being fetched, restored or processed, and
   * its position has reached the log end its last fetch saw (else the "quiet" key's ticks may sit in Kafka, and
   * closing would make them late). Like a batch, the processor is asked at once (so the worker sees it after the
   * batches handed over before it) and the checkpoint is written after the partition's earlier ones; the position
   * does not move.
   */
  async closeIdle(now: number): Promise<void> {
    const { ctx, writer } = this;
    await this.restorer.restoring;
    for (const [p, st] of ctx.parts) {
      const proc = st.proc;
      if (!proc || ctx.fenced.has(p) || ctx.stopped.aborted) continue;
      // One offset of slack: a transactional input (an exactly-once step's output) ends with a commit marker.
      if ((this.busy.get(p) ?? 0) > 0 || st.highWatermark === undefined || proc.position < st.highWatermark - 1) continue;
      const result = proc.closeIdle(now);
      result.catch(() => undefined);
      const chain = st.chain.then(async () => {
        const pend = await result;
        if (!pend || ctx.parts.get(p) !== st || isEmptyCheckpoint(st, pend)) return;
        await writer.write(st, p, pend, idleBatch(ctx, p, pend.position, st.highWatermark));
      });
      st.chainBefore = st.chain;
      st.chain = chain.catch((e) => {
        if (!(e instanceof EarlierCheckpointFailed)) this.failed(st, p, e);
      });
      ctx.track(st.chain);
    }
  }

  /**
   * A checkpoint or a batch failed: drop the partition's state and fetch again from its last acknowledged
   * checkpoint (or pause it, when a newer owner fenced this one).
   */
  failed(st: PartState, p: number, e: unknown): void {
    const { ctx } = this;
    // A state replaced meanwhile (revoked, restored again) is not this one's to reset.
    if (ctx.parts.get(p) !== st) return;
    ctx.parts.delete(p);
    this.writer.release([p]);
    if (ctx.stopped.aborted) return;
    if (isFenced(e)) {
      ctx.fenced.add(p);
      ctx.runner?.pause([p]);
      ctx.log(`partition ${p}: fenced by a newer owner; pausing it until the next assignment`);
      return;
    }
    ctx.m.lastError = message(e);
    ctx.log(`partition ${p}: checkpoint failed (${message(e)}); processing again from offset ${st.committed}`);
    ctx.rewind(p, st.committed);
  }
}

/**
 * What a checkpoint writer needs of a batch, for a checkpoint no fetch made (idle closing): nothing was consumed,
 * so there is no offset to commit (the batch that got the partition there committed it, or its checkpoint will).
 */
function idleBatch(ctx: StepContext, partition: number, position: number, highWatermark = position): GroupBatch {
  return {
    topic: ctx.o.topics.input,
    partition,
    fetchedOffset: position,
    lastOffset: position - 1,
    highWatermark,
    messages: [],
    resolveOffset: () => undefined,
    commit: async () => undefined,
    heartbeat: async () => undefined,
    isRunning: () => !ctx.stopped.aborted,
    isStale: () => false,
    pause: () => undefined,
  };
}

function view(st: PartState | undefined): PartitionView | undefined {
  return st && { position: st.proc?.position, restored: st.restored, seeks: st.seeks };
}
