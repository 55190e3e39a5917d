/** Small pieces the SVG charts share (pure string helpers, no DOM). */

/** Text or an attribute value made safe for SVG. */
export const esc = (s: string) => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A coordinate rounded to 0.01 px: short output, no visible difference. */
export const r2 = (n: number) => Math.round(n * 100) / 100;

/** About `count` round tick values covering [lo, hi] (steps of 1, 2 or 5 × 10^k). */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** A tick value as an axis label: grouped thousands, no float noise. */
export const numberLabel = (v: number) => v.toLocaleString("en-US", { maximumFractionDigits: 8 });

/** A UTC time label as short as the span allows: MM-DD over days, HH:MM over hours or on whole minutes, else HH:MM:SS. */
export function timeLabel(ms: number, spanMs: number): string {
  const iso = new Date(ms).toISOString();
  if (spanMs > 2 * 86_400_000) return iso.slice(5, 10);
  if (spanMs > 3_600_000 * 6 || ms % 60_000 === 0) return iso.slice(11, 16);
  return iso.slice(11, 19);
}
