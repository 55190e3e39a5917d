import { parseIsoBytes } from "./time.js";
import type { Tick } from "./types.js";

/**
 * A byte-level fast path for JSON Lines ticker messages, used when reading files into columns and when a streaming
 * step decodes Kafka messages. It accepts only lines it can prove are valid JSON objects holding a valid tick in
 * plain form (no escapes, no nesting, simple decimals) and returns false for anything else, which then goes through
 * JSON.parse + validateTick — the one place that decides and explains rejections. So it can only be faster, never
 * different: `tick()` is deep-equal to validateTick's Tick for every accepted line (the tests fuzz this).
 *
 * Two readings of the same rules: `compact` takes the exchange's own layout (its keys in its order, no white space)
 * by comparing the constant text between values eight bytes at a time, and `general` takes any other object of
 * plain values. Every byte of an accepted line is checked by one of them.
 */
export class TickLineScanner {
  productId = "";
  price = 0;
  size = 0;
  time = 0;
  /** The side of the last accepted line, for `tick()`. */
  private side: string | undefined = undefined;
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
  private backing: ArrayBufferLike = EMPTY.buffer;
  private view = new DataView(EMPTY.buffer);
  private readonly internBytes: Uint8Array[] = Array.from({ length: INTERN_SLOTS }, () => EMPTY);
  private readonly internText: string[] = Array.from({ length: INTERN_SLOTS }, () => "");

  /** True when buf[from, to) is certainly a valid tick; its values are then in productId/price/size/time. */
  scan(buf: Uint8Array, from: number, to: number): boolean {
    let start = from;
    while (start < to && isWs(buf[start]!)) start++;
    let end = to - 1;
    while (end > start && isWs(buf[end]!)) end--;
    if (end <= start || buf[start] !== LBRACE || buf[end] !== RBRACE) return false;
    // From here on buf[end] is the closing brace, which ends every number, literal, key pattern and run of white
    // space: only a string body or a separator can run into it, so only those check a bound. Words are read through
    // a DataView of the whole backing store (one per store: a Kafka batch, a file chunk, Node's Buffer pool).
    if (buf.buffer !== this.backing) {
      this.backing = buf.buffer;
      this.view = new DataView(buf.buffer);
    }
    const view = this.view;
    const at = buf.byteOffset;
    const layout = this.compact(buf, view, at, start, end);
    if (layout === REFUSED || (layout === OTHER_LAYOUT && !this.general(buf, view, at, start, end))) return false;
    return this.finish(buf);
  }

  /**
   * The exchange's own layout: Coinbase writes compact JSON with its keys in one order (ORDER), so what comes
   * before each value is constant text, a separator (`,"price":"`), compared in two or three words.
   * OTHER_LAYOUT sends any other line to the general path; REFUSED means that no path can take it.
   */
  private compact(buf: Uint8Array, view: DataView, at: number, start: number, end: number): number {
    this.typeS = this.prodS = this.priceS = this.sizeS = this.timeS = this.sideS = this.tradeS = this.seqS = -1;
    let i = start;
    for (let k = 0; k < ORDER_N; k++) {
      const n = SEP_LEN[k]!;
      // A key may be missing (best_bid_size is only in newer feeds): what is there must still be in this order.
      if (i + n > end || !separatorAt(view, at + i, k)) continue;
      i += n;
      const field = ORDER_FIELD[k]!;
      if (ORDER_KIND[k] === STR) {
        // An escape or a control byte is refused by the general path too.
        const ve = stringEnd(buf, view, at, i, end);
        if (ve < 0) return REFUSED;
        if (field !== OTHER) this.field(field, i, ve, STR);
        i = ve + 1;
      } else {
        // Not a number here may still be JSON (a string sequence): the general path decides.
        const ve = jsonNumber(buf, i);
        if (ve < 0) return OTHER_LAYOUT;
        if (field !== OTHER) this.field(field, i, ve, NUM);
        i = ve;
      }
    }
    return i === end ? COMPACT : OTHER_LAYOUT;
  }

