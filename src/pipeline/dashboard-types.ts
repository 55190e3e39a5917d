/** The shapes the dashboard's data source hands the UI: plain data, computed once per refresh. */
import type { Candle } from "../chart/candles.js";
import type { TopicLag } from "./lag.js";
import type { ReplicaStatus } from "./status.js";
import type { StepState } from "./types.js";

/** What a source step (coinbase, replay) reports about its feed, combined over its replicas. */
export interface SourceView {
  /** "coinbase", "replay", or null when the step reports no source section. */
  type: string | null;
  endpoint: string | null;
  products: string[];
  /** Every reporting replica is connected; null when none says. */
  connected: boolean | null;
  reconnects: number;
  duplicates: number;
  /** Wall time of the newest message any replica received. */
  lastMessageAt: number | null;
}

export interface StepView {
  name: string;
  kind: "Service" | "Job" | "Managed";
  /** A source reads no topic (its metrics say `kind: "source"`, or it has outputs and no inputs). */
  role: "source" | "step";
  /** Place in the topic flow: 0 for a source, 1 + the rank of the steps writing what it reads. */
  rank: number;
  state: StepState;
  replicas: number;
  running: number;
  restarts: number;
  pids: number[];
  instances: ReplicaStatus[];
  consumerGroup: string;
  inputs: string[];
  outputs: string[];
  /** Per second, summed over replicas, from counter deltas between reports; 0 until two reports have been seen.
   * For a source, consumed = messages received and emitted = messages produced; for a step, emitted = final windows. */
  consumedRate: number;
  emittedRate: number;
  rejectedRate: number;
  lateRate: number;
  /** Early results (emit "update") written per second. */
  updatesRate: number;
  /** Recent rates, oldest first, one per refresh. */
  consumedHistory: number[];
  emittedHistory: number[];
  /** Counters from the steps' metrics; null when no replica reports (a step without the runtime, or no Redis). */
  consumed: number | null;
  emitted: number | null;
  rejected: number | null;
  late: number | null;
  updates: number | null;
  windowsOpen: number | null;
  /** Largest end (epoch ms) of the final windows written: the step's metrics, else the newest in the online store. */
  lastWindowEnd: number | null;
  /** Age of what the step last produced, ms: now − `lastWindowEnd` for a step, now − the last message for a source. */
  freshnessMs: number | null;
  /** Committed lag per input topic (Kafka admin API); `lagTotal` is null when it could not be read. */
  lag: TopicLag[];
  lagTotal: number | null;
  /** The newest error a replica reported, else the last line of a replica that crashed. */
  lastError: string | null;
  /** The feature the step computes (its candles are in the online store under this name); null for a source. */
  feature: string | null;
  source: SourceView | null;
}

export interface CandleView {
  step: string;
  feature: string;
  product: string | null;
  products: string[];
  /** The newest final windows, oldest first (at most the count asked for). */
  records: Candle[];
  /** The open window's current value (`final: "false"` in the latest hash), when it is newer than every record. */
  inProgress: Candle | null;
}

export interface DashboardData {
  at: number;
  found: boolean;
  running: boolean;
  descriptor: string;
  brokers: string[];
  redisUrl: string | null;
  supervisorPid: number | null;
  /** Ordered by topic flow: sources first, then the steps reading their topics, then downstream. */
  steps: StepView[];
  /** The step this refresh was read for (the query's, else the first that computes a feature). */
  selected: string | null;
  candles: CandleView | null;
  /** Recent log lines of the queried step (only when asked). */
  logs: string[] | null;
  /** What could not be read this time (the dashboard keeps going and says so). */
  problems: string[];
  /** How long this refresh took, ms (reads of the state file, Redis and Kafka). */
  refreshMs: number;
}

export interface DashboardQuery {
  /** The selected step (default: the first that computes a feature, else the first). */
  step?: string;
  /** Product whose candles to show (default: the first the step has). */
  product?: string;
  /** Include the selected step's recent log lines. */
  logs?: boolean;
  logLines?: number;
  /** Final candles to fetch, newest (default 120, at most 1,000): one read of that many, whatever the history. */
  candles?: number;
}
