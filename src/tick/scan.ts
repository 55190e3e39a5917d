import { ascii, BYTE, isWs, jsonNumber, jsonNumberValue, latin1, literalEnd, plainDecimal, same, stringEnd, ws } from "./json-bytes.js";
import { keyAt, LAYOUT, orderOf, separatorAt, sideText } from "./ticker-layout.js";
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

// The bytes, field ids and tables the loops above read, bound to module-local constants: V8 reads an imported
// binding through its module cell at every use (see json-bytes.ts).
const { QUOTE, COMMA, MINUS, COLON, D0, D9, LBRACE, RBRACE } = BYTE;
const { STR, NUM, LIT, OTHER, F_TYPE, F_PRODUCT, F_PRICE, F_SIZE, F_TIME, F_SIDE, F_TRADE, F_SEQUENCE } = LAYOUT;
const { ORDER_N, ORDER_FIELD, ORDER_KIND, PAT_AT, SEP_LEN, TICKER } = LAYOUT;
const EMPTY = new Uint8Array(0);
const INTERN_SLOTS = 256;
// What compact() found.
const COMPACT = 0;
const OTHER_LAYOUT = 1;
const REFUSED = 2;
