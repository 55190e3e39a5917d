/**
 * Pure text helpers shared by the Ink dashboard and its plain-table form: numbers, sparklines, the pipeline
 * graph as lines, and the candlestick chart as a grid of cells. No I/O, no React.
 */
import type { Candle } from "../../../src/chart/candles.js";
import type { StepView } from "../../../src/pipeline/dashboard.js";

const BARS = "▁▂▃▄▅▆▇█";

/**
 * The last `width` values as a sparkline scaled to their maximum; zeros draw the lowest bar, missing history is blank.
 * @example sparkline([0, 1, 2, 4], 4) === "▁▂▄█"
 */
export function sparkline(values: readonly number[], width: number): string {
  const tail = values.slice(-width);
  const max = Math.max(0, ...tail.filter(Number.isFinite));
  const bars = tail.map((v) => {
    if (!Number.isFinite(v) || max <= 0 || v <= 0) return BARS[0];
    return BARS[Math.min(BARS.length - 1, Math.max(1, Math.round((v / max) * (BARS.length - 1))))];
  });
  return " ".repeat(Math.max(0, width - tail.length)) + bars.join("");
}

/** A rate for a narrow column: 0, 0.4, 12.5, 1234, 12.3k, 4.5M. */
export function formatRate(n: number): string {
  if (!Number.isFinite(n) || n <= 0) return "0";
  if (n < 10) return n.toFixed(1).replace(/\.0$/, "");
  if (n < 1_000) return n.toFixed(n < 100 ? 1 : 0).replace(/\.0$/, "");
  if (n < 1_000_000) return `${(n / 1_000).toFixed(1).replace(/\.0$/, "")}k`;
  return `${(n / 1_000_000).toFixed(1).replace(/\.0$/, "")}M`;
}

/** A counter, or "-" when unknown. */
export function formatCount(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return "-";
  if (n < 100_000) return String(n);
  if (n < 10_000_000) return `${(n / 1_000).toFixed(0)}k`;
  return `${(n / 1_000_000).toFixed(1)}M`;
}

/** Cut `s` to `width` characters (an ellipsis marks the cut) and pad it to exactly `width`. */
export function fit(s: string, width: number, align: "left" | "right" = "left"): string {
  if (width <= 0) return "";
  const cut = s.length > width ? `${s.slice(0, Math.max(0, width - 1))}…` : s;
  return align === "left" ? cut.padEnd(width) : cut.padStart(width);
}

/** The step table's columns for a terminal `columns` wide (at least 80): name and trend take the extra room. */
export function tableLayout(columns: number) {
  const extra = Math.max(0, columns - 80);
  const trend = 8 + Math.min(22, Math.floor(extra / 2));
  const name = 11 + Math.min(20, extra - (trend - 8));
  return { name, state: 11, repl: 5, rate: 7, trend, lag: 7, small: 5, rst: 4 };
}

/** The header of the step table (marker column included). */
export function tableHeader(columns: number): string {
  const w = tableLayout(columns);
  return (
    "  " +
    fit("STEP", w.name) +
    fit("STATE", w.state) +
    fit("REPL", w.repl, "right") +
    fit("IN/s", w.rate, "right") +
    fit("OUT/s", w.rate, "right") +
    " " +
    fit("TREND", w.trend) +
    fit("LAG", w.lag, "right") +
    fit("REJ", w.small, "right") +
    fit("LATE", w.small, "right") +
    fit("OPEN", w.small, "right") +
    fit("RST", w.rst, "right")
  );
}

