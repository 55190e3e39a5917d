/** A validated Coinbase `ticker` message (DESIGN.md "Ticks"). Frozen once parsed at the edge. */
export interface Tick {
  readonly product_id: string;
  readonly price: number;
  readonly last_size: number;
  /** Event time, epoch milliseconds (the ISO `time` floored to the millisecond). */
  readonly time: number;
  readonly side?: string;
  readonly trade_id?: number | string;
  readonly sequence?: number;
}

/** Why an input was not a valid tick, from the fixed list below (DESIGN.md "Ticks"). */
export type RejectReason =
  | "bad JSON"
  | "not an object"
  | "not a ticker"
  | "missing field"
  | "not a string"
  | "empty"
  | "non-numeric"
  | "non-finite"
  | "non-positive"
  | "negative"
  | "bad time";

/** Why a line/message was not a valid tick; `line` is 1-based when it came from a file. */
export interface Rejection {
  readonly reason: RejectReason | (string & {});
  readonly field?: string;
  readonly line?: number;
  readonly raw: string;
  /** The reason as a sentence naming the value, e.g. `price must be > 0, got "-1"`. */
  readonly detail?: string;
}

export type TickResult = { ok: true; tick: Tick } | { ok: false; rejection: Rejection };
