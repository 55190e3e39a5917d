import { Redis } from "ioredis";
import { pidAlive } from "../infra/process.js";
import { readMetrics, type StepMetrics } from "../stream/metrics.js";
import { pipelineFile, readPipelineState, stepRestarts, stepState, supervisorAlive } from "./state.js";
import type { PipelineState, ReplicaRecord, StepRecord, StepState } from "./types.js";

/** What the live replicas of one step report, summed (counters) or combined. */
export interface MetricsSummary {
  /** Replicas whose heartbeat is current. */
  reporting: number;
  consumed: number;
  emitted: number;
  rejected: number;
  late: number;
  /** The steps' own view: high watermark − fetch position. The dashboard shows the committed lag too. */
  lag: number;
  windowsOpen: number;
  lastError: string | null;
  feature: string | null;
  heartbeatAt: number;
}

export interface ReplicaStatus extends ReplicaRecord {
  alive: boolean;
}

export interface StepStatus {
  name: string;
  kind: StepRecord["kind"];
  state: StepState;
  /** How its replicas run: Node processes, or containers (`pids` are then the docker clients attached to them). */
  runtime: "process" | "docker";
  consumerGroup: string;
  inputs: string[];
  outputs: string[];
  /** Replicas asked for, and how many run. */
  replicas: number;
  running: number;
  restarts: number;
  pids: number[];
  instances: ReplicaStatus[];
  metrics: MetricsSummary | null;
}

export interface PipelineStatus {
  file: string;
  /** A pipeline is recorded here. */
  found: boolean;
  /** Its supervisor runs. */
  running: boolean;
  state?: PipelineState["state"];
  error?: string;
  supervisor?: { pid: number; alive: boolean; startedAt: string };
  descriptor?: string;
  logFile?: string;
  brokers: string[];
  redisUrl: string | null;
  steps: StepStatus[];
  skipped: { name: string; reason: string }[];
  /** Whether step metrics were read: `ok`, `off` (no Redis / not asked), or why not. */
  metrics: string;
}

/** The metrics reports that belong to `step`: by step name, or by its consumer group (the runtime's default name). */
export function metricsOf(step: Pick<StepRecord, "name" | "consumerGroup">, all: readonly StepMetrics[]): StepMetrics[] {
  const byName = all.filter((m) => m.step === step.name);
  return byName.length > 0 ? byName : all.filter((m) => m.consumerGroup === step.consumerGroup);
}

/** Sum the live replicas' reports of one step; null when none reports. */
export function summarizeMetrics(ms: readonly StepMetrics[]): MetricsSummary | null {
  if (ms.length === 0) return null;
  const sum = (f: (m: StepMetrics) => number) => ms.reduce((n, m) => n + (Number.isFinite(f(m)) ? f(m) : 0), 0);
  const newest = [...ms].sort((a, b) => b.heartbeatAt - a.heartbeatAt);
  return {
    reporting: ms.length,
    consumed: sum((m) => m.consumed),
    emitted: sum((m) => m.emitted),
    rejected: sum((m) => m.rejected),
    late: sum((m) => m.late),
    lag: sum((m) => m.lag),
    windowsOpen: sum((m) => m.windowsOpen),
    lastError: newest.find((m) => m.lastError)?.lastError ?? null,
    feature: ms[0]?.feature || null,
    heartbeatAt: newest[0]!.heartbeatAt,
  };
}

/** One step's status from its record, live pids and (optional) metrics. */
export function stepStatus(s: StepRecord, metrics: readonly StepMetrics[] | undefined): StepStatus {
  const instances = s.replicas.map((r) => ({ ...r, alive: r.pid !== null && pidAlive(r.pid) }));
  return {
    name: s.name,
    kind: s.kind,
    state: stepState(s),
    runtime: s.runtime ?? "process",
    consumerGroup: s.consumerGroup,
    inputs: s.inputs,
    outputs: s.outputs,
    replicas: s.replicas.length,
    running: instances.filter((r) => r.alive && r.state === "running").length,
    restarts: stepRestarts(s),
    pids: instances.filter((r) => r.alive).map((r) => r.pid!),
    instances,
    metrics: metrics ? summarizeMetrics(metricsOf(s, metrics)) : null,
  };
}

/** A short-lived Redis client that fails fast instead of queueing while Redis is away. */
export function quickRedis(url: string, timeoutMs = 1_500): Redis {
  const r = new Redis(url, { lazyConnect: true, connectTimeout: timeoutMs, commandTimeout: timeoutMs, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
  r.on("error", () => undefined);
  return r;
}

/**
 * The pipeline recorded under `cwd`: steps, replicas, pids, states and restarts, plus what each step's
 * replicas report in Redis when it is reachable (`metrics: false` skips that).
 * @example const s = await pipelineStatus(process.cwd()); s.steps.map((x) => [x.name, x.state, x.pids])
 */
export async function pipelineStatus(cwd: string, opts: { metrics?: boolean } = {}): Promise<PipelineStatus> {
  const state = readPipelineState(cwd);
  if (!state) return { file: pipelineFile(cwd), found: false, running: false, brokers: [], redisUrl: null, steps: [], skipped: [], metrics: "off" };
  const alive = supervisorAlive(state);
  let metrics: StepMetrics[] | undefined;
  let note = "off";
  if (opts.metrics !== false && state.redisUrl && alive) {
    const redis = quickRedis(state.redisUrl);
    try {
      await redis.connect();
      metrics = await readMetrics(redis);
      note = "ok";
    } catch (e) {
      note = `Redis at ${state.redisUrl} did not answer: ${(e as Error).message}`;
    } finally {
      redis.disconnect();
    }
  }
  return {
    file: pipelineFile(cwd),
    found: true,
    running: alive,
    state: alive ? state.state : state.state === "failed" ? "failed" : undefined,
    ...(state.error && { error: state.error }),
    supervisor: { pid: state.supervisor.pid, alive, startedAt: state.supervisor.startedAt },
    descriptor: state.descriptor,
    logFile: state.logFile,
    brokers: state.brokers,
    redisUrl: state.redisUrl,
    steps: state.steps.map((s) => stepStatus(s, metrics)),
    skipped: state.skipped,
    metrics: note,
  };
}
