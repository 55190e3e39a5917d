import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { InputError } from "../../src/errors/index.js";
import { formatDuration, parseDuration } from "../../src/window/duration.js";
import { describeWindow, hopping, toWindowSpec, tumbling } from "../../src/window/spec.js";

describe("durations", () => {
  test("accepted spellings", () => {
    const cases: [string | number, number][] = [
      ["1h", 3_600_000],
      ["1m", 60_000],
      ["1min", 60_000],
      ["60s", 60_000],
      ["500ms", 500],
      ["1d", 86_400_000],
      ["1.5s", 1500],
      ["2 s", 2000],
      ["15MIN", 900_000],
      ["250", 250],
      [1000, 1000],
      [0, 0],
    ];
    for (const [input, ms] of cases) assert.equal(parseDuration(input), ms, String(input));
  });

  test("junk is an InputError that names the input and shows valid spellings", () => {
    for (const junk of ["", "h", "1hour", "-1s", "1.5ms", "1e3ms", "1 m s", "abc"]) {
      assert.throws(
        () => parseDuration(junk, "--grace"),
        (e: unknown) => e instanceof InputError && e.message.includes("--grace") && /500ms/.test(e.remedy ?? ""),
        junk,
      );
    }
    for (const n of [-1, Number.NaN, Number.POSITIVE_INFINITY]) assert.throws(() => parseDuration(n), InputError);
  });

  test("formatDuration picks the largest exact unit", () => {
    assert.deepEqual([60_000, 3_600_000, 1000, 1500, 86_400_000, 90_000].map(formatDuration), ["1m", "1h", "1s", "1500ms", "1d", "90s"]);
  });
});

describe("window specs", () => {
  test("builders parse durations and are immutable", () => {
    const w = tumbling("1m", { grace: "2s" });
    assert.deepEqual({ ...w.spec }, { kind: "tumbling", size: 60_000, step: 60_000, origin: "epoch", grace: 2000 });
    const later = w.grace("5s").origin("start");
    assert.equal(w.spec.grace, 2000);
    assert.deepEqual([later.spec.grace, later.spec.origin], [5000, "start"]);
    assert.deepEqual({ ...hopping("60s", "1s").spec }, { kind: "hopping", size: 60_000, step: 1000, origin: "epoch", grace: 0 });
    assert.equal(describeWindow(hopping("60s", "1s", { grace: "2s" }).spec), "hopping 1m every 1s (grace 2s)");
  });

  test("invalid windows are refused with a remedy", () => {
    assert.throws(() => hopping("1s", "2s"), /step .* longer than the size/);
    assert.throws(() => tumbling(0), /size/);
    assert.throws(() => toWindowSpec({ kind: "tumbling", size: 10, step: 5, origin: "epoch", grace: 0 }), /step must equal/);
    assert.throws(() => toWindowSpec({ kind: "rolling", size: 10, step: 10, origin: "epoch", grace: 0 } as never), /kind/);
    assert.throws(() => toWindowSpec({ kind: "sliding", size: 10, step: 5, origin: "epoch", grace: 0 }), /a sliding window has no step/);
    assert.throws(() => tumbling("1m", { origin: "first" as never }), /origin/);
    // A plain spec object and a builder from another copy of the library are both accepted (duck-typed).
    assert.equal(toWindowSpec({ spec: { kind: "tumbling", size: 10, step: 10, origin: "epoch", grace: 1 } } as never).grace, 1);
  });
});
