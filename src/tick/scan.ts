import { parseIsoTime } from "./time.js";
import type { Tick } from "./types.js";

/**
 * A byte-level fast path for JSON Lines ticker messages, used when reading files into columns and when a streaming
 * step decodes Kafka messages. It accepts only lines it can prove are valid JSON objects holding a valid tick in
 * plain form (no escapes, no nesting, simple decimals) and returns false for anything else, which then goes through
 * JSON.parse + validateTick — the one place that decides and explains rejections. So it can only be faster, never
 * different: `tick()` is deep-equal to validateTick's Tick for every accepted line (the tests fuzz this).
 */
export class TickLineScanner {
  productId = "";
  price = 0;
  size = 0;
  time = 0;
  private readonly keys: { bytes: Uint8Array; text: string }[] = [];
  // Field ranges found in the current line ([start, end) of the value; -1 = absent) and their kind (STR, NUM, LIT).
  private typeS = -1;
  private typeE = -1;
  private typeK = 0;
  private prodS = -1;
  private prodE = -1;
  private prodK = 0;
  private priceS = -1;
  private priceE = -1;
  private priceK = 0;
  private sizeS = -1;
  private sizeE = -1;
  private sizeK = 0;
  private timeS = -1;
  private timeE = -1;
  private timeK = 0;
  private sideS = -1;
  private sideE = -1;
  private sideK = 0;
  private tradeS = -1;
  private tradeE = -1;
  private tradeK = 0;
  private seqS = -1;
  private seqE = -1;
  private seqK = 0;
  /** The buffer of the last accepted line: `tick()` reads the optional fields from it. */
  private buf: Uint8Array = EMPTY;

  /** True when buf[from, to) is certainly a valid tick; its values are then in productId/price/size/time. */
  scan(buf: Uint8Array, from: number, to: number): boolean {
    this.typeS = this.prodS = this.priceS = this.sizeS = this.timeS = this.sideS = this.tradeS = this.seqS = -1;
    let i = ws(buf, from, to);
    if (byteAt(buf, i, to) !== 0x7b) return false;
    i = ws(buf, i + 1, to);
    if (byteAt(buf, i, to) === 0x7d) return false;
    for (;;) {
      if (byteAt(buf, i, to) !== 0x22) return false;
      const ks = i + 1;
      const ke = stringEnd(buf, ks, to);
      if (ke < 0) return false;
      i = ws(buf, ke + 1, to);
      if (byteAt(buf, i, to) !== 0x3a) return false;
      i = ws(buf, i + 1, to);
      const vs = i;
      let ve: number;
      let kind: number;
      const c = byteAt(buf, i, to);
      if (c === 0x22) {
        ve = stringEnd(buf, i + 1, to);
        if (ve < 0) return false;
        kind = STR;
        i = ve + 1;
      } else if (c === 0x2d || (c !== undefined && c >= 0x30 && c <= 0x39)) {
        ve = jsonNumber(buf, i, to);
        if (ve < 0) return false;
        kind = NUM;
        i = ve;
      } else if (literal(buf, i, to)) {
        ve = i + (c === 0x66 ? 5 : 4);
        kind = LIT;
        i = ve;
      } else return false;
      this.field(buf, ks, ke, c === 0x22 ? vs + 1 : vs, ve, kind);
      i = ws(buf, i, to);
      if (byteAt(buf, i, to) === 0x2c) {
        i = ws(buf, i + 1, to);
        continue;
      }
      if (byteAt(buf, i, to) === 0x7d) break;
      return false;
    }
    if (ws(buf, i + 1, to) !== to) return false;
    return this.finish(buf);
  }

