import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { GroupBatch, OutMessage } from "../../src/kafka/index.js";
import { AtLeastOnceWriter } from "../../src/stream/at-least-once.js";
import { type CheckpointParts, EarlierCheckpointFailed } from "../../src/stream/checkpoint.js";
import type { Pending } from "../../src/stream/partition.js";
import { newPartState, type PartState } from "../../src/stream/state.js";
import { deferred } from "../../src/util/deferred.js";

const tick = () => new Promise<void>((r) => setImmediate(r));

function pend(position: number, name: string, windows = 1): Pending {
  const messages: OutMessage[] = Array.from({ length: windows }, (_, i) => ({ topic: "out", key: name, value: `${name}${i}` }));
  return {
    position,
    messages,
    windows: [],
    updates: [],
    triggers: windows ? [Date.now()] : [],
    watermarks: [],
    snapshot: { name } as unknown as Pending["snapshot"],
    counts: { consumed: 10, emitted: windows, rejected: 0, late: 0, eof: 0, updates: 0 },
  };
}

/**
 * The writer with its three writes replaced by ones the test settles: every call is logged as `<stage> <names>`
 * and waits for `release(stage, name)`.
 */
function harness() {
  const log: string[] = [];
  const gates = new Map<string, ReturnType<typeof deferred>>();
  const gate = (k: string) => {
    const d = gates.get(k) ?? deferred();
    gates.set(k, d);
    return d;
  };
  const names = (ms: readonly OutMessage[]) => [...new Set(ms.map((m) => String(m.key)))].join("+");
  const failed: number[] = [];
  const tracked: Promise<unknown>[] = [];
  const parts = {
    ctx: { o: { checkpointEvery: 1_000 }, track: (p: Promise<unknown>) => tracked.push(p.catch(() => undefined)), stopped: new AbortController().signal, log: () => undefined },
    store: async (p: Pending) => {
      const n = (p.snapshot as unknown as { name: string }).name;
      log.push(`store ${n}`);
      await gate(`store ${n}`).promise;
    },
    record: (_: number, p: Pending): OutMessage => ({ topic: "changelog", key: (p.snapshot as unknown as { name: string }).name, value: "x" }),
    delivered: (p: Pending) => log.push(`delivered ${(p.snapshot as unknown as { name: string }).name}`),
    account: () => undefined,
  } as unknown as CheckpointParts;
  const w = new AtLeastOnceWriter(parts, (_st, p) => failed.push(p));
  const sender = (stage: string) => ({
    send: async (ms: readonly OutMessage[]) => {
      if (ms.length === 0) return;
      log.push(`${stage} ${names(ms)}`);
      await gate(`${stage} ${names(ms)}`).promise;
    },
  });
  Object.assign(w as unknown as Record<string, unknown>, { outputs: sender("outputs"), changelog: sender("changelog") });
  const batch = { commit: async () => undefined, heartbeat: async () => undefined } as unknown as GroupBatch;
  return {
    w,
    log,
    failed,
    tracked,
    release: (k: string) => gate(k).resolve(),
    fail: (k: string, e: unknown) => gate(k).reject(e),
    write: (st: PartState, p: Pending) => w.write(st, 0, p, batch),
  };
}

describe("at-least-once checkpoints as a pipeline (#18)", () => {
  test("a checkpoint's Redis write and outputs go while the one before waits for its changelog record; each stage keeps the order", async () => {
    const h = harness();
    const st = newPartState();
    await h.write(st, pend(10, "A"));
    await tick();
    assert.deepEqual(h.log, ["store A"]);
    await h.write(st, pend(20, "B"));
    await tick();
    // B waits to start until A's Redis write is done (it joins nothing: A is under way).
    assert.deepEqual(h.log, ["store A"]);
    h.release("store A");
    await tick();
    assert.deepEqual([...h.log].sort(), ["outputs A", "store A", "store B"]);
    h.release("store B");
    await tick();
    // B's outputs wait for A's.
    assert.deepEqual(h.log.length, 3);
    h.release("outputs A");
    await tick();
    assert.deepEqual(h.log.slice(3).sort(), ["changelog A", "delivered A", "outputs B"]);
    h.release("outputs B");
    await tick();
    // B is delivered (its latency ends) while A's changelog record is still in flight; B's record waits for A's.
    assert.deepEqual(h.log.slice(6), ["delivered B"]);
    assert.equal(st.committed, -1);
    h.release("changelog A");
    await tick();
    assert.equal(st.committed, 10);
    assert.deepEqual(h.log.slice(7), ["changelog B"]);
    h.release("changelog B");
    await st.writing;
    assert.equal(st.committed, 20);
    assert.deepEqual(h.failed, []);
  });

  test("a failed output fails the checkpoints after it: the partition is reset once, no later changelog record is written", async () => {
    const h = harness();
    const st = newPartState();
    await h.write(st, pend(10, "A"));
    h.release("store A");
    await tick();
    await h.write(st, pend(20, "B"));
    await tick();
    h.release("store B");
    await tick();
    h.fail("outputs A", new Error("broker gone"));
    await assert.rejects(st.writing, EarlierCheckpointFailed);
    await Promise.all(h.tracked);
    assert.deepEqual(h.failed, [0], "reset once, by the checkpoint that failed");
    assert.ok(!h.log.some((l) => l.startsWith("changelog")), h.log.join(", "));
    assert.ok(!h.log.includes("outputs B"), "B's outputs never go after A's failed");
    assert.equal(st.committed, -1);
  });

  test("a later checkpoint whose Redis write was under way when an earlier one failed sends nothing after the reset", async () => {
    const h = harness();
    const st = newPartState();
    await h.write(st, pend(10, "A"));
    h.release("store A");
    await tick();
    h.release("outputs A");
    await tick();
    await h.write(st, pend(20, "B"));
    await tick();
    assert.ok(h.log.includes("store B") && h.log.includes("changelog A"), h.log.join(", "));
    h.fail("changelog A", new Error("changelog partition offline"));
    await tick();
    assert.deepEqual(h.failed, [0]);
    // B's Redis write ends after the reset: the restored state redoes B; the old one must not send it.
    h.release("store B");
    await assert.rejects(st.writing, EarlierCheckpointFailed);
    await Promise.all(h.tracked);
    assert.ok(!h.log.includes("outputs B"), h.log.join(", "));
    assert.deepEqual(h.failed, [0], "reset once");
  });

  test("back-pressure: at most two checkpoints past their Redis write and not landed; the next ones join the waiting one", async () => {
    const h = harness();
    const st = newPartState();
    for (const [pos, n] of [
      [10, "A"],
      [20, "B"],
    ] as const) {
      await h.write(st, pend(pos, n));
      h.release(`store ${n}`);
      await tick();
      h.release(`outputs ${n}`);
      await tick();
    }
    // A and B wait for their changelog records; C may not start its Redis write until A has landed.
    await h.write(st, pend(30, "C"));
    await h.write(st, pend(40, "D"));
    await tick();
    assert.ok(!h.log.some((l) => l.startsWith("store") && l !== "store A" && l !== "store B"), h.log.join(", "));
    h.release("changelog A");
    await tick();
    // D joined C while it waited: one Redis write (the merged checkpoint has D's state) and one request for both.
    assert.ok(h.log.includes("store D"), h.log.join(", "));
    h.release("store D");
    await tick();
    h.release("changelog B");
    await tick();
    assert.ok(h.log.includes("outputs C+D"), h.log.join(", "));
    h.release("outputs C+D");
    await tick();
    h.release("changelog D");
    await st.writing;
    assert.equal(st.committed, 40);
  });
});
