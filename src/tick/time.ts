/**
 * Event-time parsing, by hand: how `Date.parse` treats more than three fraction digits is implementation-defined
 * (flooring is not promised), and it reads zone-less text as local time. DESIGN.md wants ISO-8601 with a zone,
 * floored to the millisecond, on every runtime.
 */

const C_D0 = 48;
const C_D9 = 57;
const C_DASH = 45;
const C_PLUS = 43;
const C_COLON = 58;
const C_DOT = 46;
const C_COMMA = 44;
const C_T = 84;
const C_t = 116;
const C_Z = 90;
const C_z = 122;

/** The value of the two ASCII digits at b[at, at+2), or -1 if either is not a digit; callers keep at+2 in the text. */
function two(b: Uint8Array, at: number): number {
  const hi = b[at]! - C_D0;
  const lo = b[at + 1]! - C_D0;
  // `>>> 0` sends anything below '0' far above 9.
  return hi >>> 0 <= 9 && lo >>> 0 <= 9 ? hi * 10 + lo : -1;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

// The last valid date parseIsoBytes read, and its day number.
let lastY = 1970;
let lastMo = 1;
let lastD = 1;
let lastDays = 0;

/**
 * `parseIsoTime` over the bytes b[s, e) — the one implementation: the string form copies its text here, so a tick
 * read straight from a Kafka message or a file and one read through JSON.parse get the same time or are both refused.
 * @example parseIsoBytes(Buffer.from('"2021-04-17T16:43:30.244075Z"'), 1, 28) === 1618677810244
 */
export function parseIsoBytes(b: Uint8Array, s: number, e: number): number | undefined {
  if (e - s < 20 || e > b.length) return undefined;
  const century = two(b, s);
  const yy = two(b, s + 2);
  const y = century < 0 || yy < 0 ? -1 : century * 100 + yy;
  const mo = two(b, s + 5);
  const d = two(b, s + 8);
  const h = two(b, s + 11);
  const mi = two(b, s + 14);
  const sec = two(b, s + 17);
  const sep = b[s + 10];
  if (
    y < 0 ||
    mo < 1 ||
    mo > 12 ||
    d < 1 ||
    h < 0 ||
    h > 23 ||
    mi < 0 ||
    mi > 59 ||
    sec < 0 ||
    sec > 59 ||
    b[s + 4] !== C_DASH ||
    b[s + 7] !== C_DASH ||
    (sep !== C_T && sep !== C_t) ||
    b[s + 13] !== C_COLON ||
    b[s + 16] !== C_COLON
  ) {
    return undefined;
  }
  // Ticks come in runs of the same day: keep that day's number instead of redoing the calendar for each.
  if (y !== lastY || mo !== lastMo || d !== lastD) {
    if (d > daysInMonth(y, mo)) return undefined;
    lastDays = daysFromCivil(y, mo, d);
    lastY = y;
    lastMo = mo;
    lastD = d;
  }
  let i = s + 19;
  let ms = 0;
  const dot = b[i];
  if (dot === C_DOT || dot === C_COMMA) {
    i++;
    const from = i;
    while (i < e) {
      const c = b[i]!;
      if (c < C_D0 || c > C_D9) break;
      // Only the first three digits matter: flooring, never rounding.
      if (i - from < 3) ms += (c - C_D0) * (i - from === 0 ? 100 : i - from === 1 ? 10 : 1);
      i++;
    }
    if (i === from) return undefined;
  }
  let offsetMin = 0;
  const zc = i < e ? b[i] : undefined;
  if (zc === C_Z || zc === C_z) {
    i++;
  } else if (zc === C_PLUS || zc === C_DASH) {
    // ±hh:mm or ±hhmm, and nothing after it (checked below): read no digit past the end.
    const colon = i + 3 < e && b[i + 3] === C_COLON;
    if (i + (colon ? 6 : 5) > e) return undefined;
    const oh = two(b, i + 1);
    const om = two(b, i + (colon ? 4 : 3));
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return undefined;
    offsetMin = (zc === C_DASH ? -1 : 1) * (oh * 60 + om);
    i += colon ? 6 : 5;
  } else {
    return undefined;
  }
  if (i !== e) return undefined;
  return ((lastDays * 24 + h) * 60 + mi - offsetMin) * 60_000 + sec * 1000 + ms;
}

let scratch = new Uint8Array(64);

/**
 * Epoch milliseconds of an ISO-8601 date-time with a zone, floored to the millisecond, or `undefined` when the text
 * is not one. Accepted: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±hh:mm|±hhmm)`; any number of fraction digits ('.' or ',').
 * @example parseIsoTime("2021-04-17T16:43:30.244075Z") === 1618677810244
 */
export function parseIsoTime(s: string): number | undefined {
  const n = s.length;
  if (n < 20) return undefined;
  if (n > scratch.length) scratch = new Uint8Array(n);
  const b = scratch;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    // Every accepted character is ASCII; anything else must not be truncated into one (U+0130 & 0xff is "0").
    if (c > 0x7f) return undefined;
    b[i] = c;
  }
  return parseIsoBytes(b, 0, n);
}

/** Unit of a numeric epoch column in a CSV mapping (`time=timestamp:us`). */
export type EpochUnit = "s" | "ms" | "us" | "ns";

const SHIFT: Record<EpochUnit, number> = { s: 3, ms: 0, us: -3, ns: -6 };

/**
 * Epoch milliseconds (floored) of a non-negative decimal epoch number in `unit`, by moving the decimal point in the
 * text, so nanosecond values beyond 2^53 and fractional seconds lose nothing before the floor. `undefined` if bad.
 * @example epochToMs("1582329602111000", "us") === 1582329602111
 */
export function epochToMs(text: string, unit: EpochUnit): number | undefined {
  const m = /^(\d+)(?:\.(\d*))?$/.exec(text);
  if (!m) return undefined;
  const all = m[1]! + (m[2] ?? "");
  const point = m[1]!.length + SHIFT[unit];
  if (point <= 0) return 0;
  const whole = point >= all.length ? all + "0".repeat(point - all.length) : all.slice(0, point);
  const v = Number(whole);
  return Number.isSafeInteger(v) ? v : undefined;
}