  private field(buf: Uint8Array, ks: number, ke: number, vs: number, ve: number, kind: number): void {
    const len = ke - ks;
    // The first byte rules out most of the 15 keys of a ticker with one comparison. Later duplicates overwrite
    // earlier ones, as JSON.parse does.
    switch (buf[ks]) {
      case 0x74: // t
        if (len === 4 && same(buf, ks, TYPE)) {
          this.typeS = vs;
          this.typeE = ve;
          this.typeK = kind;
        } else if (len === 4 && same(buf, ks, TIME)) {
          this.timeS = vs;
          this.timeE = ve;
          this.timeK = kind;
        } else if (len === 8 && same(buf, ks, TRADE_ID)) {
          this.tradeS = vs;
          this.tradeE = ve;
          this.tradeK = kind;
        }
        break;
      case 0x70: // p
        if (len === 5 && same(buf, ks, PRICE)) {
          this.priceS = vs;
          this.priceE = ve;
          this.priceK = kind;
        } else if (len === 10 && same(buf, ks, PRODUCT_ID)) {
          this.prodS = vs;
          this.prodE = ve;
          this.prodK = kind;
        }
        break;
      case 0x6c: // l
        if (len === 9 && same(buf, ks, LAST_SIZE)) {
          this.sizeS = vs;
          this.sizeE = ve;
          this.sizeK = kind;
        }
        break;
      case 0x73: // s
        if (len === 4 && same(buf, ks, SIDE)) {
          this.sideS = vs;
          this.sideE = ve;
          this.sideK = kind;
        } else if (len === 8 && same(buf, ks, SEQUENCE)) {
          this.seqS = vs;
          this.seqE = ve;
          this.seqK = kind;
        }
        break;
    }
  }

  private finish(buf: Uint8Array): boolean {
    if (this.typeS < 0 || this.typeK !== STR || this.typeE - this.typeS !== 6 || !same(buf, this.typeS, TICKER)) return false;
    if (this.prodS < 0 || this.prodK !== STR || this.prodE === this.prodS) return false;
    if (this.priceS < 0 || this.sizeS < 0 || this.timeS < 0 || this.timeK !== STR) return false;
    if (this.priceK === LIT || this.sizeK === LIT) return false;
    // Text the Tick keeps is read as latin1, which equals JSON.parse's UTF-8 reading only for ASCII: anything else
    // goes to the slow path. (Non-ASCII in a price, size or time fails their byte checks; a string sequence is
    // dropped by validateTick whatever it holds.)
    if (!ascii(buf, this.prodS, this.prodE)) return false;
    if (this.sideS >= 0 && this.sideK === STR && !ascii(buf, this.sideS, this.sideE)) return false;
    if (this.tradeS >= 0 && this.tradeK === STR && !ascii(buf, this.tradeS, this.tradeE)) return false;
    const price = plainDecimal(buf, this.priceS, this.priceE);
    const size = plainDecimal(buf, this.sizeS, this.sizeE);
    if (!(price > 0) || !(size >= 0)) return false;
    const time = parseIsoTime(latin1(buf, this.timeS, this.timeE));
    if (time === undefined) return false;
    this.productId = this.intern(buf, this.prodS, this.prodE);
    this.price = price;
    this.size = size;
    this.time = time;
    this.buf = buf;
    return true;
  }

  /**
   * The accepted line as a frozen Tick, equal to what validateTick gives (optional fields included); call it after
   * `scan` returned true and before the next `scan` (it reads the optional fields from that line's bytes).
   */
  tick(): Tick {
    const b = this.buf;
    return Object.freeze({
      product_id: this.productId,
      price: this.price,
      last_size: this.size,
      time: this.time,
      side: this.sideS >= 0 && this.sideK === STR ? this.intern(b, this.sideS, this.sideE) : undefined,
      trade_id: this.tradeS < 0 ? undefined : this.tradeK === STR ? latin1(b, this.tradeS, this.tradeE) : this.tradeK === NUM ? jsonNumberValue(b, this.tradeS, this.tradeE) : undefined,
      sequence: this.seqS >= 0 && this.seqK === NUM ? jsonNumberValue(b, this.seqS, this.seqE) : undefined,
    });
  }

  /** Product ids repeat on every line: reuse the string instead of allocating one per tick. */
  private intern(buf: Uint8Array, s: number, e: number): string {
    const n = e - s;
    for (const k of this.keys) {
      if (k.bytes.length !== n) continue;
      let i = 0;
      while (i < n && k.bytes[i] === buf[s + i]) i++;
      if (i === n) return k.text;
    }
    const text = latin1(buf, s, e);
    if (this.keys.length < 64) this.keys.push({ bytes: Uint8Array.from(buf.subarray(s, e)), text });
    return text;
  }
}

