/**
 * A candlestick chart for a terminal, as a grid of cells (pure: no I/O, no colour codes). Readable without colour:
 * a rising body is █, a falling one ▒, wicks │; the in-progress candle (an open window's current value) is ░ with
 * a ┊ wick, one blank column apart. A UI may colour the cells by their `tone`.
 */
import type { Candle } from "./candles.js";

export type CellTone = "up" | "down" | "open" | null;

export interface ChartCell {
  ch: string;
  /** up: close >= open, down: falling, open: the in-progress candle, null: empty. */
  tone: CellTone;
}

export interface CandleChart {
  /** Top row first; each with its price label (10 characters, blank on most rows). */
  rows: { label: string; cells: ChartCell[] }[];
  /** Start times under the candles they belong to: the oldest, one in the middle, the newest (10-character indent). */
  axis: string;
  lo: number;
  hi: number;
  /** How many final records were drawn (the newest ones). */
  shown: number;
  /** Whether the in-progress candle was drawn (rightmost). */
  inProgress: boolean;
  /** 2 when each candle has a blank column after it, 1 when they are packed to fit more. */
  step: 1 | 2;
}

/** Width of the price axis on the left. */
export const AXIS = 10;

export const GLYPHS = { up: "█", down: "▒", open: "░", wick: "│", openWick: "┊" } as const;

/** A price label that fits the axis: at most 9 characters, right-aligned. */
export function formatPrice(p: number): string {
  const a = Math.abs(p);
  const digits = a >= 10_000 ? 0 : a >= 100 ? 2 : a >= 1 ? 3 : 5;
  return p.toFixed(digits).slice(0, 9).padStart(9);
}

/** HH:MM when every start is on a minute, else HH:MM:SS (UTC). */
function clock(ms: number, minutes: boolean): string {
  return new Date(ms).toISOString().slice(11, minutes ? 16 : 19);
}

/** How many final candles a chart `width` wide shows at most (one column each, the in-progress one set apart). */
export function chartCapacity(width: number): number {
  return Math.max(1, width - AXIS - 2);
}

/**
 * The newest `records` (oldest first) that fit a `width` × `height` grid, plus `inProgress` at the right. With room
 * for all of them each candle gets a blank column after it; otherwise one column per candle, as many as fit.
 * @example candleChartText(candleChart(records, 80, 10, update)).join("\n")
 */
export function candleChart(records: readonly Candle[], width: number, height: number, inProgress: Candle | null = null): CandleChart {
  const cols = Math.max(1, width - AXIS);
  const open = inProgress ? 1 : 0;
  const roomy = (records.length + open) * 2 <= cols;
  const step: 1 | 2 = roomy ? 2 : 1;
  // Packed, the in-progress candle still has a blank column before it, so it never reads as a final one.
  const slots = roomy ? Math.floor(cols / 2) - open : Math.max(1, cols - 2 * open);
  const shown = records.slice(-slots);
  const all = inProgress ? [...shown, inProgress] : shown;
  const lo = all.length ? Math.min(...all.map((r) => r.low)) : 0;
  const hi = all.length ? Math.max(...all.map((r) => r.high)) : 0;
  const h = Math.max(1, height);
  const rowOf = (p: number) => (hi > lo ? Math.round(((hi - p) / (hi - lo)) * (h - 1)) : Math.floor((h - 1) / 2));
  const mid = h >= 5 ? Math.floor((h - 1) / 2) : -1;
  const rows = Array.from({ length: h }, (_, i) => ({
    label: i === 0 ? `${formatPrice(hi)} ` : i === h - 1 && h > 1 ? `${formatPrice(lo)} ` : i === mid ? `${formatPrice(hi - ((hi - lo) * i) / (h - 1))} ` : " ".repeat(AXIS),
    cells: [] as ChartCell[],
  }));
  const starts: number[] = [];
  const draw = (r: Candle, live: boolean) => {
    starts.push(rows[0]!.cells.length);
    const tone: CellTone = live ? "open" : r.close >= r.open ? "up" : "down";
    const body = live ? GLYPHS.open : tone === "up" ? GLYPHS.up : GLYPHS.down;
    const wick = live ? GLYPHS.openWick : GLYPHS.wick;
    const [bodyTop, bodyBottom] = [rowOf(Math.max(r.open, r.close)), rowOf(Math.min(r.open, r.close))];
    const [wickTop, wickBottom] = [rowOf(r.high), rowOf(r.low)];
    for (let i = 0; i < h; i++) {
      const ch = i >= bodyTop && i <= bodyBottom ? body : i >= wickTop && i <= wickBottom ? wick : " ";
      rows[i]!.cells.push({ ch, tone: ch === " " ? null : tone });
      if (step === 2) rows[i]!.cells.push({ ch: " ", tone: null });
    }
  };
  for (const r of shown) draw(r, false);
  if (inProgress) {
    if (step === 1 && shown.length > 0) for (const row of rows) row.cells.push({ ch: " ", tone: null });
    draw(inProgress, true);
  }
  return { rows, axis: timeAxis(all, starts, cols), lo, hi, shown: shown.length, inProgress: inProgress !== null, step };
}

/** Start times placed under their candles' columns: first, newest, and the middle one when there is room. */
function timeAxis(candles: readonly Candle[], columns: readonly number[], width: number): string {
  if (candles.length === 0) return "";
  const minutes = candles.every((c) => c.start % 60_000 === 0);
  const line = Array.from({ length: width }, () => " ");
  const put = (i: number, alignRight: boolean) => {
    const text = clock(candles[i]!.start, minutes);
    const at = Math.max(0, Math.min(width - text.length, alignRight ? columns[i]! - text.length + 1 : columns[i]!));
    if (line.slice(Math.max(0, at - 1), at + text.length + 1).some((c) => c !== " ")) return;
    for (let k = 0; k < text.length; k++) line[at + k] = text[k]!;
  };
  put(0, false);
  put(candles.length - 1, true);
  if (candles.length > 2) put(Math.floor((candles.length - 1) / 2), false);
  return `${" ".repeat(AXIS)}${line.join("")}`.trimEnd();
}

/** The chart as plain text lines (no colour), the time axis last. */
export function candleChartText(chart: CandleChart): string[] {
  const rows = chart.rows.map((r) => (r.label + r.cells.map((c) => c.ch).join("")).trimEnd());
  return chart.axis ? [...rows, chart.axis] : rows;
}
