import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decide, MAX_SEEKS, type PartitionView } from "../../src/stream/recovery.js";

/** A partition's state as the step holds it: a processor at `position` (none: undefined), restored or matched. */
const state = (position: number | undefined, restored: boolean, seeks = 0): PartitionView => ({ position, restored, seeks });

describe("recovery: what a fetched batch of an assigned partition needs", () => {
  it("a partition the step holds nothing for is restored from the changelog first", () => {
    assert.deepEqual(decide(undefined, 0), { kind: "restore", replace: false });
    assert.deepEqual(decide(undefined, 1234), { kind: "restore", replace: false });
  });

  it("restored without a checkpoint: an empty engine starts at the fetch position", () => {
    assert.deepEqual(decide(state(undefined, true), 0), { kind: "fresh", why: "no checkpoint" });
    assert.deepEqual(decide(state(undefined, true), 500), { kind: "fresh", why: "no checkpoint" });
  });

  it("a fetch at the state's position is processed, restored or not", () => {
    assert.deepEqual(decide(state(100, true), 100), { kind: "process" });
    assert.deepEqual(decide(state(100, false), 100), { kind: "process" });
  });

  it("a restored checkpoint ahead of (or behind) the group's offset wins: seek to it", () => {
    assert.deepEqual(decide(state(100, true), 40), { kind: "seek", to: 100 });
    assert.deepEqual(decide(state(100, true), 140), { kind: "seek", to: 100 });
    assert.deepEqual(decide(state(100, true, MAX_SEEKS - 1), 40), { kind: "seek", to: 100 });
  });

  it("a fetch that never arrives at the checkpoint after the seeks starts empty where it is", () => {
    assert.deepEqual(decide(state(100, true, MAX_SEEKS), 40), { kind: "fresh", why: "seek failed" });
  });

  it("a state that had matched a fetch and now sees another position is stale (another replica moved it): restore again", () => {
    assert.deepEqual(decide(state(100, false), 250), { kind: "restore", replace: true });
    assert.deepEqual(decide(state(100, false), 40), { kind: "restore", replace: true });
  });

  it("after a restore the decision never asks for another one", () => {
    for (const position of [undefined, 0, 100]) {
      for (const fetched of [0, 100, 200]) {
        for (let seeks = 0; seeks <= MAX_SEEKS; seeks++) assert.notEqual(decide(state(position, true, seeks), fetched).kind, "restore");
      }
    }
  });
});
