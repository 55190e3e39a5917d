import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { lineChartSvg, timeTicks } from "../../src/chart/lines.js";
import { isQuixlabError } from "../../src/errors/index.js";

const T0 = 1_582_329_600_000; // 2020-02-22T00:00:00Z
const minutes = (n: number) => Array.from({ length: n }, (_, i) => T0 + i * 60_000);

/**
 * Well-formed enough for an SVG viewer: one root, tags nested and closed in order, every attribute quoted, and no
 * bare '<' or '&' in text (a cheap check without an XML parser).
 */
function wellFormed(svg: string): boolean {
  const stack: string[] = [];
  let roots = 0;
  const tag = /<(\/?)([a-zA-Z]+)((?:\s+[a-zA-Z][\w:-]*="[^"<]*")*)\s*(\/?)>/g;
  let at = 0;
  for (const m of svg.matchAll(tag)) {
    const index = m.index ?? 0;
    if (/[<>]|&(?!#\d+;|amp;|lt;|gt;|quot;)/.test(svg.slice(at, index))) return false;
    at = index + m[0].length;
    if (stack.length === 0 && !m[1]) roots++;
    if (m[4]) continue;
    if (m[1]) {
      if (stack.pop() !== m[2]) return false;
    } else stack.push(m[2]!);
  }
  return stack.length === 0 && roots === 1 && svg.slice(at).trim() === "";
}

/** The points of each series' path, by label: one array per unbroken piece. */
function pieces(svg: string): Map<string, { x: number; y: number }[][]> {
  const out = new Map<string, { x: number; y: number }[][]>();
  for (const g of svg.matchAll(/<g class="series" data-label="([^"]*)"[^>]*>([\s\S]*?)<\/g>/g)) {
    const d = /<path d="([^"]*)"/.exec(g[2]!)?.[1] ?? "";
    const parts = d.split("M").filter(Boolean).map((p) => [...p.matchAll(/(-?[\d.]+),(-?[\d.]+)/g)].map((c) => ({ x: Number(c[1]), y: Number(c[2]) })));
    out.set(g[1]!, parts);
  }
  return out;
}

