import { InputError } from "../errors/index.js";
import { formatDuration, parseDuration } from "./duration.js";
import type { WindowSpec } from "./types.js";

export type { WindowSpec };

/** A duration as text ("1m", "500ms") or milliseconds. */
export type Duration = string | number;

export interface WindowOptions {
  /** How long after a window's end (in event time) it stays open for out-of-order ticks. Default 0. */
  grace?: Duration;
  /**
   * "epoch" (default): starts on multiples of the step since 1970-01-01T00:00Z.
   * "start": the grid starts at each key's first tick (its event time), like pandas
   * `df.groupby("product_id").resample(size, origin="start")`, which also aligns every group to its own first
   * timestamp. pandas sees the whole sorted group; a stream only sees arrivals, so the origin is the first tick to
   * *arrive*. They agree whenever a key's first arrival is also its earliest tick; a later tick that is earlier still
   * falls into the grid window before the origin.
   */
  origin?: "epoch" | "start";
}

const BUILDER = Symbol.for("quixlab.window");

/**
 * A window under construction, fluent in the Quix Streams manner: `tumbling("1m").grace("2s")`.
 * Immutable: each call returns a new builder. `spec` is the validated WindowSpec.
 */
export class WindowBuilder {
  readonly [BUILDER] = true;
  constructor(readonly spec: WindowSpec) {}

  /** Same window with a different grace period. */
  grace(d: Duration): WindowBuilder {
    return new WindowBuilder(makeSpec({ ...this.spec, grace: parseDuration(d, "grace") }));
  }

  /** Same window aligned to the epoch or to each key's first tick. */
  origin(o: "epoch" | "start"): WindowBuilder {
    return new WindowBuilder(makeSpec({ ...this.spec, origin: o }));
  }

  toJSON(): WindowSpec {
    return this.spec;
  }
}

/**
 * Tumbling windows `[start, start + size)`.
 * @example tumbling("1m", { grace: "2s" })
 */
export function tumbling(size: Duration, opts: WindowOptions = {}): WindowBuilder {
  const ms = parseDuration(size, "window size");
  return new WindowBuilder(
    makeSpec({ kind: "tumbling", size: ms, step: ms, origin: opts.origin ?? "epoch", grace: parseDuration(opts.grace ?? 0, "grace") }),
  );
}

/**
 * Hopping windows of `size` starting every `step`; a tick belongs to every window with start <= t < start + size.
 * @example hopping("60s", "1s", { grace: "2s" })  // 60 overlapping windows per tick
 */
export function hopping(size: Duration, step: Duration, opts: WindowOptions = {}): WindowBuilder {
  return new WindowBuilder(
    makeSpec({
      kind: "hopping",
      size: parseDuration(size, "window size"),
      step: parseDuration(step, "window step"),
      origin: opts.origin ?? "epoch",
      grace: parseDuration(opts.grace ?? 0, "grace"),
    }),
  );
}

function makeSpec(s: WindowSpec): WindowSpec {
  const bad = (what: string, remedy: string) => new InputError(`bad window: ${what}`, { remedy, context: { field: "window" } });
  if (s.kind !== "tumbling" && s.kind !== "hopping") throw bad(`kind '${String(s.kind)}'`, "use tumbling(size) or hopping(size, step)");
  if (!Number.isSafeInteger(s.size) || s.size <= 0) throw bad(`size ${s.size}`, "the size must be a positive whole number of ms");
  if (!Number.isSafeInteger(s.step) || s.step <= 0) throw bad(`step ${s.step}`, "the step must be a positive whole number of ms");
  if (s.step > s.size) throw bad(`step ${s.step} ms is longer than the size ${s.size} ms`, "use a step no longer than the size");
  if (s.kind === "tumbling" && s.step !== s.size) throw bad("a tumbling window's step must equal its size", "use hopping(size, step)");
  if (!Number.isSafeInteger(s.grace) || s.grace < 0) throw bad(`grace ${s.grace}`, "the grace must be a whole number of ms >= 0");
  if (s.origin !== "epoch" && s.origin !== "start") throw bad(`origin '${String(s.origin)}'`, 'use "epoch" or "start"');
  return Object.freeze({ kind: s.kind, size: s.size, step: s.step, origin: s.origin, grace: s.grace });
}

/**
 * The validated spec of a builder or a plain spec object (duck-typed: a notebook's copy of this module and the
 * CLI's are different instances).
 */
export function toWindowSpec(w: WindowSpec | WindowBuilder): WindowSpec {
  const spec = typeof w === "object" && w !== null && "spec" in w && typeof w.spec === "object" ? w.spec : (w as WindowSpec);
  if (typeof spec !== "object" || spec === null) {
    throw new InputError("bad window: expected tumbling(...), hopping(...) or a WindowSpec", { context: { field: "window" } });
  }
  return makeSpec(spec);
}

/** Human name of a window, e.g. "tumbling 1m (grace 2s)" or "hopping 60s every 1s (grace 2s, origin start)". */
export function describeWindow(s: WindowSpec): string {
  const size = s.size % 60_000 === 0 || s.size < 1000 ? formatDuration(s.size) : `${s.size / 1000}s`;
  const base = s.kind === "tumbling" ? `tumbling ${size}` : `hopping ${size} every ${formatDuration(s.step)}`;
  const extra = [`grace ${formatDuration(s.grace)}`, ...(s.origin === "start" ? ["origin start"] : [])];
  return `${base} (${extra.join(", ")})`;
}
