import type { GroupBatch } from "../kafka/index.js";
import { openProducer, type Producer } from "../kafka/index.js";
import { type CheckpointParts, type CheckpointWriter, EarlierCheckpointFailed, mergePending, type OnCheckpointFailed } from "./checkpoint.js";
import { deferred } from "../util/deferred.js";
import { CoalescingSender } from "./coalesce.js";
import type { Pending } from "./partition.js";
import { message, type PartState } from "./state.js";

/** How long a checkpoint with nothing to publish (only the position and the engine's state) may wait for the next. */
const QUIET_HOLD_MS = 200;
/** Checkpoints of a partition past their Redis write and not yet landed, at most (back-pressure on processing). */
const MAX_AHEAD = 2;

/**
 * At-least-once checkpoints: Redis, then the outputs, then (once they are acknowledged) the changelog record, then
 * the offset commit, with idempotent producers (acks=all). The changelog record goes through a producer of its own,
 * alone: in one request with the outputs, a partition that failed (or, with several brokers, a request still being
 * retried) could leave the checkpoint written and an output not, and a restore would skip it. Each checkpoint is
 * written in the background while the next messages are processed, in order.
 *
 * Latency (#18): the three writes are a pipeline per partition. Each stage keeps the checkpoints' order (a
 * checkpoint's Redis write after the one before's, its outputs after its own Redis write and the one before's
 * outputs, its changelog record after its own outputs and the one before's record), so a window no longer waits
 * for the whole of the previous checkpoint, only for the stage ahead of it; at most MAX_AHEAD checkpoints are past
 * their Redis write and not yet landed. A window's latency ends when Kafka acknowledges its output (readable from
 * then on). Checkpoints taken while one waits to start join it (`mergePending`); the partitions' sends to each
 * producer share a request (`CoalescingSender`); the offset commit follows the changelog record without holding up
 * the next checkpoint (it only tells lag tools how far the step got: a restore reads the changelog). A checkpoint
 * with nothing to publish waits up to QUIET_HOLD_MS for the next one, which it joins. A failed stage fails the
 * checkpoints after it (EarlierCheckpointFailed) and resets the partition: outputs already sent by later ones are
 * sent again after the restore (at least once).
 */
export class AtLeastOnceWriter implements CheckpointWriter {
  private producer?: Producer;
  private changelogProducer?: Producer;
  private outputs?: CoalescingSender;
  private changelog?: CoalescingSender;
  /** Per partition: the checkpoint waiting to start, which the next ones join. */
  private readonly open = new WeakMap<PartState, { pend: Pending; batch: GroupBatch; started: Promise<void>; go: () => void }>();
  /** Per partition: the last checkpoint's stages (its Redis write and its outputs) and the landings not yet done. */
  private readonly stages = new WeakMap<PartState, { stored: Promise<void>; sent: Promise<void>; landing: Promise<void>[] }>();
  /** Partition states a checkpoint failed for: their later stages do nothing (the partition was reset and rewound). */
  private readonly broken = new WeakSet<PartState>();
  /** Per partition: the offset commits (one at a time, the newest position waiting). */
  private readonly commits = new WeakMap<PartState, { next?: { position: number; batch: GroupBatch }; busy: boolean; done: Promise<void> }>();

  constructor(
    private readonly parts: CheckpointParts,
    private readonly failed: OnCheckpointFailed,
  ) {}

  async start(): Promise<void> {
    const { o } = this.parts.ctx;
    const opts = { clientId: o.clientId, log: kafkaLog(o.log) };
    const outputs = [o.topics.output, o.topics.dlq, o.topics.late, ...(o.topics.updates ? [o.topics.updates] : [])];
    const opening = [openProducer(o.kafka, { ...opts, warm: outputs }), openProducer(o.kafka, { ...opts, warm: [o.changelog] })] as const;
    try {
      [this.producer, this.changelogProducer] = await Promise.all(opening);
    } catch (e) {
      // One failed: the other is closed once it connects, so a start tried again (the broker restarting) leaves
      // none behind.
      for (const p of opening) void p.then((x) => x.disconnect()).catch(() => undefined);
      throw e;
    }
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
      await waiting.started.catch(() => undefined);
    }
    const done = Promise.resolve();
    const prev = this.stages.get(st) ?? { stored: done, sent: done, landing: [] };
    const prior = st.writing;
    const { promise: gate, resolve: go } = deferred();
    const { promise: started, resolve: begin } = deferred();
    const entry = { pend, batch, started, go };
    this.open.set(st, entry);
    st.taken = pend.position;
    if (quiet) {
      // Nothing to publish: it may wait for the next checkpoint (or QUIET_HOLD_MS), so that one rarely queues behind it.
      const timer = setTimeout(go, QUIET_HOLD_MS);
      void gate.then(() => clearTimeout(timer));
    } else go();
    // A failure of this checkpoint's own stage resets the partition once; the ones after it fail with the cause.
    let reported = false;
    const own = (e: unknown): never => {
      if (e instanceof EarlierCheckpointFailed) throw e;
      if (!reported) {
        reported = true;
        this.broken.add(st);
        this.failed(st, p, e);
      }
      throw new EarlierCheckpointFailed(`partition ${p}: the previous checkpoint failed: ${message(e)}`, { cause: e });
    };
    // A stage of a state reset meanwhile (an earlier checkpoint failed while this one waited) does nothing: the
    // restored state redoes it, and an old output sent after the new state's would break their order.
    const live = () => {
      if (this.broken.has(st)) throw new EarlierCheckpointFailed(`partition ${p}: an earlier checkpoint failed; this one is redone after the restore`);
    };
    const ahead = prev.landing.length >= MAX_AHEAD ? prev.landing[prev.landing.length - MAX_AHEAD]! : done;
    const stored = prev.stored
      .then(async () => {
        await gate;
        await ahead.catch(() => undefined);
      })
      .finally(() => {
        if (this.open.get(st) === entry) this.open.delete(st);
        begin();
      })
      .then(() => {
        live();
        return this.parts.store(entry.pend, entry.batch).catch(own);
      });
    const sent = Promise.all([stored, prev.sent]).then(async () => {
      live();
      await this.outputs!.send(entry.pend.messages).catch(own);
      this.parts.delivered(entry.pend);
    });
    const landed = Promise.all([sent, prior]).then(() => {
      live();
      return this.land(st, p, entry.pend, entry.batch).catch(own);
    });
    const landing = [...prev.landing, landed].slice(-MAX_AHEAD);
    this.stages.set(st, { stored, sent, landing });
    const forget = () => {
      const s = this.stages.get(st);
      if (s) s.landing = s.landing.filter((l) => l !== landed);
    };
    landed.then(forget, forget);
    // Every stage is waited for on stop and on a rebalance (a rejected `landed` does not wait for its own stages).
    for (const stage of [stored, sent, landed]) this.parts.ctx.track(stage);
    st.writing = landed;
  }

  private async land(st: PartState, p: number, pend: Pending, batch: GroupBatch): Promise<void> {
    await this.changelog!.send([this.parts.record(p, pend)]);
    // The checkpoint has landed (its outputs were acknowledged before): count it before the commit so the metrics
    // do not trail it.
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
    const s = this.stages.get(st);
    await Promise.all([st.writing, s?.stored, s?.sent].map((w) => w?.catch(() => undefined)));
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