  /** Any JSON object of plain values: white space, keys in any order, duplicates, nested values refused. */
  private general(buf: Uint8Array, view: DataView, at: number, start: number, end: number): boolean {
    this.typeS = this.prodS = this.priceS = this.sizeS = this.timeS = this.sideS = this.tradeS = this.seqS = -1;
    let i = ws(buf, start + 1);
    if (i === end) return false;
    // Try the key expected next as a whole pattern, `"key":`, then the one after it; anything else is read as a
    // string and looked up, and the expectation re-syncs to it.
    let next = 0;
    for (;;) {
      if (buf[i] !== QUOTE) return false;
      let field: number;
      if (next < ORDER_N && keyAt(buf, i, next)) {
        field = ORDER_FIELD[next]!;
        i += PAT_AT[next + 1]! - PAT_AT[next]!;
        next++;
      } else if (next + 1 < ORDER_N && keyAt(buf, i, next + 1)) {
        field = ORDER_FIELD[next + 1]!;
        i += PAT_AT[next + 2]! - PAT_AT[next + 1]!;
        next += 2;
      } else {
        const ke = stringEnd(buf, view, at, i + 1, end);
        if (ke < 0) return false;
        const k = orderOf(buf, i + 1, ke);
        if (k >= 0) next = k + 1;
        field = k >= 0 ? ORDER_FIELD[k]! : OTHER;
        i = ws(buf, ke + 1);
        if (buf[i] !== COLON) return false;
        i++;
      }
      i = ws(buf, i);
      const c = buf[i]!;
      let vs = i;
      let ve: number;
      let kind: number;
      if (c === QUOTE) {
        vs = i + 1;
        ve = stringEnd(buf, view, at, vs, end);
        if (ve < 0) return false;
        kind = STR;
        i = ve + 1;
      } else if (c === MINUS || (c >= D0 && c <= D9)) {
        ve = jsonNumber(buf, i);
        if (ve < 0) return false;
        kind = NUM;
        i = ve;
      } else {
        ve = literalEnd(buf, i);
        if (ve < 0) return false;
        kind = LIT;
        i = ve;
      }
      if (field !== OTHER) this.field(field, vs, ve, kind);
      i = ws(buf, i);
      const d = buf[i];
      if (d === COMMA) {
        i = ws(buf, i + 1);
        continue;
      }
      if (d === RBRACE && i === end) return true;
      return false;
    }
  }

  /** Keep where a value of interest is; a later duplicate overwrites an earlier one, as in JSON.parse. */
  private field(field: number, vs: number, ve: number, kind: number): void {
    switch (field) {
      case F_TYPE:
        this.typeS = vs;
        this.typeE = ve;
        this.typeK = kind;
        break;
      case F_PRODUCT:
        this.prodS = vs;
        this.prodE = ve;
        this.prodK = kind;
        break;
      case F_PRICE:
        this.priceS = vs;
        this.priceE = ve;
        this.priceK = kind;
        break;
      case F_SIZE:
        this.sizeS = vs;
        this.sizeE = ve;
        this.sizeK = kind;
        break;
      case F_TIME:
        this.timeS = vs;
        this.timeE = ve;
        this.timeK = kind;
        break;
      case F_SIDE:
        this.sideS = vs;
        this.sideE = ve;
        this.sideK = kind;
        break;
      case F_TRADE:
        this.tradeS = vs;
        this.tradeE = ve;
        this.tradeK = kind;
        break;
      case F_SEQUENCE:
        this.seqS = vs;
        this.seqE = ve;
        this.seqK = kind;
        break;
    }
  }

