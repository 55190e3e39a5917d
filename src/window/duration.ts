import { InputError } from "../errors/index.js";

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  sec: 1_000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|sec|m|min|h|d)$/i;

/**
 * Milliseconds in a duration: "1h", "1m" / "1min", "60s", "500ms", "1d", or a number (already ms).
 * `what` names the input in the error (e.g. "--duration", "window size").
 * @example parseDuration("1min") === 60_000
 */
export function parseDuration(input: string | number, what = "duration"): number {
  if (typeof input === "number") {
    if (Number.isFinite(input) && input >= 0) return input;
    throw bad(String(input), what);
  }
  const text = input.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const m = DURATION.exec(text);
  if (!m) throw bad(input, what);
  const ms = Number(m[1]) * (UNIT_MS[m[2]!.toLowerCase()] ?? Number.NaN);
  // A fractional result ("1.5ms") cannot be a window boundary on the millisecond grid.
  if (!Number.isInteger(ms)) throw bad(input, what);
  return ms;
}

/** The shortest exact spelling of a duration, for names and help text (60000 → "1m", 1500 → "1500ms"). */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ["d", 86_400_000],
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1_000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

function bad(input: string, what: string): InputError {
  return new InputError(`bad ${what} '${input}'`, {
    remedy: "write a duration like 500ms, 60s, 1m (or 1min), 1h, 1d, or a number of milliseconds",
    context: { field: what },
  });
}
