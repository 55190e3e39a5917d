/**
 * A line chart of series over one time axis as an SVG string (pure: no DOM, no browser): price with its EMA and
 * Bollinger bands, RSI in a panel below, a feature's values over time. Readable without colour: every series has
 * its own dash pattern and a legend entry with its label, and each line carries its label as a tooltip.
 */
import { InputError } from "../errors/index.js";
import { esc, niceTicks, numberLabel, r2, timeLabel } from "./svg.js";

/** One line. A null, undefined or non-finite value breaks the line there; it is never drawn as 0. */
export interface LineSeries {
  /** What the line is, shown in the legend: the label, not the colour, says which line is which. */
  label: string;
  /** One value per time of the chart. */
  values: readonly (number | null | undefined)[];
  colour?: string;
  /** An SVG stroke-dasharray ("" for solid). Default: a pattern of its own per series of the panel. */
  dash?: string;
}

/** A panel: its series, an optional shaded band and its own y scale. */
export interface LinePanel {
  series: readonly LineSeries[];
  /** Shade the area between two of the series, named by label (e.g. the upper and lower Bollinger bands). */
  band?: { upper: string; lower: string; label?: string; fill?: string };
  /** The y axis' label, e.g. "price (USDT)". */
  yLabel?: string;
  /** A fixed y range, e.g. [0, 100] for RSI. Default: the range of the finite values, padded by 5 %. */
  range?: readonly [number, number];
  /** Horizontal reference lines, each labelled with its value (e.g. RSI's 30 and 70). */
  guides?: readonly number[];
}

export interface LineChartOptions {
  width?: number;
  height?: number;
  title?: string;
  /** The time axis' label. Default "time (UTC)". */
  xLabel?: string;
  /** A second panel under the first: the same time axis, its own y scale. */
  lower?: LinePanel;
  /** Share of the plot height the lower panel takes. Default 0.3. */
  lowerShare?: number;
}

const COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#555555"];
const DASHES = ["", "7 3", "2 3", "10 3 2 3", "1 4", "14 4"];
const BAND_FILL = "#9aa5b1";
const LEGEND_H = 18;
const PANEL_GAP = 12;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const TIME_STEPS = [1, 2, 5, 10, 15, 30].map((s) => s * 1000).concat([1, 2, 5, 10, 15, 30].map((m) => m * MINUTE), [1, 2, 3, 6, 12].map((h) => h * HOUR), [1, 2, 7, 14, 30].map((d) => d * DAY));

/** Round times (whole seconds, minutes, hours or days) covering [t0, t1], about `count` of them. */
export function timeTicks(t0: number, t1: number, count = 6): number[] {
  if (!(t1 > t0)) return [t0];
  const step = TIME_STEPS.find((s) => (t1 - t0) / s <= count) ?? Math.ceil((t1 - t0) / count / DAY) * DAY;
  const out: number[] = [];
  for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) out.push(t);
  return out;
}

const finite = (v: number | null | undefined): v is number => typeof v === "number" && Number.isFinite(v);

/** Runs of consecutive indexes where `ok` holds: each run is drawn as one piece, and a gap breaks it. */
function runs(n: number, ok: (i: number) => boolean): number[][] {
  const out: number[][] = [];
  let run: number[] = [];
  for (let i = 0; i < n; i++) {
    if (ok(i)) run.push(i);
    else if (run.length) {
      out.push(run);
      run = [];
    }
  }
  if (run.length) out.push(run);
  return out;
}

function check(times: readonly number[], panel: LinePanel, where: string): void {
  for (const s of panel.series) {
    if (s.values.length !== times.length) {
      throw new InputError(`line chart: series '${s.label}' (${where}) has ${s.values.length} values for ${times.length} times`, {
        remedy: "give every series one value per time, null where it has none",
        context: { field: "values" },
      });
    }
  }
  const band = panel.band;
  for (const name of band ? [band.upper, band.lower] : []) {
    if (!panel.series.some((s) => s.label === name)) {
      throw new InputError(`line chart: the band (${where}) names series '${name}', which the panel does not have`, {
        remedy: `name two of its series: ${panel.series.map((s) => `'${s.label}'`).join(", ")}`,
        context: { field: "band" },
      });
    }
  }
}

