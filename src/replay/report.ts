import type { Rejection } from "../tick/types.js";
import type { WindowRecord } from "../window/types.js";
import type { ModelCheck } from "./model.js";
import { compareWindows, differencesExplainedByLate, type ParityResult } from "./parity.js";
import type { VectorCheck } from "./vectors.js";

/** What `quixlab replay --json` prints (DESIGN.md "CLI contracts" plus details). */
export interface ReplayReport {
  feature: { ref: string; name: string; version: string };
  ticksFile: string;
  parity: ParityResult;
  /** Input lines that were not valid ticks (batch reader and stream dead-letter topic agree on this count). */
  rejected: number;
  rejectedInStream: number;
  rejections: Pick<Rejection, "line" | "reason" | "field">[];
  late: number;
  lateInStream: number;
  /** True when stream and batch differ only in windows touched by late ticks. */
  explainedByLate: boolean;
  ticks: number;
  windows: { batch: number; stream: number };
  throughput: { producedPerSec: number; processedPerSec: number; produceMs: number; processMs: number };
  latency: { p50Ms: number | null; p99Ms: number | null; samples: number };
  broker: { provider: string; brokers: string[]; startupMs: number };
  redis: { provider: string; url: string | null; windowsStored: number | null };
  partitions: number;
  speed: string;
  chaos: { requested: number; kills: number; restarts: number };
  topics: { input: string; output: string; dlq: string; late: string; kept: boolean };
  out: string | null;
  durationMs: number;
  /** A chain (a feature over another feature's records): every step's report, upstream first, this one last. */
  steps?: ReplayReport[];
  /** `--vectors`: the online vectors sampled during the replay, against the batch rule. */
  vectors?: VectorCheck;
  /** `--model`: the model step's predictions against the notebook's batch predictions. */
  model?: ModelCheck;
}

/** Parity held at every step (of a chain, or of the one step). */
export function replayOk(r: ReplayReport): boolean {
  return r.parity.ok && (r.steps ?? []).every((x) => x.parity.ok) && r.vectors?.ok !== false && r.model?.ok !== false;
}

/** What a replay measured and read, from which `buildReport` makes the report. */
export interface ReplayFacts {
  feature: ReplayReport["feature"];
  ticksFile: string;
  /** The batch result: what the stream must reproduce. */
  batch: { records: readonly WindowRecord[]; rejected: number; rejections: readonly Rejection[]; late: number };
  /** Late ticks the batch pass saw (key and event time), to tell whether they explain the differences. */
  lateTicks: readonly { key: string; time: number }[];
  /** Every window read from the output, redeliveries included. */
  streamed: readonly WindowRecord[];
  /** The distinct windows among them. */
  streamWindows: number;
  rejectedInStream: number;
  lateInStream: number;
  produced: number;
  produceMs: number;
  processMs: number;
  /** The step's latency at its clean stop; undefined when it wrote no metrics. */
  latency?: { p50: number | null; p99: number | null; samples: number };
  broker: ReplayReport["broker"];
  redis: ReplayReport["redis"];
  partitions: number;
  speed: string;
  chaos: ReplayReport["chaos"];
  topics: ReplayReport["topics"];
  out: string | null;
  durationMs: number;
}

const perSec = (n: number, ms: number) => Math.round(n / Math.max(0.001, ms / 1000));

/** The report: parity of the stream with the batch result, and the counts and speeds around it. Pure. */
export function buildReport(f: ReplayFacts): ReplayReport {
  const parity = compareWindows(f.batch.records, f.streamed);
  return {
    feature: f.feature,
    ticksFile: f.ticksFile,
    parity,
    rejected: f.batch.rejected,
    rejectedInStream: f.rejectedInStream,
    rejections: f.batch.rejections.slice(0, 20).map((r) => ({ line: r.line, reason: r.detail ?? r.reason, field: r.field })),
    late: f.batch.late,
    lateInStream: f.lateInStream,
    explainedByLate: differencesExplainedByLate(parity, f.lateTicks),
    ticks: f.produced,
    windows: { batch: f.batch.records.length, stream: f.streamWindows },
    throughput: { producedPerSec: perSec(f.produced, f.produceMs), processedPerSec: perSec(f.produced, f.processMs), produceMs: f.produceMs, processMs: f.processMs },
    latency: { p50Ms: f.latency?.p50 ?? null, p99Ms: f.latency?.p99 ?? null, samples: f.latency?.samples ?? 0 },
    broker: f.broker,
    redis: f.redis,
    partitions: f.partitions,
    speed: f.speed,
    chaos: f.chaos,
    topics: f.topics,
    out: f.out,
    durationMs: f.durationMs,
  };
}

/** The parts DESIGN.md fixes, in its key order, followed by everything else. */
export function reportJson(r: ReplayReport): Record<string, unknown> {
  const { ok, expected, matched, mismatched, missing, extra } = r.parity;
  return {
    parity: { ok, expected, matched, mismatched, missing, extra, duplicates: r.parity.duplicates },
    rejected: r.rejected,
    late: r.late,
    ticks: r.ticks,
    throughput: r.throughput,
    latency: r.latency,
    explainedByLate: r.explainedByLate,
    feature: r.feature,
    ticksFile: r.ticksFile,
    windows: r.windows,
    rejectedInStream: r.rejectedInStream,
    lateInStream: r.lateInStream,
    rejections: r.rejections,
    mismatches: r.parity.mismatches,
    missingWindows: r.parity.missingWindows,
    extraWindows: r.parity.extraWindows,
    broker: r.broker,
    redis: r.redis,
    partitions: r.partitions,
    speed: r.speed,
    chaos: r.chaos,
    topics: r.topics,
    out: r.out,
    durationMs: r.durationMs,
    ...(r.steps ? { ok: replayOk(r), steps: r.steps.map((x) => reportJson(x)) } : {}),
    ...(r.vectors ? { vectors: r.vectors } : {}),
    ...(r.model ? { model: r.model } : {}),
  };
}