/** The cells of one step row (without the marker), in header order; `state` is returned apart for colouring. */
export function tableRow(s: StepView, columns: number): { name: string; state: string; rest: string } {
  const w = tableLayout(columns);
  return {
    name: fit(s.name, w.name - 1) + " ",
    state: fit(s.state, w.state - 1) + " ",
    rest:
      fit(`${s.running}/${s.replicas}`, w.repl, "right") +
      fit(formatRate(s.consumedRate), w.rate, "right") +
      fit(formatRate(s.emittedRate), w.rate, "right") +
      " " +
      sparkline(s.consumedHistory, w.trend - 1) +
      " " +
      fit(formatCount(s.lagTotal), w.lag, "right") +
      fit(formatCount(s.rejected), w.small, "right") +
      fit(formatCount(s.late), w.small, "right") +
      fit(formatCount(s.windowsOpen), w.small, "right") +
      fit(String(s.restarts), w.rst, "right"),
  };
}

/**
 * The pipeline as one line per step: the topics it reads (with the group's lag), the step, the topics it writes.
 * @example "ticks (lag 12) ─▶ [ohlc ×2] ─▶ candles"
 */
export function graphLines(steps: readonly StepView[], width: number): string[] {
  return steps.map((s) => {
    const ins = s.inputs.map((t) => {
      const lag = s.lag.find((l) => l.topic === t)?.lag;
      return lag === undefined ? t : `${t} (lag ${formatCount(lag)})`;
    });
    const left = ins.length > 0 ? `${ins.join(", ")} ─▶ ` : "";
    const right = s.outputs.length > 0 ? ` ─▶ ${s.outputs.join(", ")}` : "";
    return fit(`${left}[${s.name}${s.replicas > 1 ? ` ×${s.replicas}` : ""}]${right}`, width).trimEnd();
  });
}

/** A price label that fits the axis: at most 9 characters. */
export function formatPrice(p: number): string {
  const a = Math.abs(p);
  const digits = a >= 10_000 ? 0 : a >= 100 ? 2 : a >= 1 ? 3 : 5;
  return fit(p.toFixed(digits), 9, "right");
}

export interface ChartCell {
  ch: string;
  /** true: close >= open, false: falling, null: empty. */
  up: boolean | null;
}

export interface CandleChart {
  /** Top row first; each with its axis label (blank on most rows). */
  rows: { label: string; cells: ChartCell[] }[];
  lo: number;
  hi: number;
  /** How many of the records were drawn (the newest ones). */
  shown: number;
}

/**
 * A candlestick chart of `records` (oldest first) in a `width` × `height` grid: one column per candle and a
 * gap, a 10-character price axis on the left; bodies are █ (at least one cell), wicks │.
 */
export function candleChart(records: readonly Candle[], width: number, height: number): CandleChart {
  const slots = Math.max(1, Math.floor((width - 10) / 2));
  const shown = records.slice(-slots);
  const lo = Math.min(...shown.map((r) => r.low));
  const hi = Math.max(...shown.map((r) => r.high));
  const h = Math.max(1, height);
  const rowOf = (p: number) => (hi > lo ? Math.round(((hi - p) / (hi - lo)) * (h - 1)) : Math.floor((h - 1) / 2));
  const rows = Array.from({ length: h }, (_, i) => ({
    label: i === 0 ? formatPrice(hi) + " " : i === h - 1 && h > 1 ? formatPrice(lo) + " " : " ".repeat(10),
    cells: [] as ChartCell[],
  }));
  for (const r of shown) {
    const up = r.close >= r.open;
    const [bodyTop, bodyBottom] = [rowOf(Math.max(r.open, r.close)), rowOf(Math.min(r.open, r.close))];
    const [wickTop, wickBottom] = [rowOf(r.high), rowOf(r.low)];
    for (let i = 0; i < h; i++) {
      const ch = i >= bodyTop && i <= bodyBottom ? "█" : i >= wickTop && i <= wickBottom ? "│" : " ";
      rows[i]!.cells.push({ ch, up: ch === " " ? null : up }, { ch: " ", up: null });
    }
  }
  return { rows, lo: shown.length ? lo : 0, hi: shown.length ? hi : 0, shown: shown.length };
}

/** The chart as plain text lines (no colour). */
export function candleChartText(chart: CandleChart): string[] {
  return chart.rows.map((r) => (r.label + r.cells.map((c) => c.ch).join("")).trimEnd());
}
