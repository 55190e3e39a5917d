/**
 * Pure text helpers shared by the Ink dashboard and its plain-table form: numbers, sparklines, the pipeline
 * graph as lines (the candlestick chart is in chart.ts). No I/O, no React.
 */
import type { Candle } from "../../../src/chart/candles.js";
import { formatPrice } from "../../../src/chart/terminal.js";
import type { StepView } from "../../../src/pipeline/dashboard.js";

export { formatPrice };

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

/** A rate for a narrow column: 0, 0.02 (a 1-minute feature's windows/s), 0.4, 12.5, 1234, 12.3k, 4.5M. */
export function formatRate(n: number): string {
  if (!Number.isFinite(n) || n <= 0) return "0";
  if (n < 0.095) return n < 0.005 ? "0" : n.toFixed(2);
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

/**
 * An age for a narrow column: 0.4s, 42s, 12m, 5h, 3d, 2.5y; "-" when unknown.
 * @example formatAge(90_000) === "1m"
 */
export function formatAge(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "-";
  const s = Math.max(0, ms) / 1000;
  if (s < 10) return `${s.toFixed(1)}s`;
  if (s < 60) return `${Math.floor(s)}s`;
  if (s < 3_600) return `${Math.floor(s / 60)}m`;
  if (s < 172_800) return `${Math.floor(s / 3_600)}h`;
  if (s < 365 * 86_400) return `${Math.floor(s / 86_400)}d`;
  return `${(s / (365.25 * 86_400)).toFixed(1)}y`;
}

/** A window length as people say it: 1s, 60s → 1m, 1h, 1d; else milliseconds. */
export function formatInterval(ms: number): string {
  for (const [unit, size] of [["d", 86_400_000], ["h", 3_600_000], ["m", 60_000], ["s", 1_000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** The step table's columns for a terminal `columns` wide (at least 80): name and trend take the extra room. */
export function tableLayout(columns: number) {
  const extra = Math.max(0, columns - 80);
  const trend = 8 + Math.min(22, Math.floor(extra / 2));
  const name = 11 + Math.min(20, extra - (trend - 8));
  return { name, state: 10, repl: 5, rate: 7, trend, lag: 6, rej: 6, late: 7, fresh: 6, rst: 4 };
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
    fit("TREND", w.trend - 1) +
    fit("LAG", w.lag, "right") +
    fit("REJ/s", w.rej, "right") +
    fit("LATE/s", w.late, "right") +
    fit("FRESH", w.fresh, "right") +
    fit("RST", w.rst, "right")
  );
}

/**
 * The cells of one step row (without the marker), in header order; `state` is returned apart for colouring.
 * OUT/s is a step's final windows per second (a source's messages produced); FRESH is now − the end of its last
 * final window (a source: since its last message).
 */
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
      fit(formatCount(s.lagTotal), w.lag, "right") +
      fit(s.rejected === null ? "-" : formatRate(s.rejectedRate), w.rej, "right") +
      fit(s.late === null ? "-" : formatRate(s.lateRate), w.late, "right") +
      fit(formatAge(s.freshnessMs), w.fresh, "right") +
      fit(String(s.restarts), w.rst, "right"),
  };
}

/** A source's feed health in a few words: "coinbase connected, 2 reconnects, 0 dup". */
export function sourceSummary(s: StepView): string {
  const src = s.source;
  if (!src) return "";
  const parts = [src.type ?? "", src.connected === null ? "" : src.connected ? "connected" : "DISCONNECTED"].filter(Boolean).join(" ");
  return [parts, `${src.reconnects} reconnects`, `${src.duplicates} dup`].filter(Boolean).join(", ");
}

/**
 * The pipeline in topic-flow order (the data source sorts it), one line per step, indented by its rank: a source
 * with its feed's health and the topics it writes, then each step with the topics it reads (and its group's lag),
 * its state, and what it writes.
 * @example ["source [replay] running · replay connected, 0 reconnects, 0 dup ─▶ ticks", "└▶ ticks (lag 0) ─▶ [candles] running ─▶ candles-1m"]
 */
export function graphLines(steps: readonly StepView[], width: number): string[] {
  const base = Math.min(...steps.map((s) => s.rank));
  return steps.map((s) => {
    const depth = Math.max(0, s.rank - base);
    const indent = depth === 0 ? "" : `${"  ".repeat(Math.min(depth, 4) - 1)}└▶ `;
    const node = `[${s.name}${s.replicas > 1 ? ` ×${s.replicas}` : ""}] ${s.state}`;
    const right = s.outputs.length > 0 ? ` ─▶ ${s.outputs.join(", ")}` : "";
    if (s.role === "source") {
      const health = sourceSummary(s);
      return fit(`${indent}source ${node}${health ? ` · ${health}` : ""}${right}`, width).trimEnd();
    }
    const ins = s.inputs.map((t) => {
      const lag = s.lag.find((l) => l.topic === t)?.lag;
      return lag === undefined ? t : `${t} (lag ${formatCount(lag)})`;
    });
    const left = ins.length > 0 ? `${ins.join(", ")} ─▶ ` : "";
    return fit(`${indent}${left}${node}${right}`, width).trimEnd();
  });
}

/** A window start as a clock: HH:MM on a minute, else HH:MM:SS (UTC). */
export function clock(ms: number): string {
  return new Date(ms).toISOString().slice(11, ms % 60_000 === 0 ? 16 : 19);
}

/** One candle's values in a line: "O 1846.55 H 1847.00 L 1846.00 C 1846.90 V 3.2 · 49 ticks". */
export function ohlcLine(c: Candle & { count?: number }): string {
  const p = (n: number) => formatPrice(n).trim();
  const vol = typeof c.volume === "number" ? ` V ${Number(c.volume.toPrecision(4))}` : "";
  const count = typeof c.count === "number" ? ` · ${c.count} ticks` : "";
  return `O ${p(c.open)} H ${p(c.high)} L ${p(c.low)} C ${p(c.close)}${vol}${count}`;
}