  private finish(buf: Uint8Array): boolean {
    if (this.typeS < 0 || this.typeK !== STR || this.typeE - this.typeS !== 6 || !same(buf, this.typeS, TICKER)) return false;
    if (this.prodS < 0 || this.prodK !== STR || this.prodE === this.prodS) return false;
    if (this.priceS < 0 || this.sizeS < 0 || this.timeS < 0 || this.timeK !== STR) return false;
    if (this.priceK === LIT || this.sizeK === LIT) return false;
    const price = plainDecimal(buf, this.priceS, this.priceE);
    const size = plainDecimal(buf, this.sizeS, this.sizeE);
    if (!(price > 0) || !(size >= 0)) return false;
    const time = parseIsoBytes(buf, this.timeS, this.timeE);
    if (time === undefined) return false;
    // Text the Tick keeps is read as latin1, which equals JSON.parse's UTF-8 reading only for ASCII: anything else
    // goes to the slow path (intern gives undefined). Non-ASCII in a price, size or time fails their byte checks; a
    // string sequence is dropped by validateTick whatever it holds.
    const productId = this.intern(buf, this.prodS, this.prodE);
    if (productId === undefined) return false;
    let side: string | undefined;
    if (this.sideS >= 0 && this.sideK === STR) {
      side = sideText(buf, this.sideS, this.sideE) ?? this.intern(buf, this.sideS, this.sideE);
      if (side === undefined) return false;
    }
    if (this.tradeS >= 0 && this.tradeK === STR && !ascii(buf, this.tradeS, this.tradeE)) return false;
    this.productId = productId;
    this.price = price;
    this.size = size;
    this.time = time;
    this.side = side;
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
      side: this.side,
      trade_id: this.tradeS < 0 ? undefined : this.tradeK === STR ? latin1(b, this.tradeS, this.tradeE) : this.tradeK === NUM ? jsonNumberValue(b, this.tradeS, this.tradeE) : undefined,
      sequence: this.seqS >= 0 && this.seqK === NUM ? jsonNumberValue(b, this.seqS, this.seqE) : undefined,
    });
  }

  /**
   * Product ids repeat on every line: reuse the string instead of allocating one per tick. A small table indexed by
   * a hash of the bytes, so a feed of hundreds of products costs one lookup, not a search; a clash just replaces.
   * Undefined for text that is not ASCII.
   */
  private intern(buf: Uint8Array, s: number, e: number): string | undefined {
    const n = e - s;
    let h = n;
    let all = 0;
    for (let i = s; i < e; i++) {
      const c = buf[i]!;
      all |= c;
      h = (Math.imul(h, 31) + c) | 0;
    }
    if (all >= 0x80) return undefined;
    const slot = (h ^ (h >>> 10)) & (INTERN_SLOTS - 1);
    const bytes = this.internBytes[slot]!;
    if (bytes.length === n) {
      let i = 0;
      while (i < n && bytes[i] === buf[s + i]) i++;
      if (i === n) return this.internText[slot]!;
    }
    const text = latin1(buf, s, e);
    // A copy: a view (what a Buffer's slice() gives) would keep a whole Kafka batch or file chunk alive.
    this.internBytes[slot] = Uint8Array.from(buf.subarray(s, e));
    this.internText[slot] = text;
    return text;
  }
}

function enc(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}
const EMPTY = new Uint8Array(0);
const INTERN_SLOTS = 256;
// Bytes.
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
// Kinds of value.
const STR = 0;
const NUM = 1;
const LIT = 2;
// The fields a Tick reads; OTHER is every other key.
const OTHER = 0;
const F_TYPE = 1;
const F_PRODUCT = 2;
const F_PRICE = 3;
const F_SIZE = 4;
const F_TIME = 5;
const F_SIDE = 6;
const F_TRADE = 7;
const F_SEQUENCE = 8;
// What compact() found.
const COMPACT = 0;
const OTHER_LAYOUT = 1;
const REFUSED = 2;
/**
 * The keys of a Coinbase ticker message in the order the exchange writes them, and the kind of value it writes for
 * each (best_bid_size and best_ask_size are in newer feeds only). Only speed depends on it: a line in any other
 * form is read by the general path.
 */
