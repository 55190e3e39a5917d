/**
 * What TickLineScanner knows of Coinbase's ticker messages: the fields a Tick reads, the keys in the order the
 * exchange writes them, and that order laid out as byte patterns — `"key":` for the general path and the constant
 * separators between values for the compact path, compared eight bytes at a time. Only speed depends on it.
 */
import { enc } from "./json-bytes.js";

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

/**
 * The field ids, kinds and tables the scanner reads in its loops, to be bound to module-local constants there:
 * an imported binding is read through its module cell at every use (see BYTE in json-bytes.ts). PAT_AT[k + 1] -
 * PAT_AT[k] is the length of key k's pattern.
 */
export const LAYOUT = Object.freeze({ STR, NUM, LIT, OTHER, F_TYPE, F_PRODUCT, F_PRICE, F_SIZE, F_TIME, F_SIDE, F_TRADE, F_SEQUENCE, ORDER_N, ORDER_FIELD, ORDER_KIND, PAT_AT, SEP_LEN, TICKER });

/** True when separator k is at view[p...], the caller having checked that it fits in the line. */
export function separatorAt(view: DataView, p: number, k: number): boolean {
  const n = SEP_LEN[k]!;
  return view.getFloat64(p, true) === SEP_HEAD[k] && view.getFloat64(p + n - 8, true) === SEP_TAIL[k] && (n <= 16 || view.getFloat64(p + 8, true) === SEP_MID[k]);
}

/**
 * True when buf[i...] starts with ORDER's key k as `"key":`. No bound check: no pattern byte is a `}`, so the
 * comparison fails at the line's closing brace at the latest.
 */
export function keyAt(buf: Uint8Array, i: number, k: number): boolean {
  const e = PAT_AT[k + 1]!;
  for (let j = PAT_AT[k]!; j < e; j++, i++) if (buf[i] !== PATTERNS[j]) return false;
  return true;
}

/** The index in ORDER of the key buf[s, e), or -1. */
export function orderOf(buf: Uint8Array, s: number, e: number): number {
  for (let k = 0; k < ORDER_N; k++) {
    const ps = PAT_AT[k]! + 1;
    if (PAT_AT[k + 1]! - 2 - ps !== e - s) continue;
    let i = 0;
    while (i < e - s && buf[s + i] === PATTERNS[ps + i]) i++;
    if (i === e - s) return k;
  }
  return -1;
}

/** "buy" and "sell" without a lookup, else undefined. */
export function sideText(b: Uint8Array, s: number, e: number): string | undefined {
  if (e - s === 3 && b[s] === 0x62 && b[s + 1] === 0x75 && b[s + 2] === 0x79) return "buy";
  if (e - s === 4 && b[s] === 0x73 && b[s + 1] === 0x65 && b[s + 2] === 0x6c && b[s + 3] === 0x6c) return "sell";
  return undefined;
}
