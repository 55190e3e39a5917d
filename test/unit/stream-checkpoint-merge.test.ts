import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { OutMessage } from "../../src/kafka/index.js";
import { mergePending } from "../../src/stream/checkpoint.js";
import { CoalescingSender } from "../../src/stream/coalesce.js";
import type { Pending } from "../../src/stream/partition.js";

const msg = (value: string): OutMessage => ({ topic: "out", key: "k", value });

/** A producer whose sends settle when the test says so, recording each request. */
function heldProducer() {
  const requests: string[][] = [];
  const settle: { resolve: () => void; reject: (e: Error) => void }[] = [];
  return {
    requests,
    settle,
    producer: {
      send(messages: readonly OutMessage[]): Promise<void> {
        requests.push(messages.map((m) => String(m.value)));
        return new Promise<void>((resolve, reject) => settle.push({ resolve, reject }));
      },
    },
  };
}

const tick = () => new Promise((r) => setImmediate(r));

describe("CoalescingSender", () => {
  it("sends what arrives while a request is in flight as one request, in order", async () => {
    const h = heldProducer();
    const s = new CoalescingSender(h.producer);
    const a = s.send([msg("a1"), msg("a2")]);
    const b = s.send([msg("b1")]);
    const c = s.send([msg("c1"), msg("c2")]);
    assert.deepEqual(h.requests, [["a1", "a2"]]);
    let bDone = false;
    void b.then(() => (bDone = true));
    h.settle[0]!.resolve();
    await a;
    await tick();
    assert.equal(bDone, false, "b is acknowledged with its request, not with a's");
    assert.deepEqual(h.requests, [["a1", "a2"], ["b1", "c1", "c2"]]);
    h.settle[1]!.resolve();
    await Promise.all([b, c]);
    assert.deepEqual(await s.send([]), undefined);
    assert.equal(h.requests.length, 2, "nothing to send makes no request");
  });

  it("fails every send of a failed request, and sends the next ones", async () => {
    const h = heldProducer();
    const s = new CoalescingSender(h.producer);
    const a = s.send([msg("a")]);
    const b = s.send([msg("b")]);
    const c = s.send([msg("c")]);
    h.settle[0]!.resolve();
    await a;
    await tick();
    const d = s.send([msg("d")]);
    h.settle[1]!.reject(new Error("broker down"));
    await assert.rejects(b, /broker down/);
    await assert.rejects(c, /broker down/);
    await tick();
    assert.deepEqual(h.requests, [["a"], ["b", "c"], ["d"]]);
    h.settle[2]!.resolve();
    await d;
  });
});

function pending(position: number, o: Partial<Pending>): Pending {
  return {
    position,
    messages: [],
    windows: [],
    updates: [],
    triggers: [],
    watermarks: [],
    snapshot: { position } as unknown as Pending["snapshot"],
    counts: { consumed: 1, emitted: 0, rejected: 0, late: 0, eof: 0, updates: 0 },
    ...o,
  };
}

describe("mergePending", () => {
  it("keeps both checkpoints' output in order and the second's state; per key the newer watermark and update win", () => {
    const w = (key: string, start: number) => ({ key, start, end: start + 1000 }) as unknown as Pending["windows"][number];
    const a = pending(10, {
      messages: [msg("a")],
      windows: [w("X", 0)],
      updates: [w("X", 1000), w("Y", 0)],
      triggers: [5],
      watermarks: [
        ["X", 1000],
        ["Y", 500],
      ],
      counts: { consumed: 10, emitted: 1, rejected: 1, late: 0, eof: 0, updates: 2 },
    });
    const b = pending(25, {
      messages: [msg("b")],
      windows: [w("X", 1000)],
      updates: [w("X", 2000)],
      triggers: [9],
      watermarks: [["X", 2000]],
      counts: { consumed: 15, emitted: 1, rejected: 0, late: 2, eof: 1, updates: 1 },
    });
    const m = mergePending(a, b);
    assert.equal(m.position, 25);
    assert.equal(m.snapshot, b.snapshot);
    assert.deepEqual(
      m.messages.map((x) => x.value),
      ["a", "b"],
    );
    assert.deepEqual(
      m.windows.map((x) => [x.key, x.start]),
      [
        ["X", 0],
        ["X", 1000],
      ],
    );
    assert.deepEqual(
      m.updates.map((x) => [x.key, x.start]),
      [
        ["X", 2000],
        ["Y", 0],
      ],
    );
    assert.deepEqual(m.triggers, [5, 9]);
    assert.deepEqual(m.watermarks, [
      ["X", 2000],
      ["Y", 500],
    ]);
    assert.deepEqual(m.counts, { consumed: 25, emitted: 2, rejected: 1, late: 2, eof: 1, updates: 3 });
  });
});
