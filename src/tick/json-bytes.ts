/**
 * JSON read straight from bytes, for TickLineScanner: white space, strings, numbers and literals each found by
 * where they end (so the caller keeps only index ranges), and the two number readers that equal JSON.parse and
 * Number bit for bit. No function here allocates except `latin1`, which makes the string a caller keeps.
 *
 * The line's closing brace ends every number, literal and run of white space, so only `stringEnd` checks a bound.
 */

/** The bytes of an ASCII text, for the constant patterns the scanner compares with. */
export function enc(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

// Bytes. Every constant a hot loop reads is module-local: V8 compiles those to constants, but reads an exported or
// imported binding through its module cell at every use (in bench/scan-micro.ts a first split of scan.ts that
// imported its constants and tables ran 20-40% slower). Other modules bind what they need from BYTE once, at load:
// `const { QUOTE } = BYTE;`.
const QUOTE = 0x22;
const COMMA = 0x2c;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const COLON = 0x3a;
const BACKSLASH = 0x5c;
const D0 = 0x30;
const D9 = 0x39;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
/** The bytes the scanner compares with itself, to be bound to module-local constants (see above). */
export const BYTE = Object.freeze({ QUOTE, COMMA, MINUS, COLON, D0, D9, LBRACE, RBRACE });
const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);

export function same(buf: Uint8Array, at: number, word: Uint8Array): boolean {
  for (let i = 0; i < word.length; i++) if (buf[at + i] !== word[i]) return false;
  return true;
}

/**
 * End index of a string body starting at `i` (its closing quote), or -1 for an escape, a control byte or no end
 * before `end`. Four bytes at a time: the bytes of a word that are a quote, a backslash or below 0x20 are flagged
 * in one go (the "has a zero byte" test on the word xor'ed with each); the lowest flag is always exact, and in a
 * little-endian word it is the first such byte of the text.
 */
export function stringEnd(buf: Uint8Array, view: DataView, at: number, i: number, end: number): number {
  for (; i + 4 <= end; i += 4) {
    const x = view.getInt32(at + i, true);
    const q = x ^ 0x22222222;
    const b = x ^ 0x5c5c5c5c;
    const flags = (((q - 0x01010101) & ~q) | ((b - 0x01010101) & ~b) | ((x - 0x20202020) & ~x)) & 0x80808080;
    if (flags !== 0) {
      i += (31 - Math.clz32(flags & -flags)) >> 3;
      return buf[i] === QUOTE ? i : -1;
    }
  }
  for (; i < end; i++) {
    const c = buf[i]!;
    if (c === QUOTE) return i;
    if (c === BACKSLASH || c < 0x20) return -1;
  }
  return -1;
}

export function ascii(buf: Uint8Array, s: number, e: number): boolean {
  for (let i = s; i < e; i++) if (buf[i]! >= 0x80) return false;
  return true;
}

export function latin1(buf: Uint8Array, s: number, e: number): string {
  // A Buffer decodes a range in place; a plain Uint8Array needs a Buffer view first.
  return buf instanceof Buffer ? buf.toString("latin1", s, e) : Buffer.from(buf.buffer, buf.byteOffset + s, e - s).toString("latin1");
}

// Module-level functions, not closures: tsx (esbuild keepNames) wraps each closure creation in a __name() call.
export function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** The first non-white-space index from `i` (the line's closing brace stops it). */
export function ws(buf: Uint8Array, i: number): number {
  while (isWs(buf[i]!)) i++;
  return i;
}

function digit(c: number): boolean {
  return c >= D0 && c <= D9;
}

/** End of true/false/null at `i`, or -1. */
export function literalEnd(buf: Uint8Array, i: number): number {
  const c = buf[i];
  if (c === 0x74) return buf[i + 1] === 0x72 && buf[i + 2] === 0x75 && buf[i + 3] === 0x65 ? i + 4 : -1;
  if (c === 0x6e) return buf[i + 1] === 0x75 && buf[i + 2] === 0x6c && buf[i + 3] === 0x6c ? i + 4 : -1;
  if (c === 0x66) return buf[i + 1] === 0x61 && buf[i + 2] === 0x6c && buf[i + 3] === 0x73 && buf[i + 4] === 0x65 ? i + 5 : -1;
  return -1;
}

/** End of a JSON number (RFC 8259 grammar) starting at `i`, or -1; the closing brace ends it at the latest. */
export function jsonNumber(buf: Uint8Array, i: number): number {
  if (buf[i] === MINUS) i++;
  if (buf[i] === D0) i++;
  else if (digit(buf[i]!)) while (digit(buf[i]!)) i++;
  else return -1;
  if (buf[i] === DOT) {
    i++;
    if (!digit(buf[i]!)) return -1;
    while (digit(buf[i]!)) i++;
  }
  const e = buf[i];
  if (e === 0x65 || e === 0x45) {
    i++;
    if (buf[i] === PLUS || buf[i] === MINUS) i++;
    if (!digit(buf[i]!)) return -1;
    while (digit(buf[i]!)) i++;
  }
  return i;
}

/**
 * Value of a JSON number already checked by `jsonNumber`, equal to JSON.parse's: integers of up to 15 digits are
 * exact as they are summed; anything else (fractions, exponents, longer) goes through Number, which rounds the same.
 */
export function jsonNumberValue(buf: Uint8Array, s: number, e: number): number {
  const neg = buf[s] === 0x2d;
  if (e - s - (neg ? 1 : 0) > 15) return Number(latin1(buf, s, e));
  let m = 0;
  for (let i = neg ? s + 1 : s; i < e; i++) {
    const c = buf[i]!;
    if (c < 0x30 || c > 0x39) return Number(latin1(buf, s, e));
    m = m * 10 + (c - 0x30);
  }
  // -m keeps JSON.parse's -0 for "-0".
  return neg ? -m : m;
}

/**
 * Value of `digits[.digits]` in buf[s, e), or NaN for any other form (left to the slow path). Up to 15 digits it
 * divides an exact integer by an exact power of ten — one correctly rounded operation, so the result equals
 * Number(text) bit for bit; longer numbers go through Number itself.
 */
export function plainDecimal(buf: Uint8Array, s: number, e: number): number {
  let m = 0;
  let digits = 0;
  let frac = -1;
  for (let i = s; i < e; i++) {
    const c = buf[i]!;
    if (c >= 0x30 && c <= 0x39) {
      m = m * 10 + (c - 0x30);
      digits++;
      if (frac >= 0) frac++;
    } else if (c === 0x2e && frac < 0 && digits > 0) frac = 0;
    else return Number.NaN;
  }
  if (digits === 0 || frac === 0) return Number.NaN;
  if (digits > 15) return Number(latin1(buf, s, e));
  return frac > 0 ? m / POW10[frac]! : m;
}
