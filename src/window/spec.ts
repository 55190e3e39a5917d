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
  /** "key" (default): a key's windows close on its own max event time; "partition": on the input partition's. */
  closing?: "key" | "partition";
  /** Live input only: close a quiet key's windows once end + grace has passed on the wall clock, after `idle` without a tick. */
  idle?: Duration;
  /** "update": write each open window's current value after each tick too (to `<output>.updates`). Default "final". */
  emit?: "final" | "update";
  /** With emit "update": at most one update per window per `every` of event time. Default: after every tick. */
  every?: Duration;
  /** "carry": emit missing windows between a key's first and last with the previous close. Default "none". */
  fill?: "none" | "carry";
}

/** The options beyond size and step, as a spec holds them (absent = default). */
export type CloseOptions = Pick<WindowOptions, "closing" | "idle" | "emit" | "every" | "fill">;

const BUILDER = Symbol.for("quixlab.window");
const KINDS: readonly string[] = ["tumbling", "hopping", "sliding", "session", "count", "scan"] satisfies WindowSpec["kind"][];

/** No window: one result per input record (a feature over another feature's records, e.g. ema(12) over ohlc1m). */
export const SCAN: WindowSpec = Object.freeze({ kind: "scan", size: 1, step: 1, origin: "epoch", grace: 0 });

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

  /** Same window closed by the key's ("key") or the input partition's ("partition") stream time. */
  closing(c: "key" | "partition"): WindowBuilder {
    return new WindowBuilder(withOptions(this.spec, { closing: c }));
  }

  /** Same window, closed on the wall clock after `d` without a tick for its key (live input only). */
  idle(d: Duration): WindowBuilder {
    return new WindowBuilder(withOptions(this.spec, { idle: d }));
  }

  /** Same window, emitting early results ("update", at most every `every`) or final ones only. */
  emit(mode: "final" | "update", opts: { every?: Duration } = {}): WindowBuilder {
    return new WindowBuilder(withOptions(this.spec, { emit: mode, every: opts.every ?? 0 }));
  }

  /** Same window, filling empty windows between a key's first and last ("carry") or not. */
  fill(f: "none" | "carry"): WindowBuilder {
    return new WindowBuilder(withOptions(this.spec, { fill: f }));
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
  const base = { kind: "tumbling" as const, size: ms, step: ms, origin: opts.origin ?? "epoch", grace: parseDuration(opts.grace ?? 0, "grace") };
  return new WindowBuilder(withOptions(base, opts));
}

/**
 * Hopping windows of `size` starting every `step`; a tick belongs to every window with start <= t < start + size.
 * @example hopping("60s", "1s", { grace: "2s" })  // 60 overlapping windows per tick
 */
export function hopping(size: Duration, step: Duration, opts: WindowOptions = {}): WindowBuilder {
  const base = {
    kind: "hopping" as const,
    size: parseDuration(size, "window size"),
    step: parseDuration(step, "window step"),
    origin: opts.origin ?? "epoch",
    grace: parseDuration(opts.grace ?? 0, "grace"),
  };
  return new WindowBuilder(withOptions(base, opts));
}

/**
 * Sliding windows (DESIGN.md "More window kinds"): one window per distinct event time τ of a key, covering
 * `(τ − size, τ]`; the record's start is τ − size and its end τ. Equals pandas `rolling(size, closed="right")`
 * keeping the last row of each timestamp.
 * @example sliding("60s", { grace: "2s" })
 */
export function sliding(size: Duration, opts: WindowOptions = {}): WindowBuilder {
  const ms = parseDuration(size, "window size");
  return new WindowBuilder(withOptions({ kind: "sliding", size: ms, step: ms, origin: "epoch", grace: parseDuration(opts.grace ?? 0, "grace") }, opts));
}

/**
 * Session windows: a key's ticks, split wherever two consecutive event times are `gap` or more apart; the record
 * runs from the first tick's time to the last one's + gap. A late tick may merge two sessions only while both are
 * open. The aggregator needs `merge` (ohlcv() and whole-window functions have it).
 * @example session("30s", { grace: "2s" })
 */
export function session(gap: Duration, opts: WindowOptions = {}): WindowBuilder {
  const ms = parseDuration(gap, "session gap");
  return new WindowBuilder(withOptions({ kind: "session", size: ms, step: ms, origin: "epoch", grace: parseDuration(opts.grace ?? 0, "grace") }, opts));
}

/**
 * Count windows: a key's ticks in arrival order, `n` at a time (the last, shorter one at end of input). The record
 * runs from the earliest event time in it to the latest + 1 and carries `index` (0, 1, 2… per key). Arrival order
 * alone closes them: no grace, no late ticks, no idle timeout.
 * @example countWindow(100)
 */
export function countWindow(n: number, opts: Pick<WindowOptions, "emit" | "every"> = {}): WindowBuilder {
  return new WindowBuilder(withOptions({ kind: "count", size: n, step: n, origin: "epoch", grace: 0 }, opts));
}

/**
 * `s` with the closing, early-result and fill options of `o` applied (durations parsed), validated.
 * @example withOptions(tumbling("1m").spec, { closing: "partition", fill: "carry" })
 */
