import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compareWindows, diffRecords, differencesExplainedByLate } from "../../src/replay/parity.js";

const w = (key: string, start: number, over: Record<string, number> = {}) => ({
  key,
  start,
  end: start + 60_000,
  open: 1,
  high: 2,
  low: 0.5,
  close: 1.5,
  volume: 10,
  count: 3,
  ...over,
});

describe("compareWindows", () => {
  it("holds when the same windows arrive in any order", () => {
    const exp = [w("A", 0), w("A", 60_000), w("B", 0)];
    const res = compareWindows(exp, [exp[2]!, exp[0]!, exp[1]!]);
    assert.equal(res.ok, true);
    assert.equal(res.matched, 3);
    assert.deepEqual([res.mismatched, res.missing, res.extra], [0, 0, 0]);
  });

  it("counts missing, extra and mismatched windows and names the differing fields", () => {
    const exp = [w("A", 0), w("A", 60_000), w("B", 0)];
    const act = [w("A", 0), w("A", 60_000, { close: 1.6, count: 4 }), w("C", 0)];
    const res = compareWindows(exp, act);
    assert.equal(res.ok, false);
    assert.equal(res.matched, 1);
    assert.equal(res.mismatched, 1);
    assert.equal(res.missing, 1);
    assert.equal(res.extra, 1);
    assert.deepEqual(
      res.mismatches[0]!.diffs.map((d) => d.field),
      ["close", "count"],
    );
    assert.equal(res.missingWindows[0]!.key, "B");
    assert.equal(res.extraWindows[0]!.key, "C");
  });

  it("treats identical redeliveries as duplicates, not errors, but conflicting ones as mismatches", () => {
    const exp = [w("A", 0)];
    assert.equal(compareWindows(exp, [w("A", 0), w("A", 0)]).ok, true);
    assert.equal(compareWindows(exp, [w("A", 0), w("A", 0)]).duplicates, 1);
    const conflicting = compareWindows(exp, [w("A", 0, { high: 3 }), w("A", 0)]);
    assert.equal(conflicting.ok, false);
    assert.equal(conflicting.conflicting, 1);
  });

  it("is exact by default and honours a relative tolerance on values, never on start/end/count", () => {
    const exp = [w("A", 0, { volume: 1 })];
    assert.equal(compareWindows(exp, [w("A", 0, { volume: 1 + 1e-12 })]).ok, false);
    assert.equal(compareWindows(exp, [w("A", 0, { volume: 1 + 1e-12 })], { relTol: 1e-9 }).ok, true);
    assert.deepEqual(diffRecords(w("A", 0, { count: 3 }), w("A", 0, { count: 4 }), 0.5).map((d) => d.field), ["count"]);
  });

  it("says when every difference is explained by late ticks", () => {
    const res = compareWindows([w("A", 0), w("A", 60_000)], [w("A", 0), w("A", 60_000, { count: 2 })]);
    assert.equal(differencesExplainedByLate(res, [{ key: "A", time: 61_000 }]), true);
    assert.equal(differencesExplainedByLate(res, [{ key: "A", time: 1_000 }]), false);
    assert.equal(differencesExplainedByLate(res, []), false);
  });
});