const fmt = (n: number | null, digits = 0) =>
  n === null ? "–" : n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** The parity report as plain text (non-TTY output and logs). `hi` wraps text to highlight (colour or not). */
export function reportText(r: ReplayReport, hi: (s: string) => string = (s) => s): string {
  if (r.steps) {
    const reads = (x: ReplayReport, i: number) => (i && x.topics.input === r.steps![i - 1]!.topics.output ? ` (reads ${r.steps![i - 1]!.feature.name})` : " (reads the ticks)");
    const parts = r.steps.map((x, i) => `step ${i + 1} of ${r.steps!.length}: ${x.feature.name}${reads(x, i)}\n${stepText(x, hi)}`);
    const v = r.vectors;
    const m = r.model;
    const vectors = v
      ? `${hi(v.ok ? "VECTORS OK" : "VECTORS DIFFER")}  ${v.spec}: ${v.equal} of ${v.samples} vectors read from Redis (${v.midRun} mid-replay) equal the batch vector at their asOf${v.unknown ? `; ${v.unknown} reads before a key was stored` : ""}\n`
      : "";
    const verdict = r.parity.ok && r.steps.every((x) => x.parity.ok) ? `every step ${v || m ? "" : "of the chain "}has parity` : "PARITY FAILED in a step";
    const model = m
      ? `${hi(m.ok ? "PREDICTIONS OK" : "PREDICTIONS DIFFER")}  model ${m.model}: ${m.equal} of ${m.expected} batch predictions made by the model step${m.missing ? `; ${m.missing} missing` : ""}${m.differing ? `; ${m.differing} differ` : ""}${m.extra ? `; ${m.extra} not in batch` : ""}${m.chaos ? ` (model step SIGKILLed ${m.chaos.kills} times)` : ""}\n`
      : "";
    return `${parts.join("\n")}\n${verdict}\n${vectors}${model}`;
  }
  return stepText(r, hi);
}

function stepText(r: ReplayReport, hi: (s: string) => string): string {
  const p = r.parity;
  const lines: string[] = [];
  const verdict = p.ok ? "PARITY OK" : "PARITY FAILED";
  lines.push(`${hi(verdict)}  ${r.feature.name} (${r.feature.ref}) on ${r.ticksFile}`);
  lines.push("");
  const rows: [string, string][] = [
    ["ticks", fmt(r.ticks)],
    ["rejected", `${fmt(r.rejected)} (stream dead-letter: ${fmt(r.rejectedInStream)})`],
    ["late", `${fmt(r.late)} (stream late topic: ${fmt(r.lateInStream)})`],
    ["windows expected", fmt(p.expected)],
    ["matched", fmt(p.matched)],
    ["mismatched", fmt(p.mismatched)],
    ["missing", fmt(p.missing)],
    ["extra", fmt(p.extra)],
    ["redelivered", fmt(p.duplicates)],
    ["produced", `${fmt(r.throughput.producedPerSec)} ticks/s`],
    ["processed", `${fmt(r.throughput.processedPerSec)} ticks/s`],
    ["latency p50/p99", `${fmt(r.latency.p50Ms, 1)} / ${fmt(r.latency.p99Ms, 1)} ms (tick → window)`],
    ["broker", `${r.broker.provider} ${r.broker.brokers.join(",")}`],
    ["redis", r.redis.url ? `${r.redis.provider} ${r.redis.url}` : "none"],
    ["chaos", r.chaos.requested ? `${r.chaos.kills} SIGKILLs, ${r.chaos.restarts} restarts` : "off"],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) lines.push(`  ${k.padEnd(w)}  ${v}`);
  if (r.rejections.length) {
    lines.push("", "first rejected lines:");
    for (const j of r.rejections.slice(0, 5)) lines.push(`  line ${j.line ?? "?"}: ${j.reason}`);
  }
  if (p.mismatches.length) {
    lines.push("", "mismatched windows (batch | stream):");
    for (const m of p.mismatches.slice(0, 5)) {
      lines.push(`  ${m.key} [${new Date(m.start).toISOString()}, ${new Date(m.end).toISOString()})`);
      for (const d of m.diffs) lines.push(`    ${hi(d.field.padEnd(8))} ${String(d.expected).padEnd(22)} | ${String(d.actual)}`);
    }
  }
  for (const [title, list] of [
    ["missing from the stream", p.missingWindows],
    ["extra in the stream", p.extraWindows],
  ] as const) {
    if (!list.length) continue;
    lines.push("", `${title}:`);
    for (const m of list.slice(0, 5)) lines.push(`  ${m.key} [${new Date(m.start).toISOString()}, ${new Date(m.end).toISOString()})`);
  }
  if (!p.ok && r.explainedByLate) {
    lines.push("", "Every difference is in a window that late ticks fell into: stream and batch differ only because of late events.");
  }
  return `${lines.join("\n")}\n`;
}
