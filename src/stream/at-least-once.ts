import type { GroupBatch } from "../kafka/index.js";
import { openProducer, type Producer } from "../kafka/index.js";
import { type CheckpointParts, type CheckpointWriter, EarlierCheckpointFailed, mergePending, type OnCheckpointFailed } from "./checkpoint.js";
import { CoalescingSender } from "./coalesce.js";
import type { Pending } from "./partition.js";
import { message, type PartState } from "./state.js";

/** How long a checkpoint with nothing to publish (only the position and the engine's state) may wait for the next. */
const QUIET_HOLD_MS = 200;

/**
 * At-least-once checkpoints: Redis, then the outputs, then (once they are acknowledged) the changelog record, then
 * the offset commit, with idempotent producers (acks=all). The changelog record goes through a producer of its own,
 * alone: in one request with the outputs, a partition that failed (or, with several brokers, a request still being
 * retried) could leave the checkpoint written and an output not, and a restore would skip it. Each checkpoint is
 * written in the background while the next messages are processed, one in flight per partition, in order.
 *
 * Latency (#18): checkpoints taken while one is in flight wait as one (`mergePending`), so a window closed behind
 * a slow write waits for that one write, not for a queue of them; the partitions' sends to each producer share a
 * request (`CoalescingSender`); and the offset commit follows the changelog record without holding up the next
 * checkpoint (it only tells lag tools how far the step got: a restore reads the changelog). A checkpoint with
 * nothing to publish waits up to QUIET_HOLD_MS for the next one, which it joins: a window's checkpoint then rarely
 * finds one of those in flight ahead of it (a step that crashes redoes at most that much more input).
 */
export class AtLeastOnceWriter implements CheckpointWriter {
  private producer?: Producer;
  private changelogProducer?: Producer;
  private outputs?: CoalescingSender;
  private changelog?: CoalescingSender;
  /** Per partition: the checkpoint waiting for the one in flight, which the next ones join. */
  private readonly open = new WeakMap<PartState, { pend: Pending; batch: GroupBatch; prior: Promise<void>; go: () => void }>();
  /** Per partition: the offset commits (one at a time, the newest position waiting). */
  private readonly commits = new WeakMap<PartState, { next?: { position: number; batch: GroupBatch }; busy: boolean; done: Promise<void> }>();

  constructor(
    private readonly parts: CheckpointParts,
    private readonly failed: OnCheckpointFailed,
  ) {}

  async start(): Promise<void> {
    const { o } = this.parts.ctx;
    const opts = { clientId: o.clientId, log: kafkaLog(o.log) };
    [this.producer, this.changelogProducer] = await Promise.all([openProducer(o.kafka, opts), openProducer(o.kafka, opts)]);
    this.outputs = new CoalescingSender(this.producer);
    this.changelog = new CoalescingSender(this.changelogProducer);
  }

  async claim(): Promise<void> {}

  release(): void {}

  async write(st: PartState, p: number, pend: Pending, batch: GroupBatch): Promise<void> {
    const { o } = this.parts.ctx;
    const quiet = pend.messages.length === 0;
    const waiting = this.open.get(st);
    if (waiting) {
      // Joins the checkpoint not yet under way, up to a checkpoint's size; beyond it, waits until that one starts.
      if (waiting.pend.counts.consumed + pend.counts.consumed <= o.checkpointEvery) {
        waiting.pend = mergePending(waiting.pend, pend);
        // An idle close's checkpoint consumed nothing and carries a stand-in batch (no commit, no heartbeat): the
        // fetched batch it joins stays the one that commits and heartbeats.
        if (pend.counts.consumed > 0) waiting.batch = batch;
        st.taken = pend.position;
        if (!quiet) waiting.go();
        return;
      }
      waiting.go();
      await waiting.prior;
    }
    const prior = st.writing;
    let go!: () => void;
    const gate = new Promise<void>((resolve) => (go = resolve));
    const entry = { pend, batch, prior, go };
    this.open.set(st, entry);
    st.taken = pend.position;
    if (quiet) {
      // Nothing to publish: it may wait for the next checkpoint (or QUIET_HOLD_MS), so that one rarely queues behind it.
      const timer = setTimeout(go, QUIET_HOLD_MS);
      void gate.then(() => clearTimeout(timer));
    } else go();
    const write = prior.then(
      async () => {
        await gate;
        if (this.open.get(st) === entry) this.open.delete(st);
        return this.land(st, p, entry.pend, entry.batch).catch((e) => {
          this.failed(st, p, e);
          throw new EarlierCheckpointFailed(`partition ${p}: the previous checkpoint failed: ${message(e)}`, { cause: e });
        });
      },
      (e) => {
        go();
        if (this.open.get(st) === entry) this.open.delete(st);
        throw e;
      },
    );
    this.parts.ctx.track(write);
    st.writing = write;
  }

  private async land(st: PartState, p: number, pend: Pending, batch: GroupBatch): Promise<void> {
    await this.parts.store(pend, batch);
    await this.outputs!.send(pend.messages);
    await this.changelog!.send([this.parts.record(p, pend)]);
    // The outputs are readable from here on: count them before the commit so the metrics do not trail them.
    this.parts.account(p, pend);
    st.committed = pend.position;
    this.commit(st, p, pend.position, batch, pend.counts.consumed > 0);
  }

  /**
   * The changelog is the truth on restore; the group's offset only says how far the step got, for lag tools. One
   * commit at a time per partition, the newest position next. A commit refused in a rebalance is followed by a
   * later one (or by the new owner's).
   */
  private commit(st: PartState, p: number, position: number, batch: GroupBatch, fetched: boolean): void {
    const { ctx } = this.parts;
    const c = this.commits.get(st) ?? { busy: false, done: Promise.resolve() };
    this.commits.set(st, c);
    // An idle close's stand-in (nothing consumed, the same position) must not replace a fetched batch's commit.
    if (fetched || !c.next || position > c.next.position) c.next = { position, batch };
    if (c.busy) return;
    c.busy = true;
    c.done = (async () => {
      for (let n = c.next; n; n = c.next) {
        c.next = undefined;
        const at = n.position;
        await n.batch.commit(at).catch((e) => {
          if (!ctx.stopped.aborted) ctx.log(`partition ${p}: offset commit at ${at} refused (${message(e)}); the changelog has the checkpoint`);
        });
      }
      c.busy = false;
    })();
    ctx.track(c.done);
  }

  async settled(st: PartState): Promise<void> {
    this.open.get(st)?.go();
    await st.writing.catch(() => undefined);
    await this.commits.get(st)?.done;
  }

  async close(): Promise<void> {
    await Promise.all([this.producer?.disconnect(), this.changelogProducer?.disconnect()].map((d) => d?.catch(() => undefined)));
  }
}

/**
 * kafkajs also logs each failed protocol response (rebalancing heartbeats, a transaction still being aborted); the
 * operation around it retries and reports real failures itself, so those lines are noise in a step's log.
 */
export function kafkaLog(log: (line: string) => void): (line: string) => void {
  return (line) => {
    if (!/^kafkajs error: Response \w+\(key: \d+, version: \d+\) \(Connection\)$/.test(line)) log(line);
  };
}