describe("line chart", () => {
  const times = minutes(6);
  const close = [100, 101, 103, 102, 104, 105];
  const upper = [null, 104, 106, 105, 107, 108];
  const lower = [null, 98, 99, 99, 100, 101];

  test("one group per series, labelled in a legend, in a well-formed SVG", () => {
    const svg = lineChartSvg(
      times,
      { yLabel: "price", series: [{ label: "close", values: close }, { label: "upper", values: upper }, { label: "lower", values: lower }], band: { upper: "upper", lower: "lower", label: "Bollinger <20, 2>" } },
      { title: "BTC & co", lower: { yLabel: "RSI", range: [0, 100], guides: [30, 70], series: [{ label: "RSI 14", values: [null, 100, 80, 60, 65, 70] }] } },
    );
    assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="800" height="480"'));
    assert.ok(wellFormed(svg), "well-formed");
    assert.equal((svg.match(/<g class="series"/g) ?? []).length, 4);
    assert.deepEqual([...pieces(svg).keys()], ["close", "upper", "lower", "RSI 14"]);
    assert.equal((svg.match(/<g class="legend-item">/g) ?? []).length, 5, "a legend entry per series and one for the band");
    assert.match(svg, />Bollinger &#60;20, 2&#62;</);
    assert.match(svg, /BTC &#38; co/);
    assert.equal((svg.match(/<polygon class="band"/g) ?? []).length, 1);
    assert.equal((svg.match(/<g class="guide"/g) ?? []).length, 2);
    assert.match(svg, />price<\/text>/);
    assert.match(svg, />RSI<\/text>/);
    assert.match(svg, />time \(UTC\)<\/text>/);
    assert.match(svg, />00:02<\/text>/, "time labels on whole minutes");
  });

  test("series of a panel differ by dash pattern, so colour is not needed to tell them apart", () => {
    const svg = lineChartSvg(times, { series: [{ label: "a", values: close }, { label: "b", values: close }, { label: "c", values: close }] });
    const dashes = [...svg.matchAll(/<g class="series"[^>]*?(?: stroke-dasharray="([^"]*)")?>/g)].map((m) => m[1] ?? "");
    assert.equal(new Set(dashes).size, 3);
  });

  test("null, undefined and NaN break the line; they are never drawn as 0", () => {
    const values = [5, 6, null, 7, Number.NaN, 8, 9, undefined, 10, 11];
    const svg = lineChartSvg(minutes(values.length), { series: [{ label: "v", values }], range: [-10, 20] });
    assert.ok(wellFormed(svg));
    const parts = pieces(svg).get("v")!;
    assert.deepEqual(parts.map((p) => p.length), [2, 2, 2], "three pieces: the gaps split the line");
    const dots = [...svg.matchAll(/<circle cx="([\d.]+)" cy="([\d.]+)"/g)];
    assert.equal(dots.length, 1, "7, between two gaps, is a dot");
    // With the range [-10, 20], 0 sits a third of the way up; every drawn y must be above it (values are >= 5).
    const zeroY = Number(/<text x="[\d.]+" y="([\d.]+)" text-anchor="end" stroke="none">0<\/text>/.exec(svg)![1]) - 4;
    for (const p of [...parts.flat(), ...dots.map((d) => ({ y: Number(d[2]) }))]) assert.ok(p.y < zeroY - 1, `y ${p.y} is above the zero line at ${zeroY}`);
  });

  test("a band breaks where either edge is missing", () => {
    const svg = lineChartSvg(minutes(7), {
      series: [
        { label: "hi", values: [3, 3, 3, null, 3, 3, 3] },
        { label: "lo", values: [1, 1, 1, 1, 1, Number.NaN, 1] },
      ],
      band: { upper: "hi", lower: "lo" },
    });
    const polys = [...svg.matchAll(/<polygon class="band" points="([^"]*)"/g)].map((m) => m[1]!.split(" ").length);
    assert.deepEqual(polys, [6], "only the first run (3 points each side) has two or more points");
  });

  test("no times or no values: a valid SVG that says so", () => {
    const empty = lineChartSvg([], { series: [{ label: "x", values: [] }] });
    assert.ok(wellFormed(empty));
    assert.match(empty, /no values/);
    const allNull = lineChartSvg(minutes(3), { series: [{ label: "x", values: [null, Number.NaN, undefined] }] });
    assert.ok(wellFormed(allNull));
    assert.equal((allNull.match(/<path /g) ?? []).length, 0);
    assert.match(allNull, /no values/);
  });

  test("mismatched lengths, unknown band series and unsorted times are input errors with a remedy", () => {
    const bad = (f: () => unknown, re: RegExp) =>
      assert.throws(f, (e: unknown) => isQuixlabError(e) && re.test((e as Error).message) && Boolean((e as { remedy?: string }).remedy));
    bad(() => lineChartSvg(minutes(3), { series: [{ label: "x", values: [1, 2] }] }), /series 'x' \(upper panel\) has 2 values for 3 times/);
    bad(() => lineChartSvg(minutes(2), { series: [{ label: "x", values: [1, 2] }], band: { upper: "x", lower: "y" } }), /names series 'y'/);
    bad(() => lineChartSvg([2, 1], { series: [{ label: "x", values: [1, 2] }] }), /times must ascend/);
  });

  test("timeTicks gives round times inside the span", () => {
    assert.deepEqual(timeTicks(T0 + 30_000, T0 + 6 * 60_000).map((t) => (t - T0) / 60_000), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(timeTicks(T0, T0 + 125 * 60_000).map((t) => (t - T0) / 60_000), [0, 30, 60, 90, 120]);
    assert.deepEqual(timeTicks(T0, T0), [T0]);
  });
});
