import type { WindowRecord } from "../feature/types.js";
import { esc, niceTicks, numberLabel, r2, timeLabel } from "./svg.js";

export { niceTicks };

/** The fields a candle needs; any OHLCV window record has them. */
export type Candle = WindowRecord<{ open: number; high: number; low: number; close: number; volume?: number }>;

export interface CandleChartOptions {
  width?: number;
  height?: number;
  title?: string;
  /** Which key to draw when records hold several (default: the first record's key). */
  key?: string;
  /** Volume bars under the candles (default true when records have volume). */
  volume?: boolean;
  /** Colours of rising and falling candles. */
  up?: string;
  down?: string;
}

/**
 * A candlestick chart of window records as an SVG string (pure: no DOM, no browser). In a tslab notebook:
 * `tslab.display.svg(candlestickSvg(records, { title: "ETH-USD 1m" }))`.
 */
export function candlestickSvg(records: readonly Candle[], opts: CandleChartOptions = {}): string {
  const width = opts.width ?? 800;
  const height = opts.height ?? 400;
  const up = opts.up ?? "#26a69a";
  const down = opts.down ?? "#ef5350";
  const key = opts.key ?? records[0]?.key;
  const rows = records.filter((r) => r.key === key).sort((a, b) => a.start - b.start);
  const title = opts.title ?? (key ? `${key}` : "");
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
  ];
  if (title) out.push(`<text x="${width / 2}" y="18" text-anchor="middle" font-size="14" fill="#222">${esc(title)}</text>`);
  const first = rows[0];
  const last = rows[rows.length - 1];
  if (!first || !last) {
    out.push(`<text x="${width / 2}" y="${height / 2}" text-anchor="middle" fill="#888">no windows</text>`, "</svg>");
    return out.join("\n");
  }
  const showVolume = (opts.volume ?? true) && rows.some((r) => typeof r.volume === "number");
  const left = 70;
  const right = width - 16;
  const top = title ? 30 : 12;
  const bottom = height - 26;
  const priceBottom = showVolume ? top + (bottom - top) * 0.75 : bottom;
  const volTop = priceBottom + 8;

  let lo = Math.min(...rows.map((r) => r.low));
  let hi = Math.max(...rows.map((r) => r.high));
  const pad = (hi - lo) * 0.05 || Math.abs(hi) * 0.01 || 1;
  lo -= pad;
  hi += pad;
  const t0 = first.start;
  const t1 = last.end;
  const x = (t: number) => left + ((t - t0) / (t1 - t0)) * (right - left);
  const y = (p: number) => priceBottom - ((p - lo) / (hi - lo)) * (priceBottom - top);
  // Candle width follows the spacing of starts, so hopping windows (overlapping) stay readable.
  let spacing = first.end - first.start;
  for (let i = 1; i < rows.length; i++) spacing = Math.min(spacing, rows[i]!.start - rows[i - 1]!.start || spacing);
  const body = Math.max(1, ((spacing / (t1 - t0)) * (right - left)) * 0.7);

  out.push(`<g stroke="#e5e5e5" fill="#555">`);
  for (const v of niceTicks(lo, hi)) {
    out.push(`<line x1="${left}" x2="${right}" y1="${r2(y(v))}" y2="${r2(y(v))}"/>`);
    out.push(`<text x="${left - 6}" y="${r2(y(v) + 4)}" text-anchor="end" stroke="none">${numberLabel(v)}</text>`);
  }
  // Labels sit on window starts, which are round times on the window grid.
  const labels = Math.min(6, rows.length);
  for (let i = 0; i < labels; i++) {
    const t = rows[Math.round((i * (rows.length - 1)) / Math.max(1, labels - 1))]!.start;
    out.push(`<text x="${r2(x(t))}" y="${height - 8}" text-anchor="middle" stroke="none">${timeLabel(t, t1 - t0)}</text>`);
  }
  out.push(`</g>`);
  out.push(`<line x1="${left}" x2="${left}" y1="${top}" y2="${bottom}" stroke="#999"/>`);
  out.push(`<line x1="${left}" x2="${right}" y1="${bottom}" y2="${bottom}" stroke="#999"/>`);

  const maxVol = showVolume ? Math.max(...rows.map((r) => r.volume ?? 0)) || 1 : 1;
  for (const r of rows) {
    const colour = r.close >= r.open ? up : down;
    const cx = r2(x(r.start + spacing / 2));
    const yTop = y(Math.max(r.open, r.close));
    const h = Math.max(1, y(Math.min(r.open, r.close)) - yTop);
    out.push(
      `<g class="candle ${r.close >= r.open ? "up" : "down"}" stroke="${colour}" fill="${colour}"><title>${esc(
        `${new Date(r.start).toISOString()} O ${r.open} H ${r.high} L ${r.low} C ${r.close}${r.volume === undefined ? "" : ` V ${r.volume}`}`,
      )}</title>` +
        `<line x1="${cx}" x2="${cx}" y1="${r2(y(r.high))}" y2="${r2(y(r.low))}"/>` +
        `<rect x="${r2(cx - body / 2)}" y="${r2(yTop)}" width="${r2(body)}" height="${r2(h)}"/></g>`,
    );
    if (showVolume && r.volume) {
      const vh = ((r.volume / maxVol) * (bottom - volTop));
      out.push(`<rect class="volume" x="${r2(cx - body / 2)}" y="${r2(bottom - vh)}" width="${r2(body)}" height="${r2(vh)}" fill="${colour}" opacity="0.4"/>`);
    }
  }
  out.push("</svg>");
  return out.join("\n");
}
