import { openProducer, type Producer } from "../kafka/index.js";
import type { GroupBatch } from "../kafka/index.js";
import { type CheckpointParts, type CheckpointWriter, EarlierCheckpointFailed, type OnCheckpointFailed } from "./checkpoint.js";
import type { Pending } from "./partition.js";
import { message, type PartState } from "./state.js";

/**
 * At-least-once checkpoints: Redis, then the outputs, then (once they are acknowledged) the changelog record, then
 * the offset commit, with idempotent producers (acks=all). The changelog record goes through a producer of its own,
 * alone: in one request with the outputs, a partition that failed (or, with several brokers, a request still being
 * retried) could leave the checkpoint written and an output not, and a restore would skip it. Each checkpoint is
 * written in the background while the next messages are processed, one in flight per partition, in order.
 */
export class AtLeastOnceWriter implements CheckpointWriter {
  private producer?: Producer;
  private changelogProducer?: Producer;

  constructor(
    private readonly parts: CheckpointParts,
    private readonly failed: OnCheckpointFailed,
  ) {}

  async start(): Promise<void> {
    const { o } = this.parts.ctx;
    const opts = { clientId: o.clientId, log: kafkaLog(o.log) };
    [this.producer, this.changelogProducer] = await Promise.all([openProducer(o.kafka, opts), openProducer(o.kafka, opts)]);
  }

  async claim(): Promise<void> {}

  release(): void {}

  async write(st: PartState, p: number, pend: Pending, batch: GroupBatch): Promise<void> {
    await st.writing;
    st.taken = pend.position;
    const write = this.land(st, p, pend, batch).catch((e) => {
      this.failed(st, p, e);
      throw new EarlierCheckpointFailed(`partition ${p}: the previous checkpoint failed: ${message(e)}`, { cause: e });
    });
    this.parts.ctx.track(write);
    st.writing = write;
  }

  private async land(st: PartState, p: number, pend: Pending, batch: GroupBatch): Promise<void> {
    const { ctx } = this.parts;
    await this.parts.store(pend, batch);
    await this.producer!.send(pend.messages);
    await this.changelogProducer!.send([this.parts.record(p, pend)]);
    // The outputs are readable from here on: count them before the commit so the metrics do not trail them.
    this.parts.account(p, pend);
    st.committed = pend.position;
    // The changelog is the truth on restore; the group's offset only says how far the step got, for lag tools.
    // A commit refused in a rebalance is followed by a later one (or by the new owner's).
    await batch.commit(pend.position).catch((e) => {
      if (!ctx.stopped.aborted) ctx.log(`partition ${p}: offset commit at ${pend.position} refused (${message(e)}); the changelog has the checkpoint`);
    });
  }

  settled(st: PartState): Promise<void> {
    return st.writing.catch(() => undefined);
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
