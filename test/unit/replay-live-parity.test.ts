import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LiveParity } from "../../src/replay/live-parity.js";
import type { WindowRecord } from "../../src/window/types.js";

const w = (key: string, start: number, close: number): WindowRecord => ({ key, start, end: start + 60_000, open: 1, high: 2, low: 0.5, close, volume: 3, count: 4 }) as WindowRecord;

describe("LiveParity: windows checked against batch as they arrive", () => {
  it("waits for the batch result, then counts distinct equal and differing windows", () => {
    const live = new LiveParity();
    const streamed: WindowRecord[] = [w("A", 0, 1)];
    assert.equal(live.check(streamed), false, "nothing to check against before the batch pass is done");
    live.expect([w("A", 0, 1), w("A", 60_000, 2), w("B", 0, 3)]);
    assert.equal(live.check(streamed), true);
    assert.deepEqual([live.matched, live.differing], [1, 0]);
    // A redelivery counts once; a window batch does not have, or with other values, differs.
    streamed.push(w("A", 0, 1), w("A", 60_000, 9), w("C", 0, 1));
    live.check(streamed);
    assert.deepEqual([live.matched, live.differing], [1, 2]);
    // A window that differed once stays differing, even if an equal copy follows.
    streamed.push(w("A", 60_000, 2), w("B", 0, 3));
    live.check(streamed);
    assert.deepEqual([live.matched, live.differing], [2, 2]);
  });
});
