import { readCheckpoints } from "./changelog.js";
import type { CheckpointWriter } from "./checkpoint.js";
import type { Processors } from "./processors.js";
import { message, newPartState, type StepContext } from "./state.js";

/**
 * Assignments and restores: on each join the step forgets revoked partitions and restores the new ones from the
 * changelog, all at once, before their first batch (which waits for it). The writer claims a partition before its
 * changelog is read (exactly-once: fencing older owners), and our own checkpoints in flight land first, so the read
 * sees them.
 */
export class Restorer {
  /** The restore the latest join started; batches wait for it. Never rejects. */
  restoring: Promise<void> = Promise.resolve();
  /** Restores under way, by partition, with the join they belong to. */
  private readonly restores = new Map<number, { work: Promise<void>; join: number }>();

  constructor(
    private readonly ctx: StepContext,
    private readonly writer: CheckpointWriter,
    private readonly processors: Processors,
    /** Called each time every assigned partition has a state (the step resolves `ready` the first time). */
    private readonly onRestored: () => void,
  ) {}

  /** The group gave this replica `assigned` (a join). */
  assign(assigned: readonly number[]): void {
    const { ctx } = this;
    ctx.joins++;
    ctx.m.rebalances = ctx.joins - 1;
    const mine = new Set(assigned);
    const revoked = [...new Set([...ctx.parts.keys(), ...ctx.assigned])].filter((p) => !mine.has(p));
    for (const p of revoked) {
      // A checkpoint held back (nothing to publish, waiting to join the next) goes now: the partition's new owner
      // must not find it written after its own.
      const st = ctx.parts.get(p);
      if (st) void this.writer.settled(st).catch(() => undefined);
      ctx.parts.delete(p);
    }
    this.writer.release(revoked);
    for (const p of ctx.assigned) if (!mine.has(p)) this.processors.close(p);
    if (ctx.fenced.size) {
      const paused = [...ctx.fenced].filter((p) => mine.has(p));
      if (paused.length) ctx.runner?.resume(paused);
      ctx.fenced.clear();
    }
    ctx.assigned = [...assigned].sort((a, b) => a - b);
    ctx.log(`assigned partitions [${ctx.assigned.join(", ")}] of ${ctx.o.topics.input}`);
    const fresh = ctx.assigned.filter((p) => !ctx.parts.has(p));
    this.checkRestored();
    // A failure is retried lazily by the first batch.
    this.restoring = ctx
      .drain()
      .then(() => this.restore(fresh))
      .catch((e) => {
        ctx.m.lastError = `restore: ${message(e)}`;
        ctx.log(`restoring partitions [${fresh.join(", ")}] failed: ${message(e)}; retrying on the next batch`);
      });
  }

  /**
   * Restore partitions from the changelog, each once: a partition already restored (or being restored by another
   * call) keeps that state unless `replace` (its fetch position showed the state is stale). Without this, a second
   * join soon after the first restored again while the first batches were being processed, and a read that came
   * before their checkpoints landed replaced the state with an empty one.
   */
  async restore(ps: readonly number[], replace = false): Promise<void> {
    const others: Promise<void>[] = [];
    const mine: number[] = [];
    for (const p of ps) {
      // One started before the latest join read a changelog another owner may have written to since.
      const running = this.restores.get(p);
      if (running && running.join === this.ctx.joins) others.push(running.work);
      else if (replace || running || !this.ctx.parts.has(p)) mine.push(p);
    }
    const join = this.ctx.joins;
    const work = this.restoreNow(mine, join);
    for (const p of mine) this.restores.set(p, { work, join });
    try {
      await Promise.all([work, ...others]);
    } finally {
      for (const p of mine) if (this.restores.get(p)?.work === work) this.restores.delete(p);
    }
  }

  /** Claim the partitions, then load their newest checkpoints; installs nothing when a join came in between. */
  private async restoreNow(ps: number[], join: number): Promise<void> {
    if (ps.length === 0) return;
    const { ctx } = this;
    const { o } = ctx;
    await ctx.drain();
    await this.writer.claim(ps);
    const found = await readCheckpoints({
      connection: o.kafka,
      clientId: o.clientId,
      changelog: o.changelog,
      topic: o.topics.input,
      version: o.feature.version,
      partitions: ps,
      changelogPartitions: ctx.layout.changelogPartitions,
    });
    for (const p of ps) {
      const r = found.get(p);
      const st = newPartState();
      if (r?.otherVersions.length) {
        ctx.log(`partition ${p}: ignoring checkpoints of other feature versions (${r.otherVersions.join(", ")}); this is ${o.feature.version}`);
      }
      if (r?.checkpoint) {
        try {
          st.proc = await this.processors.open(p, r.checkpoint.offset, r.checkpoint.engine);
          st.committed = st.taken = r.checkpoint.offset;
          ctx.log(`partition ${p}: restored checkpoint at offset ${r.checkpoint.offset} (${st.proc.openWindows()} open windows)`);
        } catch (e) {
          ctx.log(`partition ${p}: checkpoint unusable (${message(e)}); starting from an empty state`);
        }
      } else {
        ctx.log(`partition ${p}: no checkpoint; starting from an empty state`);
      }
      if (join !== ctx.joins || !ctx.assigned.includes(p)) {
        ctx.log(`partition ${p}: reassigned while it was being restored; the latest assignment restores it`);
        // Claimed after the join that revoked it released it: release it now.
        if (!ctx.assigned.includes(p)) this.writer.release([p]);
        continue;
      }
      ctx.parts.set(p, st);
      ctx.m.restores++;
    }
    this.checkRestored();
  }

  private checkRestored(): void {
    const { ctx } = this;
    if (ctx.joins > 0 && ctx.assigned.every((p) => ctx.parts.has(p))) this.onRestored();
  }
}
