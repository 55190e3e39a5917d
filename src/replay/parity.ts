import type { WindowRecord } from "../window/types.js";

/** Compare options; the default is exact equality, since batch and stream run the same engine in the same order. */
export interface ParityOptions {
  /** Relative tolerance for numeric fields other than start/end/count (0 = exact). */
  relTol?: number;
  /** How many mismatches / missing / extra windows to keep for display. */
  keep?: number;
}

export interface FieldDiff {
  field: string;
  expected: unknown;
  actual: unknown;
}

export interface Mismatch {
  key: string;
  start: number;
  end: number;
  expected: WindowRecord;
  actual: WindowRecord;
  diffs: FieldDiff[];
}

export interface ParityResult {
  ok: boolean;
  expected: number;
  matched: number;
  mismatched: number;
  missing: number;
  extra: number;
  /** Output windows seen more than once with identical content (at-least-once redelivery); not an error. */
  duplicates: number;
  /** Output windows seen more than once with different content; counted as mismatches. */
  conflicting: number;
  mismatches: Mismatch[];
  missingWindows: WindowRecord[];
  extraWindows: WindowRecord[];
}

/** Identity of a window: (key, start, end). */
export function windowId(r: Pick<WindowRecord, "key" | "start" | "end">): string {
  const i = (r as { index?: unknown }).index;
  return typeof i === "number" ? `${r.key}\u0000${r.start}\u0000${r.end}\u0000${i}` : `${r.key}\u0000${r.start}\u0000${r.end}`;
}

/**
 * Each window once (the last copy of a redelivered one), ordered by key, then start and end: the stream's result as
 * `--out` writes it.
 */
export function distinctWindows<R extends WindowRecord>(records: readonly R[]): R[] {
  const unique = new Map<string, R>();
  for (const r of records) unique.set(windowId(r), r);
  return [...unique.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.start - b.start || a.end - b.end));
}

function sameValue(a: unknown, b: unknown, field: string, relTol: number): boolean {
  if (typeof a === "number" && typeof b === "number") {
    if (Object.is(a, b) || a === b) return true;
    if (relTol <= 0 || field === "start" || field === "end" || field === "count") return false;
    return Math.abs(a - b) <= relTol * Math.max(Math.abs(a), Math.abs(b));
  }
  if (a !== null && b !== null && typeof a === "object" && typeof b === "object") {
    return JSON.stringify(a) === JSON.stringify(b);
  }
  return a === b;
}

/** Field-by-field differences between two records (union of their fields, in the expected record's order). */
export function diffRecords(expected: WindowRecord, actual: WindowRecord, relTol = 0): FieldDiff[] {
  const fields = [...new Set([...Object.keys(expected), ...Object.keys(actual)])];
  const out: FieldDiff[] = [];
  for (const f of fields) {
    const e = (expected as Record<string, unknown>)[f];
    const a = (actual as Record<string, unknown>)[f];
    if (!sameValue(e, a, f, relTol)) out.push({ field: f, expected: e, actual: a });
  }
  return out;
}

/**
 * Window-for-window comparison of the batch result (expected) with what the stream produced (actual).
 * Parity holds when every expected window arrived with equal fields and nothing else arrived.
 *
 * @example compareWindows(batch.records, streamed).ok
 */
export function compareWindows(
  expected: readonly WindowRecord[],
  actual: readonly WindowRecord[],
  opts: ParityOptions = {},
): ParityResult {
  const relTol = opts.relTol ?? 0;
  const keep = opts.keep ?? 20;
  const got = new Map<string, WindowRecord>();
  let duplicates = 0;
  const conflicts = new Set<string>();
  for (const r of actual) {
    const id = windowId(r);
    const prev = got.get(id);
    if (prev) {
      if (diffRecords(prev, r, relTol).length === 0) duplicates++;
      else conflicts.add(id);
    }
    got.set(id, r);
  }
  const res: ParityResult = {
    ok: false,
    expected: expected.length,
    matched: 0,
    mismatched: 0,
    missing: 0,
    extra: 0,
    duplicates,
    conflicting: conflicts.size,
    mismatches: [],
    missingWindows: [],
    extraWindows: [],
  };
  const seen = new Set<string>();
  for (const e of expected) {
    const id = windowId(e);
    seen.add(id);
    const a = got.get(id);
    if (!a) {
      res.missing++;
      if (res.missingWindows.length < keep) res.missingWindows.push(e);
      continue;
    }
    const diffs = diffRecords(e, a, relTol);
    if (diffs.length === 0 && !conflicts.has(id)) {
      res.matched++;
    } else {
      res.mismatched++;
      if (res.mismatches.length < keep) {
        res.mismatches.push({
          key: e.key,
          start: e.start,
          end: e.end,
          expected: e,
          actual: a,
          diffs: diffs.length ? diffs : [{ field: "(redelivered with different values)", expected: "", actual: "" }],
        });
      }
    }
  }
  for (const [id, a] of got) {
    if (seen.has(id)) continue;
    res.extra++;
    if (res.extraWindows.length < keep) res.extraWindows.push(a);
  }
  res.ok = res.missing === 0 && res.mismatched === 0 && res.extra === 0;
  return res;
}

/**
 * True when every difference touches a window that a late tick would have fallen into: the stream and the batch
 * then disagree only because of late events, which the report says explicitly.
 */
export function differencesExplainedByLate(
  res: ParityResult,
  lateTicks: readonly { key: string; time: number }[],
): boolean {
  if (res.ok || lateTicks.length === 0) return false;
  const touched = (w: { key: string; start: number; end: number }) =>
    lateTicks.some((t) => t.key === w.key && t.time >= w.start && t.time < w.end);
  const all = [...res.mismatches, ...res.missingWindows, ...res.extraWindows];
  const complete = all.length === res.mismatched + res.missing + res.extra;
  return complete && all.every(touched);
}
