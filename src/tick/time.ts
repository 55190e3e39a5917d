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

function digits(s: string, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const c = s.charCodeAt(i);
    // Written as a negation so NaN (past the end) fails too.
    if (!(c >= C_D0 && c <= C_D9)) return -1;
    v = v * 10 + (c - C_D0);
  }
  return v;
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

/**
 * Epoch milliseconds of an ISO-8601 date-time with a zone, floored to the millisecond, or `undefined` when the text
 * is not one. Accepted: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±hh:mm|±hhmm)`; any number of fraction digits ('.' or ',').
 * @example parseIsoTime("2021-04-17T16:43:30.244075Z") === 1618677810244
 */
export function parseIsoTime(s: string): number | undefined {
  if (s.length < 20) return undefined;
  const y = digits(s, 0, 4);
  const mo = digits(s, 5, 2);
  const d = digits(s, 8, 2);
  const h = digits(s, 11, 2);
  const mi = digits(s, 14, 2);
  const sec = digits(s, 17, 2);
  const sep = s.charCodeAt(10);
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
    s.charCodeAt(4) !== C_DASH ||
    s.charCodeAt(7) !== C_DASH ||
    (sep !== C_T && sep !== C_t) ||
    s.charCodeAt(13) !== C_COLON ||
    s.charCodeAt(16) !== C_COLON ||
    d > daysInMonth(y, mo)
  ) {
    return undefined;
  }
  let i = 19;
  let ms = 0;
  const dot = s.charCodeAt(i);
  if (dot === C_DOT || dot === C_COMMA) {
    i++;
    const from = i;
    while (i < s.length) {
      const c = s.charCodeAt(i);
      if (!(c >= C_D0 && c <= C_D9)) break;
      // Only the first three digits matter: flooring, never rounding.
      if (i - from < 3) ms += (c - C_D0) * (i - from === 0 ? 100 : i - from === 1 ? 10 : 1);
      i++;
    }
    if (i === from) return undefined;
  }
  let offsetMin = 0;
  const zc = s.charCodeAt(i);
  if (zc === C_Z || zc === C_z) {
    i++;
  } else if (zc === C_PLUS || zc === C_DASH) {
    const oh = digits(s, i + 1, 2);
    const colon = s.charCodeAt(i + 3) === C_COLON;
    const om = digits(s, i + (colon ? 4 : 3), 2);
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return undefined;
    offsetMin = (zc === C_DASH ? -1 : 1) * (oh * 60 + om);
    i += colon ? 6 : 5;
  } else {
    return undefined;
  }
  if (i !== s.length) return undefined;
  return ((daysFromCivil(y, mo, d) * 24 + h) * 60 + mi - offsetMin) * 60_000 + sec * 1000 + ms;
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