function enc(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}
const EMPTY = new Uint8Array(0);
// Kinds of value.
const STR = 0;
const NUM = 1;
const LIT = 2;
// What a byte means inside a string body: one table lookup per byte on the hottest loop.
const PLAIN = 0;
const QUOTE = 1;
const REFUSE = 2;
const STRING_BYTE = Uint8Array.from({ length: 256 }, (_, c) => (c === 0x22 ? QUOTE : c === 0x5c || c < 0x20 ? REFUSE : PLAIN));
const TYPE = enc("type");
const TIME = enc("time");
const PRICE = enc("price");
const SIDE = enc("side");
const TRADE_ID = enc("trade_id");
const SEQUENCE = enc("sequence");
const LAST_SIZE = enc("last_size");
const PRODUCT_ID = enc("product_id");
const TICKER = enc("ticker");
const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);

function same(buf: Uint8Array, at: number, word: Uint8Array): boolean {
  for (let i = 0; i < word.length; i++) if (buf[at + i] !== word[i]) return false;
  return true;
}

/** End index of a string body starting at `i` (the closing quote), or -1 for escapes/control bytes/no end. */
function stringEnd(buf: Uint8Array, i: number, to: number): number {
  for (; i < to; i++) {
    const k = STRING_BYTE[buf[i]!];
    if (k !== PLAIN) return k === QUOTE ? i : -1;
  }
  return -1;
}

function ascii(buf: Uint8Array, s: number, e: number): boolean {
  for (let i = s; i < e; i++) if (buf[i]! >= 0x80) return false;
  return true;
}

function latin1(buf: Uint8Array, s: number, e: number): string {
  // A Buffer decodes a range in place; a plain Uint8Array needs a Buffer view first.
  return buf instanceof Buffer ? buf.toString("latin1", s, e) : Buffer.from(buf.buffer, buf.byteOffset + s, e - s).toString("latin1");
}

function ws(buf: Uint8Array, i: number, to: number): number {
  while (i < to) {
    const c = buf[i];
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d && c !== 0x0a) break;
    i++;
  }
  return i;
}

function literal(buf: Uint8Array, i: number, to: number): boolean {
  const c = buf[i];
  if (c === 0x74) return i + 4 <= to && buf[i + 1] === 0x72 && buf[i + 2] === 0x75 && buf[i + 3] === 0x65;
  if (c === 0x6e) return i + 4 <= to && buf[i + 1] === 0x75 && buf[i + 2] === 0x6c && buf[i + 3] === 0x6c;
  if (c === 0x66) return i + 5 <= to && buf[i + 1] === 0x61 && buf[i + 2] === 0x6c && buf[i + 3] === 0x73 && buf[i + 4] === 0x65;
  return false;
}

// Module-level functions, not closures: tsx (esbuild keepNames) wraps each closure creation in a __name() call.
function digit(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x39;
}

/** buf[i] inside the line, undefined past its end (the buffer goes on with the next line). */
function byteAt(buf: Uint8Array, i: number, to: number): number | undefined {
  return i < to ? buf[i] : undefined;
}

/** End of a JSON number starting at `i` (RFC 8259 grammar) within [i, to), or -1. */
function jsonNumber(buf: Uint8Array, i: number, to: number): number {
  if (byteAt(buf, i, to) === 0x2d) i++;
  if (byteAt(buf, i, to) === 0x30) i++;
  else if (digit(byteAt(buf, i, to))) while (digit(byteAt(buf, i, to))) i++;
  else return -1;
  if (byteAt(buf, i, to) === 0x2e) {
    i++;
    if (!digit(byteAt(buf, i, to))) return -1;
    while (digit(byteAt(buf, i, to))) i++;
  }
  if (byteAt(buf, i, to) === 0x65 || byteAt(buf, i, to) === 0x45) {
    i++;
    if (byteAt(buf, i, to) === 0x2b || byteAt(buf, i, to) === 0x2d) i++;
    if (!digit(byteAt(buf, i, to))) return -1;
    while (digit(byteAt(buf, i, to))) i++;
  }
  return i;
}

/**
 * Value of a JSON number already checked by `jsonNumber`, equal to JSON.parse's: integers of up to 15 digits are
 * exact as they are summed; anything else (fractions, exponents, longer) goes through Number, which rounds the same.
 */
function jsonNumberValue(buf: Uint8Array, s: number, e: number): number {
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
function plainDecimal(buf: Uint8Array, s: number, e: number): number {
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
