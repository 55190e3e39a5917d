/**
 * Coinbase Exchange's websocket protocol as the source speaks it (pure): the subscribe request, and each text
 * frame classified once at the edge into what the source does with it.
 */
import { parseIsoTime } from "../tick/time.js";

/** Coinbase Exchange's public websocket feed; `--endpoint` overrides it (tests, sandboxes). */
export { COINBASE_WS } from "../replay/record.js";

/** The channels the source subscribes to: trades, and a heartbeat per product per second to tell a live socket. */
export const CHANNELS = ["ticker", "heartbeat"] as const;

/** The subscribe request sent on every (re)connect. */
export function subscribeMessage(products: readonly string[]): string {
  return JSON.stringify({ type: "subscribe", product_ids: [...products], channels: [...CHANNELS] });
}

/** Where a message stands in its product's feed: Coinbase numbers both per product. */
export interface FeedPosition {
  readonly sequence?: number;
  readonly tradeId?: number;
}

/** One text frame, classified. Only `ticker` frames are produced; the others are counted. */
export type Frame =
  | { readonly kind: "ticker"; readonly product: string; readonly position: FeedPosition; /** Event time, ms (the `time` field, floored). */ readonly time?: number }
  | { readonly kind: "heartbeat" | "subscriptions" | "other"; readonly type: string }
  | { readonly kind: "error"; readonly message: string; /** About the subscription itself (see `refusesSubscription`): resending it will not help. */ readonly subscription: boolean }
  | { readonly kind: "bad"; readonly why: string };

const int = (v: unknown): number | undefined => {
  const n = typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : Number.NaN;
  return Number.isSafeInteger(n) ? n : undefined;
};

/**
 * Classify a frame's text. A ticker without a product id cannot be keyed, so it is `bad`; one without a time
 * is still produced (the step rejects it to its dead-letter topic with the reason, as for any bad tick).
 * @example classifyFrame('{"type":"heartbeat","sequence":1}') // { kind: "heartbeat", type: "heartbeat" }
 */
export function classifyFrame(text: string): Frame {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { kind: "bad", why: "not JSON" };
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) return { kind: "bad", why: "not a JSON object" };
  const o = v as Record<string, unknown>;
  const type = typeof o.type === "string" ? o.type : "";
  if (type === "ticker") {
    if (typeof o.product_id !== "string" || o.product_id === "") return { kind: "bad", why: "a ticker without product_id" };
    const time = typeof o.time === "string" ? parseIsoTime(o.time) : undefined;
    const position: FeedPosition = { sequence: int(o.sequence), tradeId: int(o.trade_id) };
    return time === undefined ? { kind: "ticker", product: o.product_id, position } : { kind: "ticker", product: o.product_id, position, time };
  }
  if (type === "heartbeat" || type === "subscriptions") return { kind: type, type };
  if (type === "error") {
    const message = [o.message, o.reason].filter((x) => typeof x === "string" && x !== "").join(": ");
    return { kind: "error", message: message || "error without a message", subscription: refusesSubscription(o.message, o.reason) };
  }
  return { kind: "other", type: type || "(no type)" };
}

/**
 * Whether an error frame's `message` and `reason` are about the subscription request itself, as Coinbase words
 * it: `{"message":"Failed to subscribe","reason":"ETH-XYZ is not a valid product"}`. Any other error (a server
 * hiccup, a rate limit) may pass with a reconnect.
 */
function refusesSubscription(message: unknown, reason: unknown): boolean {
  return (typeof message === "string" && /subscri/i.test(message)) || (typeof reason === "string" && /not a valid product/i.test(reason));
}