interface Box {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

/** Draws one panel into `out`: grid, band, guides, series, legend (above the plot) and y axis. */
function drawPanel(out: string[], panel: LinePanel, box: Box, x: (i: number) => number, n: number, gridTimes: readonly number[], xOf: (t: number) => number): void {
  const { top, bottom, left, right } = box;
  const all = panel.series.flatMap((s) => s.values.filter(finite));
  let lo: number;
  let hi: number;
  if (panel.range) [lo, hi] = panel.range;
  else {
    const vals = all.concat(panel.guides ?? []);
    lo = vals.length ? Math.min(...vals) : 0;
    hi = vals.length ? Math.max(...vals) : 1;
    const pad = (hi - lo) * 0.05 || Math.abs(hi) * 0.01 || 1;
    lo -= pad;
    hi += pad;
  }
  const y = (v: number) => bottom - ((v - lo) / (hi - lo)) * (bottom - top);

  out.push(`<g class="grid" stroke="#e5e5e5" fill="#555">`);
  for (const v of niceTicks(lo, hi)) {
    out.push(`<line x1="${left}" x2="${right}" y1="${r2(y(v))}" y2="${r2(y(v))}"/>`);
    out.push(`<text x="${left - 6}" y="${r2(y(v) + 4)}" text-anchor="end" stroke="none">${numberLabel(v)}</text>`);
  }
  for (const t of gridTimes) out.push(`<line x1="${r2(xOf(t))}" x2="${r2(xOf(t))}" y1="${top}" y2="${bottom}"/>`);
  out.push(`</g>`);
  if (panel.yLabel) {
    const cy = r2((top + bottom) / 2);
    out.push(`<text class="axis-label" x="14" y="${cy}" transform="rotate(-90 14 ${cy})" text-anchor="middle" fill="#333">${esc(panel.yLabel)}</text>`);
  }

  const legend: string[] = [];
  let lx = left;
  const ly = top - LEGEND_H / 2;
  const band = panel.band;
  if (band) {
    const upper = panel.series.find((s) => s.label === band.upper)!.values;
    const lower = panel.series.find((s) => s.label === band.lower)!.values;
    const fill = band.fill ?? BAND_FILL;
    const pieces = runs(n, (i) => finite(upper[i]) && finite(lower[i])).filter((r) => r.length > 1);
    for (const r of pieces) {
      const pts = r.map((i) => `${r2(x(i))},${r2(y(upper[i] as number))}`).concat([...r].reverse().map((i) => `${r2(x(i))},${r2(y(lower[i] as number))}`));
      out.push(`<polygon class="band" points="${pts.join(" ")}" fill="${fill}" fill-opacity="0.25" stroke="none"/>`);
    }
    const label = band.label ?? `${band.lower} – ${band.upper}`;
    legend.push(`<g class="legend-item"><rect x="${lx}" y="${ly - 5}" width="16" height="10" fill="${fill}" fill-opacity="0.35"/><text x="${lx + 20}" y="${ly + 4}">${esc(label)}</text></g>`);
    lx += 20 + label.length * 6.2 + 16;
  }
  for (const g of panel.guides ?? []) {
    if (!(g >= lo && g <= hi)) continue;
    out.push(`<g class="guide" stroke="#888" fill="#666"><line x1="${left}" x2="${right}" y1="${r2(y(g))}" y2="${r2(y(g))}" stroke-dasharray="4 4"/>`);
    // Outside the plot, right of its end, where no line can run over it.
    out.push(`<text x="${right + 4}" y="${r2(y(g) + 4)}" stroke="none">${numberLabel(g)}</text></g>`);
  }

  panel.series.forEach((s, k) => {
    const colour = s.colour ?? COLOURS[k % COLOURS.length]!;
    const dash = s.dash ?? DASHES[k % DASHES.length]!;
    const dashAttr = dash ? ` stroke-dasharray="${dash}"` : "";
    const pieces = runs(n, (i) => finite(s.values[i]));
    const d = pieces
      .filter((r) => r.length > 1)
      .map((r) => r.map((i, j) => `${j ? "L" : "M"}${r2(x(i))},${r2(y(s.values[i] as number))}`).join(" "))
      .join(" ");
    // A value between two gaps has no neighbour to join: a dot keeps it visible.
    const dots = pieces.filter((r) => r.length === 1).map(([i]) => `<circle cx="${r2(x(i!))}" cy="${r2(y(s.values[i!] as number))}" r="2" fill="${colour}" stroke="none"/>`);
    out.push(
      `<g class="series" data-label="${esc(s.label)}" stroke="${colour}" fill="none" stroke-width="1.5"${dashAttr}><title>${esc(s.label)}</title>` +
        (d ? `<path d="${d}"/>` : "") +
        dots.join("") +
        `</g>`,
    );
    legend.push(
      `<g class="legend-item"><line x1="${lx}" x2="${lx + 24}" y1="${ly}" y2="${ly}" stroke="${colour}" stroke-width="2"${dashAttr}/><text x="${lx + 28}" y="${ly + 4}">${esc(s.label)}</text></g>`,
    );
    lx += 28 + s.label.length * 6.2 + 16;
  });
  out.push(`<g class="legend" fill="#222">${legend.join("")}</g>`);
  if (!all.length) out.push(`<text x="${(left + right) / 2}" y="${(top + bottom) / 2}" text-anchor="middle" fill="#888">no values</text>`);
  out.push(`<line x1="${left}" x2="${left}" y1="${top}" y2="${bottom}" stroke="#999"/>`);
  out.push(`<line x1="${left}" x2="${right}" y1="${bottom}" y2="${bottom}" stroke="#999"/>`);
}

/**
 * Series over one time axis as an SVG string, with an optional band between two series and an optional second
 * panel below with its own y scale. `times` are epoch ms, ascending; each series has one value per time.
 * @example
 * tslab.display.svg(lineChartSvg(times, { yLabel: "price", series: [{ label: "close", values: closes }] },
 *   { lower: { yLabel: "RSI", range: [0, 100], guides: [30, 70], series: [{ label: "RSI 14", values: rsis }] } }));
 */
export function lineChartSvg(times: readonly number[], panel: LinePanel, opts: LineChartOptions = {}): string {
  check(times, panel, "upper panel");
  if (opts.lower) check(times, opts.lower, "lower panel");
  for (let i = 1; i < times.length; i++) {
    if (!(times[i]! >= times[i - 1]!)) {
      throw new InputError(`line chart: times must ascend, but time ${i} (${times[i]}) is before time ${i - 1} (${times[i - 1]})`, {
        remedy: "sort the records by start before taking their values",
        context: { field: "times" },
      });
    }
  }
  const width = opts.width ?? 800;
  const height = opts.height ?? (opts.lower ? 480 : 360);
  const xLabel = opts.xLabel ?? "time (UTC)";
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
  ];
  if (opts.title) out.push(`<text x="${width / 2}" y="18" text-anchor="middle" font-size="14" fill="#222">${esc(opts.title)}</text>`);
  const left = 74;
  const guides = [panel, opts.lower].some((p) => p?.guides?.length);
  const right = width - (guides ? 34 : 16);
  const top = (opts.title ? 28 : 6) + LEGEND_H;
  const bottom = height - (xLabel ? 40 : 24);
  const t0 = times[0] ?? 0;
  const t1 = times[times.length - 1] ?? 0;
  const xOf = (t: number) => (t1 > t0 ? left + ((t - t0) / (t1 - t0)) * (right - left) : (left + right) / 2);
  const x = (i: number) => xOf(times[i]!);
  const ticks = timeTicks(t0, t1);

  const share = opts.lower ? Math.min(0.8, Math.max(0.1, opts.lowerShare ?? 0.3)) : 0;
  const plots = bottom - top - (opts.lower ? PANEL_GAP + LEGEND_H : 0);
  const upperBottom = r2(top + plots * (1 - share));
  drawPanel(out, panel, { top, bottom: upperBottom, left, right }, x, times.length, ticks, xOf);
  if (opts.lower) drawPanel(out, opts.lower, { top: r2(upperBottom + PANEL_GAP + LEGEND_H), bottom, left, right }, x, times.length, ticks, xOf);

  out.push(`<g class="time-axis" fill="#555">`);
  for (const t of times.length ? ticks : []) out.push(`<text x="${r2(xOf(t))}" y="${bottom + 15}" text-anchor="middle">${timeLabel(t, t1 - t0)}</text>`);
  out.push(`</g>`);
  if (xLabel) out.push(`<text class="axis-label" x="${r2((left + right) / 2)}" y="${height - 8}" text-anchor="middle" fill="#333">${esc(xLabel)}</text>`);
  out.push("</svg>");
  return out.join("\n");
}
