import { ServiceError } from "../errors/index.js";
import { type GroupBatch, openTransactionalProducer, type TransactionalProducer } from "../kafka/index.js";
import { kafkaLog } from "./at-least-once.js";
import type { CheckpointParts, CheckpointWriter } from "./checkpoint.js";
import type { Pending } from "./partition.js";
import type { PartState } from "./state.js";

/**
 * Exactly-once checkpoints: one Kafka transaction per checkpoint with the outputs, the changelog record and the
 * offset, after the windows are stored. One transactional producer per input partition (`transactionalId =
 * <group>.<feature>.<input>.<partition>`): whoever takes a partition over initialises that id first (`claim`), which
 * fences the previous owner and aborts its open transaction, then reads the changelog.
 */
export class ExactlyOnceWriter implements CheckpointWriter {
  private readonly producers = new Map<number, Promise<TransactionalProducer>>();

  constructor(private readonly parts: CheckpointParts) {}

  async start(): Promise<void> {}

  /** A new producer per claim: if another owner had the partition meanwhile, the old one is fenced anyway. */
  async claim(partitions: readonly number[]): Promise<void> {
    this.release(partitions);
    await Promise.all(partitions.map((p) => this.producerFor(p)));
  }

  release(partitions: readonly number[]): void {
    for (const p of partitions) {
      const pr = this.producers.get(p);
      this.producers.delete(p);
      void pr?.then((x) => x.disconnect()).catch(() => undefined);
    }
  }

  async write(st: PartState, p: number, pend: Pending, batch: GroupBatch): Promise<void> {
    const { ctx } = this.parts;
    await this.parts.store(pend, batch);
    // The producer the claim made (and fenced older owners with). Never a new one here: a checkpoint that outlived
    // its partition (revoked meanwhile) would fence the new owner.
    const pr = ctx.parts.get(p) === st ? this.producers.get(p) : undefined;
    if (!pr) throw new ServiceError(`partition ${p} was reassigned before its checkpoint was written; the new owner redoes it`, { retriable: true });
    const producer = await pr;
    await producer.commit([...pend.messages, this.parts.record(p, pend)], { group: ctx.o.group, topic: ctx.o.topics.input, partition: p, offset: pend.position });
    this.parts.delivered(pend);
    this.parts.account(p, pend);
    st.taken = st.committed = pend.position;
  }

  settled(st: PartState): Promise<void> {
    return st.writing;
  }

  async close(): Promise<void> {
    const all = [...this.producers.values()];
    this.producers.clear();
    await Promise.all(all.map(async (pr) => (await pr).disconnect()).map((x) => x.catch(() => undefined)));
  }

  /** The transactional producer of an input partition; creating it fences (and aborts) any older one. */
  private producerFor(p: number): Promise<TransactionalProducer> {
    let pr = this.producers.get(p);
    if (!pr) {
      const { o } = this.parts.ctx;
      pr = openTransactionalProducer(o.kafka, `${o.group}.${o.feature.name}.${o.topics.input}.${p}`, { clientId: o.clientId, log: kafkaLog(o.log) });
      pr.catch(() => this.producers.delete(p));
      this.producers.set(p, pr);
    }
    return pr;
  }
}