const ORDER: readonly { key: string; field: number; kind: number }[] = [
  { key: "type", field: F_TYPE, kind: STR },
  { key: "sequence", field: F_SEQUENCE, kind: NUM },
  { key: "product_id", field: F_PRODUCT, kind: STR },
  { key: "price", field: F_PRICE, kind: STR },
  { key: "open_24h", field: OTHER, kind: STR },
  { key: "volume_24h", field: OTHER, kind: STR },
  { key: "low_24h", field: OTHER, kind: STR },
  { key: "high_24h", field: OTHER, kind: STR },
  { key: "volume_30d", field: OTHER, kind: STR },
  { key: "best_bid", field: OTHER, kind: STR },
  { key: "best_bid_size", field: OTHER, kind: STR },
  { key: "best_ask", field: OTHER, kind: STR },
  { key: "best_ask_size", field: OTHER, kind: STR },
  { key: "side", field: F_SIDE, kind: STR },
  { key: "time", field: F_TIME, kind: STR },
  { key: "trade_id", field: F_TRADE, kind: NUM },
  { key: "last_size", field: F_SIZE, kind: STR },
];
const ORDER_N = ORDER.length;
const ORDER_FIELD = Uint8Array.from(ORDER, (o) => o.field);
const ORDER_KIND = Uint8Array.from(ORDER, (o) => o.kind);

/** Texts laid end to end in one byte array: text k is BYTES[AT[k], AT[k + 1]). */
function table(texts: string[]): { bytes: Uint8Array; at: Int32Array } {
  const at = new Int32Array(texts.length + 1);
  texts.forEach((t, k) => {
    at[k + 1] = at[k]! + t.length;
  });
  return { bytes: enc(texts.join("")), at };
}
// The general path's key patterns, `"key":`.
const { bytes: PATTERNS, at: PAT_AT } = table(ORDER.map((o) => `"${o.key}":`));
// compact()'s separators: what comes before each value, `{"type":"`, `,"sequence":`, `,"product_id":"`, …
const { bytes: SEPARATORS, at: SEP_AT } = table(ORDER.map((o, k) => `${k === 0 ? "{" : ","}"${o.key}":${o.kind === STR ? '"' : ""}`));
/**
 * The separators as 8-byte words read as float64s: between normal doubles `===` holds only for identical bit
 * patterns (it is NaN, ±0 and subnormals that have other rules), so one comparison checks eight bytes. Printable
 * ASCII always reads as a normal double, which `word` makes sure of. A separator is 8 to 24 bytes long and is
 * compared as its first 8 bytes, its last 8 (overlapping the first) and, past 16 bytes, the 8 after the first.
 */
function word(text: Uint8Array, at: number): number {
  const w = new DataView(text.buffer, text.byteOffset).getFloat64(at, true);
  if (!(Math.abs(w) >= 2 ** -1022 && Math.abs(w) < Number.POSITIVE_INFINITY)) throw new Error("a separator must read as a normal double");
  return w;
}
const SEP_LEN = Int32Array.from({ length: ORDER_N }, (_, k) => SEP_AT[k + 1]! - SEP_AT[k]!);
if (SEP_LEN.some((n) => n < 8 || n > 24)) throw new Error("separators must be 8 to 24 bytes long");
const SEP_HEAD = Float64Array.from(SEP_LEN, (_, k) => word(SEPARATORS, SEP_AT[k]!));
const SEP_MID = Float64Array.from(SEP_LEN, (n, k) => word(SEPARATORS, SEP_AT[k]! + Math.min(8, n - 8)));
const SEP_TAIL = Float64Array.from(SEP_LEN, (n, k) => word(SEPARATORS, SEP_AT[k]! + n - 8));
const TICKER = enc("ticker");
const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);

function same(buf: Uint8Array, at: number, word: Uint8Array): boolean {
  for (let i = 0; i < word.length; i++) if (buf[at + i] !== word[i]) return false;
  return true;
}

