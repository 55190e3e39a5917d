/** Pure arithmetic of the dashboard: per-second rates from counter deltas, a source's health, freshness. */
import type { SourceMetrics, StepMetrics } from "../stream/metrics.js";
import type { SourceView } from "./dashboard-types.js";

/** The counters the dashboard rates. */
export const RATED = ["consumed", "emitted", "rejected", "late", "updates"] as const;
export type Rated = (typeof RATED)[number];
export type Rates = Record<Rated, number>;

interface ReplicaSample {
  counts: Rates;
  heartbeatAt: number;
  startedAt: number;
  rates: Rates;
}

/** Per step, per replica: the last report seen and the rates derived from it. */
export type RateSample = Record<string, Record<string, ReplicaSample>>;

const zero = (): Rates => ({ consumed: 0, emitted: 0, rejected: 0, late: 0, updates: 0 });

function countsOf(m: StepMetrics): Rates {
  const out = zero();
  for (const k of RATED) {
    const v = m[k];
    out[k] = typeof v === "number" && Number.isFinite(v) ? v : 0;
  }
  return out;
}

/**
 * Rates from two successive reads of the metrics: per replica (count delta / heartbeat delta, so a read that
 * sees no new report keeps the last rate instead of dropping to 0), summed per step. A replica that restarted
 * (its counters reset) is rated from its start.
 * @example const a = advanceRates(undefined, m1); const b = advanceRates(a.sample, m2); b.rates.ohlc.late // late ticks/s
 */
export function advanceRates(prev: RateSample | undefined, byStep: Readonly<Record<string, readonly StepMetrics[]>>): { sample: RateSample; rates: Record<string, Rates> } {
  const sample: RateSample = {};
  const rates: Record<string, Rates> = {};
  for (const [step, ms] of Object.entries(byStep)) {
    sample[step] = {};
    const sum = zero();
    for (const m of ms) {
      const p = prev?.[step]?.[m.replica];
      const counts = countsOf(m);
      let r = zero();
      if (p && p.heartbeatAt === m.heartbeatAt) r = p.rates;
      else if (p && p.startedAt === m.startedAt && counts.consumed >= p.counts.consumed && m.heartbeatAt > p.heartbeatAt) {
        const dt = (m.heartbeatAt - p.heartbeatAt) / 1000;
        for (const k of RATED) r[k] = Math.max(0, counts[k] - p.counts[k]) / dt;
      } else if (p && m.heartbeatAt > m.startedAt) {
        const dt = (m.heartbeatAt - m.startedAt) / 1000;
        for (const k of RATED) r[k] = counts[k] / dt;
      }
      sample[step]![m.replica] = { counts, heartbeatAt: m.heartbeatAt, startedAt: m.startedAt, rates: r };
      for (const k of RATED) sum[k] += r[k];
    }
    rates[step] = sum;
  }
  return { sample, rates };
}

/** A step is a source when a replica says so, or when it writes topics and reads none. */
export function isSource(step: { inputs: readonly string[]; outputs: readonly string[] }, ms: readonly StepMetrics[]): boolean {
  if (ms.some((m) => m.kind === "source")) return true;
  if (ms.some((m) => m.kind === "step")) return false;
  return step.inputs.length === 0 && step.outputs.length > 0;
}

/** A source's feed health over its replicas: connected only if all are; reconnects and duplicates summed. */
export function sourceView(ms: readonly StepMetrics[]): SourceView {
  const src = ms.map((m) => m.source).filter((s): s is SourceMetrics => typeof s === "object" && s !== null);
  const last = src.map((s) => s.lastMessageAt).filter((t): t is number => typeof t === "number");
  return {
    type: src[0]?.type ?? null,
    endpoint: src[0]?.endpoint ?? null,
    products: [...new Set(src.flatMap((s) => s.products ?? []))],
    connected: src.length === 0 ? null : src.every((s) => s.connected),
    reconnects: src.reduce((n, s) => n + (s.reconnects || 0), 0),
    duplicates: src.reduce((n, s) => n + (s.duplicates || 0), 0),
    lastMessageAt: last.length ? Math.max(...last) : null,
  };
}

/** The largest `lastWindowEnd` the replicas report: null when they report none yet, undefined when none has the field. */
export function reportedWindowEnd(ms: readonly StepMetrics[]): number | null | undefined {
  const withField = ms.filter((m) => m.lastWindowEnd !== undefined);
  if (withField.length === 0) return undefined;
  const ends = withField.map((m) => m.lastWindowEnd).filter((t): t is number => typeof t === "number");
  return ends.length ? Math.max(...ends) : null;
}

/** now − `at`, never negative (a window may end after the wall clock in a replay of the future); null when unknown. */
export function ageMs(now: number, at: number | null | undefined): number | null {
  return typeof at === "number" && Number.isFinite(at) ? Math.max(0, now - at) : null;
}
