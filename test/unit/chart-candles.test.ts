import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type Candle, candlestickSvg, niceTicks } from "../../src/chart/candles.js";

const T0 = 1_686_313_560_000;
const bar = (i: number, open: number, close: number, key = "ETH-USD"): Candle => ({
  key,
  start: T0 + i * 60_000,
  end: T0 + (i + 1) * 60_000,
  open,
  high: Math.max(open, close) + 1,
  low: Math.min(open, close) - 1,
  close,
  volume: 10 + i,
});

/** Tags open and close in order (a cheap well-formedness check without an XML parser). */
function balanced(svg: string): boolean {
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-z]+)[^>]*?(\/?)>/g)) {
    if (m[3]) continue;
    if (m[1]) {
      if (stack.pop() !== m[2]) return false;
    } else stack.push(m[2]!);
  }
  return stack.length === 0;
}

describe("candlestick chart", () => {
  const records = [bar(0, 100, 105), bar(1, 105, 102), bar(2, 102, 102), bar(0, 5, 6, "BTC-USD")];

  test("one candle per window of the chosen key, coloured by direction, with volume bars", () => {
    const svg = candlestickSvg(records, { width: 600, height: 300, title: "ETH <1m> & co" });
    assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="600" height="300"'));
    assert.ok(balanced(svg));
    assert.equal((svg.match(/class="candle up"/g) ?? []).length, 2, "close >= open is up (flat counts as up)");
    assert.equal((svg.match(/class="candle down"/g) ?? []).length, 1);
    assert.equal((svg.match(/class="volume"/g) ?? []).length, 3);
    assert.match(svg, /ETH &#60;1m&#62; &#38; co/);
    assert.match(svg, />12:26</, "time labels on window starts");
    const btc = candlestickSvg(records, { key: "BTC-USD", volume: false });
    assert.equal((btc.match(/class="candle /g) ?? []).length, 1);
    assert.equal((btc.match(/class="volume"/g) ?? []).length, 0);
  });

  test("prices map into the plot: higher price, smaller y", () => {
    const svg = candlestickSvg([bar(0, 100, 200)], { height: 400, volume: false });
    const wick = /<line x1="[\d.]+" x2="[\d.]+" y1="([\d.]+)" y2="([\d.]+)"\/><rect/.exec(svg);
    assert.ok(wick);
    assert.ok(Number(wick[1]) < Number(wick[2]), "high is drawn above low");
  });

  test("no windows → a valid SVG that says so", () => {
    const svg = candlestickSvg([]);
    assert.ok(balanced(svg));
    assert.match(svg, /no windows/);
  });

  test("niceTicks gives round steps inside the range", () => {
    assert.deepEqual(niceTicks(0, 10), [0, 2, 4, 6, 8, 10]);
    assert.deepEqual(niceTicks(9653.07, 9710.7, 5), [9660, 9680, 9700]);
    assert.deepEqual(niceTicks(0.00033396, 0.00033458, 6), [0.000334, 0.0003342, 0.0003344]);
    assert.deepEqual(niceTicks(5, 5), [5]);
  });
});