/** True when separator k is at view[p...], the caller having checked that it fits in the line. */
function separatorAt(view: DataView, p: number, k: number): boolean {
  const n = SEP_LEN[k]!;
  return view.getFloat64(p, true) === SEP_HEAD[k] && view.getFloat64(p + n - 8, true) === SEP_TAIL[k] && (n <= 16 || view.getFloat64(p + 8, true) === SEP_MID[k]);
}

/**
 * True when buf[i...] starts with ORDER's key k as `"key":`. No bound check: no pattern byte is a `}`, so the
 * comparison fails at the line's closing brace at the latest.
 */
function keyAt(buf: Uint8Array, i: number, k: number): boolean {
  const e = PAT_AT[k + 1]!;
  for (let j = PAT_AT[k]!; j < e; j++, i++) if (buf[i] !== PATTERNS[j]) return false;
  return true;
}

/** The index in ORDER of the key buf[s, e), or -1. */
function orderOf(buf: Uint8Array, s: number, e: number): number {
  for (let k = 0; k < ORDER_N; k++) {
    const ps = PAT_AT[k]! + 1;
    if (PAT_AT[k + 1]! - 2 - ps !== e - s) continue;
    let i = 0;
    while (i < e - s && buf[s + i] === PATTERNS[ps + i]) i++;
    if (i === e - s) return k;
  }
  return -1;
}

/**
 * End index of a string body starting at `i` (its closing quote), or -1 for an escape, a control byte or no end
 * before `end`. Four bytes at a time: the bytes of a word that are a quote, a backslash or below 0x20 are flagged
 * in one go (the "has a zero byte" test on the word xor'ed with each); the lowest flag is always exact, and in a
 * little-endian word it is the first such byte of the text.
 */
function stringEnd(buf: Uint8Array, view: DataView, at: number, i: number, end: number): number {
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

/** "buy" and "sell" without a lookup, else undefined. */
function sideText(b: Uint8Array, s: number, e: number): string | undefined {
  if (e - s === 3 && b[s] === 0x62 && b[s + 1] === 0x75 && b[s + 2] === 0x79) return "buy";
  if (e - s === 4 && b[s] === 0x73 && b[s + 1] === 0x65 && b[s + 2] === 0x6c && b[s + 3] === 0x6c) return "sell";
  return undefined;
}

function ascii(buf: Uint8Array, s: number, e: number): boolean {
  for (let i = s; i < e; i++) if (buf[i]! >= 0x80) return false;
  return true;
}

function latin1(buf: Uint8Array, s: number, e: number): string {
  // A Buffer decodes a range in place; a plain Uint8Array needs a Buffer view first.
  return buf instanceof Buffer ? buf.toString("latin1", s, e) : Buffer.from(buf.buffer, buf.byteOffset + s, e - s).toString("latin1");
}

// Module-level functions, not closures: tsx (esbuild keepNames) wraps each closure creation in a __name() call.
function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** The first non-white-space index from `i` (the line's closing brace stops it). */
function ws(buf: Uint8Array, i: number): number {
  while (isWs(buf[i]!)) i++;
  return i;
}

function digit(c: number): boolean {
  return c >= D0 && c <= D9;
}

/** End of true/false/null at `i`, or -1. */
function literalEnd(buf: Uint8Array, i: number): number {
  const c = buf[i];
  if (c === 0x74) return buf[i + 1] === 0x72 && buf[i + 2] === 0x75 && buf[i + 3] === 0x65 ? i + 4 : -1;
  if (c === 0x6e) return buf[i + 1] === 0x75 && buf[i + 2] === 0x6c && buf[i + 3] === 0x6c ? i + 4 : -1;
  if (c === 0x66) return buf[i + 1] === 0x61 && buf[i + 2] === 0x6c && buf[i + 3] === 0x73 && buf[i + 4] === 0x65 ? i + 5 : -1;
  return -1;
}

/** End of a JSON number (RFC 8259 grammar) starting at `i`, or -1; the closing brace ends it at the latest. */
function jsonNumber(buf: Uint8Array, i: number): number {
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
