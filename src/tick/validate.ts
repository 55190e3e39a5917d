import { parseIsoTime } from "./time.js";
import type { RejectReason, Rejection, Tick, TickResult } from "./types.js";

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const NOT_FINITE = /^[+-]?(?:inf|infinity|nan)$/i;

/** A field check failed: what, which field, and a sentence naming the value. */
export interface FieldProblem {
  reason: RejectReason;
  field: string;
  detail: string;
}

const show = (v: unknown): string => {
  const s = typeof v === "string" ? JSON.stringify(v) : String(v);
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
};

/** A finite number from a JSON number or a decimal string, or the problem with it. */
export function parseNumberField(v: unknown, field: string): number | FieldProblem {
  if (v === undefined || v === null) return { reason: "missing field", field, detail: `${field} is missing` };
  let n: number;
  if (typeof v === "number") n = v;
  else if (typeof v === "string" && DECIMAL.test(v)) n = Number(v);
  else if (typeof v === "string" && NOT_FINITE.test(v)) n = Number.NaN;
  else return { reason: "non-numeric", field, detail: `${field} must be a number, got ${show(v)}` };
  if (!Number.isFinite(n)) return { reason: "non-finite", field, detail: `${field} must be finite, got ${show(v)}` };
  return n;
}

function problem(reason: RejectReason, field: string, detail: string): FieldProblem {
  return { reason, field, detail };
}

/** The product id, price, size and time rules shared by every input form; returns a frozen Tick or the problem. */
export function checkTickFields(
  productId: unknown,
  priceIn: unknown,
  sizeIn: unknown,
  time: number | FieldProblem,
  extra?: { side?: unknown; trade_id?: unknown; sequence?: unknown },
): Tick | FieldProblem {
  if (productId === undefined || productId === null) return problem("missing field", "product_id", "product_id is missing");
  if (typeof productId !== "string") return problem("not a string", "product_id", `product_id must be a string, got ${show(productId)}`);
  if (productId === "") return problem("empty", "product_id", "product_id is empty");
  const price = parseNumberField(priceIn, "price");
  if (typeof price !== "number") return price;
  if (!(price > 0)) return problem("non-positive", "price", `price must be > 0, got ${show(priceIn)}`);
  const size = parseNumberField(sizeIn, "last_size");
  if (typeof size !== "number") return size;
  if (size < 0) return problem("negative", "last_size", `last_size must be >= 0, got ${show(sizeIn)}`);
  if (typeof time !== "number") return time;
  const side = extra?.side;
  const tradeId = extra?.trade_id;
  const seq = extra?.sequence;
  return Object.freeze({
    product_id: productId,
    price,
    // `+ 0` turns a "-0" size into 0 so sums never print -0.
    last_size: size + 0,
    time,
    side: typeof side === "string" ? side : undefined,
    trade_id: typeof tradeId === "number" || typeof tradeId === "string" ? tradeId : undefined,
    sequence: typeof seq === "number" ? seq : undefined,
  });
}

/** Event time of an ISO `time` field (floored to ms), or the problem with it. */
export function parseTimeField(v: unknown): number | FieldProblem {
  if (v === undefined || v === null) return problem("missing field", "time", "time is missing");
  const t = typeof v === "string" ? parseIsoTime(v) : undefined;
  if (t === undefined) {
    return problem("bad time", "time", `time must be an ISO-8601 timestamp with a zone (e.g. 2021-04-17T16:43:30.244075Z), got ${show(v)}`);
  }
  return t;
}

export function isProblem(x: unknown): x is FieldProblem {
  return typeof x === "object" && x !== null && "reason" in x && "detail" in x;
}

/** A rejection record from a problem, with where it came from. */
export function reject(p: Pick<FieldProblem, "reason" | "detail"> & { field?: string }, raw: string, line?: number): TickResult {
  const rejection: Rejection = { reason: p.reason, field: p.field, line, raw, detail: p.detail };
  return { ok: false, rejection };
}

/**
 * Validate a decoded Coinbase ticker message (DESIGN.md "Ticks"). `raw` is the original text, kept in a rejection.
 * @example validateTick(JSON.parse(line), line, 12)
 */
export function validateTick(value: unknown, raw: string, line?: number): TickResult {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return reject({ reason: "not an object", detail: `expected a JSON object, got ${Array.isArray(value) ? "an array" : show(value)}` }, raw, line);
  }
  const m = value as Record<string, unknown>;
  if (m.type !== "ticker") {
    const detail = m.type === undefined ? "type is missing (expected \"ticker\")" : `type must be "ticker", got ${show(m.type)}`;
    return reject({ reason: "not a ticker", field: "type", detail }, raw, line);
  }
  const tick = checkTickFields(m.product_id, m.price, m.last_size, parseTimeField(m.time), m);
  return isProblem(tick) ? reject(tick, raw, line) : { ok: true, tick };
}

/** Parse one JSON text (a JSON Lines line, a Kafka message) into a tick or a rejection. */
export function parseTickLine(text: string, line?: number): TickResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return reject({ reason: "bad JSON", detail: (e as Error).message }, text, line);
  }
  return validateTick(value, text, line);
}

/** True for an already-validated Tick (numeric ms time), e.g. from an array a notebook built. */
export function isTick(x: unknown): x is Tick {
  if (typeof x !== "object" || x === null) return false;
  const t = x as Record<string, unknown>;
  return (
    typeof t.product_id === "string" &&
    t.product_id !== "" &&
    typeof t.price === "number" &&
    Number.isFinite(t.price) &&
    t.price > 0 &&
    typeof t.last_size === "number" &&
    Number.isFinite(t.last_size) &&
    t.last_size >= 0 &&
    typeof t.time === "number" &&
    Number.isSafeInteger(t.time)
  );
}

/**
 * A Tick from anything a batch may be given: an already-valid Tick passes through; anything else is checked as a
 * ticker message. `line` is the position in the input (1-based) for the rejection.
 */
export function toTick(x: unknown, line?: number): TickResult {
  if (isTick(x)) return { ok: true, tick: x };
  let raw: string;
  try {
    raw = typeof x === "string" ? x : (JSON.stringify(x) ?? String(x));
  } catch {
    raw = String(x);
  }
  return typeof x === "string" ? parseTickLine(x, line) : validateTick(x, raw, line);
}