export function withOptions(s: WindowSpec, o: CloseOptions): WindowSpec {
  const next: { -readonly [K in keyof WindowSpec]: WindowSpec[K] } = { ...s };
  if (o.closing !== undefined) next.closing = o.closing;
  if (o.idle !== undefined) next.idle = parseDuration(o.idle, "idle");
  if (o.emit !== undefined) next.emit = o.emit;
  if (o.every !== undefined) next.every = parseDuration(o.every, "every");
  if (o.fill !== undefined) next.fill = o.fill;
  return makeSpec(next);
}

function makeSpec(s: WindowSpec): WindowSpec {
  const bad = (what: string, remedy: string) => new InputError(`bad window: ${what}`, { remedy, context: { field: "window" } });
  if (!KINDS.includes(s.kind)) throw bad(`kind '${String(s.kind)}'`, "use tumbling(size), hopping(size, step), sliding(size), session(gap) or countWindow(n)");
  if (s.kind === "count" && (!Number.isSafeInteger(s.size) || s.size <= 0)) throw bad(`count ${s.size}`, "countWindow(n) takes a whole number of ticks >= 1");
  if (!Number.isSafeInteger(s.size) || s.size <= 0) throw bad(`size ${s.size}`, "the size must be a positive whole number of ms");
  if (s.kind !== "hopping" && s.kind !== "tumbling" && s.step !== s.size) throw bad(`a ${s.kind} window has no step`, "leave the step out");
  if (!Number.isSafeInteger(s.step) || s.step <= 0) throw bad(`step ${s.step}`, "the step must be a positive whole number of ms");
  if (s.step > s.size) throw bad(`step ${s.step} ms is longer than the size ${s.size} ms`, "use a step no longer than the size");
  if (s.kind === "tumbling" && s.step !== s.size) throw bad("a tumbling window's step must equal its size", "use hopping(size, step)");
  if (!Number.isSafeInteger(s.grace) || s.grace < 0) throw bad(`grace ${s.grace}`, "the grace must be a whole number of ms >= 0");
  if (s.origin !== "epoch" && s.origin !== "start") throw bad(`origin '${String(s.origin)}'`, 'use "epoch" or "start"');
  const closing = s.closing ?? "key";
  if (closing !== "key" && closing !== "partition") throw bad(`closing '${String(closing)}'`, 'use "key" (the default) or "partition"');
  const idle = s.idle ?? 0;
  if (!Number.isSafeInteger(idle) || idle < 0) throw bad(`idle ${idle}`, 'give a duration such as "2s" (or leave it out: no wall-clock closing)');
  const emit = s.emit ?? "final";
  if (emit !== "final" && emit !== "update") throw bad(`emit '${String(emit)}'`, 'use "final" (the default) or "update"');
  const every = s.every ?? 0;
  if (!Number.isSafeInteger(every) || every < 0) throw bad(`every ${every}`, 'give a duration such as "1s", or leave it out for an update after every tick');
  if (every > 0 && emit !== "update") throw bad("'every' without emit \"update\"", 'add emit: "update", or drop every');
  const fill = s.fill ?? "none";
  if (fill !== "none" && fill !== "carry") throw bad(`fill '${String(fill)}'`, 'use "none" (the default) or "carry"');
  const grid = s.kind === "tumbling" || s.kind === "hopping";
  if (fill !== "none" && !grid) throw bad(`fill "${fill}" on a ${s.kind} window`, "empty windows exist only on a grid: use fill with tumbling or hopping windows");
  if (!grid && s.origin !== "epoch") throw bad(`origin "${s.origin}" on a ${s.kind} window`, "only tumbling and hopping windows have a grid to align");
  if (s.kind === "scan" && (s.size !== 1 || s.grace > 0 || closing !== "key" || idle > 0 || emit !== "final")) {
    throw bad("options on a scan (one result per input record)", "an indicator has no window to close: leave grace, closing, idle and emit out");
  }
  if (s.kind === "count" && (s.grace > 0 || closing !== "key" || idle > 0)) {
    throw bad("grace, closing or idle on a count window", "count windows close on their n-th tick in arrival order: leave grace, closing and idle out");
  }
  // Defaults are left out, so a spec (and a feature's version) reads as before these options existed.
  return Object.freeze({
    kind: s.kind,
    size: s.size,
    step: s.step,
    origin: s.origin,
    grace: s.grace,
    ...(closing !== "key" ? { closing } : {}),
    ...(idle > 0 ? { idle } : {}),
    ...(emit !== "final" ? { emit } : {}),
    ...(every > 0 ? { every } : {}),
    ...(fill !== "none" ? { fill } : {}),
  });
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
  const base =
    s.kind === "tumbling" || s.kind === "sliding"
      ? `${s.kind} ${size}`
      : s.kind === "hopping"
        ? `hopping ${size} every ${formatDuration(s.step)}`
        : s.kind === "session"
          ? `session gap ${formatDuration(s.size)}`
          : s.kind === "count"
            ? `count ${s.size} ticks`
            : "each input window";
  const extra = [
    ...(s.kind === "count" || s.kind === "scan" ? [] : [`grace ${formatDuration(s.grace)}`]),
    ...(s.origin === "start" ? ["origin start"] : []),
    ...(s.closing === "partition" ? ["closing partition"] : []),
    ...(s.idle ? [`idle ${formatDuration(s.idle)}`] : []),
    ...(s.emit === "update" ? [s.every ? `updates every ${formatDuration(s.every)}` : "updates"] : []),
    ...(s.fill === "carry" ? ["fill carry"] : []),
  ];
  return extra.length ? `${base} (${extra.join(", ")})` : base;
}
