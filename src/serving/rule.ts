import { InputError } from "../errors/index.js";
import type { WindowRecord } from "../window/types.js";
import type { VectorRange, VectorSpec } from "./spec.js";

const DAY = 86_400_000;

/** When a vector is taken: an event time (epoch ms), or `"eof"` after an end-of-input flush. */
export type AsOf = number | "eof";

/** A feature's part of a vector: its windows in range oldest first, or for `latest` the newest one (null: none). */
export type VectorValue = WindowRecord[] | WindowRecord | null;

/** The seed's model inputs for one key (DESIGN.md "quixlab vector"): `{key, asOf, features: {name: value}}`. */
export interface FeatureVector {
  key: string;
  asOf: AsOf;
  features: Record<string, VectorValue>;
}

/**
 * The point-in-time rule over batch records (DESIGN.md, "Sources, serving"): for each feature of `spec`, the
 * key's windows that are final at `asOf` (asOf >= end + grace) and in range — `30d`: start >= asOf − 30 d;
 * `today`: start >= UTC midnight of asOf; `latest`: the newest. At `"eof"` every window counts and the ranges are
 * measured from `eofTime`, the key's latest event time (required then).
 * @example vectorAt({ ohlc1m: records }, "BTC-USD", Date.parse("2023-06-09T13:00:00Z"), parseVectorSpec("ohlc1m:1h"), { ohlc1m: 2000 })
 */
export function vectorAt(
  records: Readonly<Record<string, readonly WindowRecord[]>>,
  key: string,
  asOf: AsOf,
  spec: VectorSpec,
  graces: Readonly<Record<string, number>>,
  eofTime?: number,
): FeatureVector {
  const features: Record<string, VectorValue> = {};
  for (const { feature, range } of spec) {
    const all = records[feature];
    if (!all) throw new InputError(`no records given for feature '${feature}'`, { remedy: "pass each spec feature's batch records, by name", context: { field: feature } });
    const mine = all.filter((r) => r.key === key).sort((a, b) => a.start - b.start || a.end - b.end);
    features[feature] = selectWindows(mine, asOf, range, graceOf(graces, feature), eofTime);
  }
  return { key, asOf, features };
}

/**
 * One feature's value for one key: `windows` are that key's records sorted by (start, end). Used by `vectorAt`
 * and, per (key, time), by `trainingSet` (which sorts once).
 */
export function selectWindows(windows: readonly WindowRecord[], asOf: AsOf, range: VectorRange, grace: number, eofTime?: number): VectorValue {
  const eof = asOf === "eof";
  if (!eof && !Number.isFinite(asOf)) throw new InputError(`bad asOf ${String(asOf)}`, { remedy: "give an epoch-ms time or \"eof\"" });
  if (eof && (eofTime === undefined || !Number.isFinite(eofTime))) {
    if (windows.length === 0) return range.kind === "latest" ? null : [];
    throw new InputError("asOf eof needs the key's latest event time", { remedy: "pass eofTime (the key's max tick time): ranges at eof are measured from it" });
  }
  const ref = eof ? (eofTime as number) : asOf;
  const counts = (w: WindowRecord) => eof || asOf >= w.end + grace;
  // A final window ended by asOf − grace, so it started before asOf: windows at or after asOf are never final.
  const stop = eof ? windows.length : firstAtOrAfter(windows, asOf);
  if (range.kind === "latest") {
    for (let i = stop - 1; i >= 0; i--) if (counts(windows[i]!)) return windows[i]!;
    return null;
  }
  const from = range.kind === "today" ? Math.floor(ref / DAY) * DAY : ref - range.ms;
  const out: WindowRecord[] = [];
  for (let i = firstAtOrAfter(windows, from); i < stop; i++) if (counts(windows[i]!)) out.push(windows[i]!);
  return out;
}

/** The index of the first window with start >= t (windows sorted by start). */
function firstAtOrAfter(windows: readonly WindowRecord[], t: number): number {
  let lo = 0;
  let hi = windows.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (windows[mid]!.start < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function graceOf(graces: Readonly<Record<string, number>>, feature: string): number {
  const g = graces[feature];
  if (g === undefined || !Number.isFinite(g) || g < 0) {
    throw new InputError(`no grace given for feature '${feature}'`, { remedy: "pass each feature's grace in ms (feature.window.grace)", context: { field: feature } });
  }
  return g;
}
