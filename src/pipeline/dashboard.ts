/**
 * What the dashboard shows, computed: the adapter that reads the pipeline state, the steps' metrics in Redis,
 * consumer lag from the Kafka admin API, candles from the online store and the log file, and hands the UI plain
 * data. Rate arithmetic is pure (`advanceRates`); the UI never opens a socket.
 */
import { closeSync, openSync, readSync, statSync } from "node:fs";
import type { Redis } from "ioredis";
import { type AdminSession, openAdmin } from "../kafka/index.js";
import type { Candle } from "../chart/candles.js";
import { getKeys, onlineRedis, windowsKey } from "../store/online.js";
import { readMetrics, type StepMetrics } from "../stream/metrics.js";
import { consumerLag, type TopicLag } from "./lag.js";
import { readPipelineState, supervisorAlive } from "./state.js";
import { metricsOf, type ReplicaStatus, stepStatus } from "./status.js";
import type { ExitInfo, StepState } from "./types.js";

export interface StepView {
  name: string;
  kind: "Service" | "Job" | "Managed";
  state: StepState;
  replicas: number;
  running: number;
  restarts: number;
  pids: number[];
  instances: ReplicaStatus[];
  consumerGroup: string;
  inputs: string[];
  outputs: string[];
  /** Messages per second, summed over replicas; 0 until two reports have been seen. */
  consumedRate: number;
  emittedRate: number;
  /** Recent rates, oldest first, one per refresh. */
  consumedHistory: number[];
  emittedHistory: number[];
  /** Counters from the steps' metrics; null when no replica reports (a step without the runtime, or no Redis). */
  consumed: number | null;
  emitted: number | null;
  rejected: number | null;
  late: number | null;
  windowsOpen: number | null;
  /** Committed lag per input topic (Kafka admin API); `lagTotal` is null when it could not be read. */
  lag: TopicLag[];
  lagTotal: number | null;
  /** The newest error a replica reported, else the last line of a replica that crashed. */
  lastError: string | null;
  /** The feature the step computes (its candles are in the online store under this name). */
  feature: string | null;
}

export interface CandleView {
  step: string;
  feature: string;
  product: string | null;
  products: string[];
  /** Oldest first. */
  records: Candle[];
}

export interface DashboardData {
  at: number;
  found: boolean;
  running: boolean;
  descriptor: string;
  brokers: string[];
  redisUrl: string | null;
  supervisorPid: number | null;
  steps: StepView[];
  candles: CandleView | null;
  /** Recent log lines of the queried step (only when asked). */
  logs: string[] | null;
  /** What could not be read this time (the dashboard keeps going and says so). */
  problems: string[];
}

export interface DashboardQuery {
  /** The selected step (default: the first). */
  step?: string;
  /** Product whose candles to show (default: the first the step has). */
  product?: string;
  /** Include the selected step's recent log lines. */
  logs?: boolean;
  logLines?: number;
  /** Candles to fetch (default 60). */
  candles?: number;
}

interface ReplicaSample {
  consumed: number;
  emitted: number;
  heartbeatAt: number;
  startedAt: number;
  consumedRate: number;
  emittedRate: number;
}

/** Per step, per replica: the last report seen and the rates derived from it. */
export type RateSample = Record<string, Record<string, ReplicaSample>>;

/**
 * Rates from two successive reads of the metrics: per replica (count delta / heartbeat delta, so a read that
 * sees no new report keeps the last rate instead of dropping to 0), summed per step. A replica that restarted
 * (its counters reset) is rated from its start.
 */
export function advanceRates(prev: RateSample | undefined, byStep: Readonly<Record<string, readonly StepMetrics[]>>): { sample: RateSample; rates: Record<string, { consumed: number; emitted: number }> } {
  const sample: RateSample = {};
  const rates: Record<string, { consumed: number; emitted: number }> = {};
  for (const [step, ms] of Object.entries(byStep)) {
    sample[step] = {};
    rates[step] = { consumed: 0, emitted: 0 };
    for (const m of ms) {
      const p = prev?.[step]?.[m.replica];
      let consumedRate = 0;
      let emittedRate = 0;
      if (p && p.heartbeatAt === m.heartbeatAt) {
        consumedRate = p.consumedRate;
        emittedRate = p.emittedRate;
      } else if (p && p.startedAt === m.startedAt && m.consumed >= p.consumed && m.heartbeatAt > p.heartbeatAt) {
        const dt = (m.heartbeatAt - p.heartbeatAt) / 1000;
        consumedRate = (m.consumed - p.consumed) / dt;
        emittedRate = (m.emitted - p.emitted) / dt;
      } else if (p && m.heartbeatAt > m.startedAt) {
        const dt = (m.heartbeatAt - m.startedAt) / 1000;
        consumedRate = m.consumed / dt;
        emittedRate = m.emitted / dt;
      }
      sample[step]![m.replica] = { consumed: m.consumed, emitted: m.emitted, heartbeatAt: m.heartbeatAt, startedAt: m.startedAt, consumedRate, emittedRate };
      rates[step]!.consumed += consumedRate;
      rates[step]!.emitted += emittedRate;
    }
  }
  return { sample, rates };
}

/**
 * Connections and history kept between refreshes; `close()` when done: it waits for refreshes in flight, closes
 * both connections, and later refreshes reject.
 */
export interface DashboardSource {
  readonly cwd: string;
  close(): Promise<void>;
}

interface SourceState extends DashboardSource {
  historyLength: number;
  /** Set by `close()`: a refresh still in flight must not open a connection nobody will close. */
  closed: boolean;
  /** Refreshes in flight: `close()` waits for them, as kafkajs opens broker connections mid-request that a
   * disconnect issued meanwhile does not close. */
  loads: Set<Promise<unknown>>;
  prev?: RateSample;
  history: Map<string, { consumed: number[]; emitted: number[] }>;
  redis?: { url: string; client: Redis; connected: Promise<void> };
  admin?: { brokers: string; client: Promise<AdminSession> };
}

class SourceClosedError extends Error {
  constructor() {
    super("the dashboard source is closed");
  }
}

/**
 * Open a source for `collectDashboardData` over the pipeline recorded under `cwd`.
 * @example const src = openDashboardSource(cwd); const data = await collectDashboardData(src, { step: "ohlc" }); await src.close()
 */
export function openDashboardSource(cwd: string, opts: { historyLength?: number } = {}): DashboardSource {
  const s: SourceState = {
    cwd,
    historyLength: opts.historyLength ?? 60,
    history: new Map(),
    closed: false,
    loads: new Set(),
    async close() {
      s.closed = true;
      // Redis first: a refresh waiting on it fails at once instead of finishing its reads.
      s.redis?.client.disconnect();
      s.redis = undefined;
      await Promise.allSettled([...s.loads]);
      await s.admin?.client.then((a) => a.disconnect()).catch(() => undefined);
      s.admin = undefined;
    },
  };
  return s;
}

function redisFor(s: SourceState, url: string): { client: Redis; connected: Promise<void> } {
  if (s.closed) throw new SourceClosedError();
  if (s.redis?.url !== url) {
    s.redis?.client.disconnect();
    // Commands fail fast rather than queue while Redis is away; the first one waits for the connection.
    const client = onlineRedis(url, { commandTimeout: 2_000, lazyConnect: true });
    s.redis = { url, client, connected: client.connect() };
  }
  return s.redis;
}

function adminFor(s: SourceState, brokers: string[]): { client: Promise<AdminSession> } {
  if (s.closed) throw new SourceClosedError();
  const key = brokers.join(",");
  if (s.admin?.brokers !== key) {
    void s.admin?.client.then((a) => a.disconnect()).catch(() => undefined);
    // Few retries: a refresh must not hang for half a minute while the broker is away.
    const client = openAdmin(brokers, { clientId: "quixlab-dashboard", config: { connectionTimeout: 2_000, requestTimeout: 5_000, retry: { retries: 1 } } });
    client.catch(() => undefined);
    s.admin = { brokers: key, client };
  }
  return s.admin;
}

/**
 * One refresh of the dashboard: every step's state, rates (with history), counters, committed lag, last error;
 * the selected step's candles and, when asked, its log lines. Failures of Redis or Kafka become `problems`.
 */
export async function collectDashboardData(source: DashboardSource, query: DashboardQuery = {}): Promise<DashboardData> {
  const s = source as SourceState;
  if (s.closed) throw new SourceClosedError();
  const load = collect(s, query);
  s.loads.add(load);
  try {
    return await load;
  } finally {
    s.loads.delete(load);
  }
}

async function collect(s: SourceState, query: DashboardQuery): Promise<DashboardData> {
  const at = Date.now();
  const state = readPipelineState(s.cwd);
  const empty: DashboardData = { at, found: false, running: false, descriptor: "", brokers: [], redisUrl: null, supervisorPid: null, steps: [], candles: null, logs: null, problems: [] };
  if (!state) return { ...empty, problems: ["no pipeline is recorded here — start one with 'quixlab up'"] };
  const problems: string[] = [];
  const running = supervisorAlive(state);
  if (!running) problems.push(`the supervisor (pid ${state.supervisor.pid}) is not running — 'quixlab down' cleans up, 'quixlab up' starts again`);

  let metrics: StepMetrics[] | undefined;
  const conn = state.redisUrl ? redisFor(s, state.redisUrl) : undefined;
  const redis = conn?.client;
  if (conn && redis) {
    try {
      await conn.connected;
      metrics = await readMetrics(redis);
    } catch (e) {
      problems.push(`Redis ${state.redisUrl}: ${(e as Error).message}`);
    }
  }
  let lags: TopicLag[] | undefined;
  if (state.brokers.length > 0) {
    const admin = adminFor(s, state.brokers);
    try {
      lags = await consumerLag(
        await admin.client,
        state.steps.map((x) => ({ group: x.consumerGroup, topics: x.inputs })),
      );
    } catch (e) {
      problems.push(`Kafka ${state.brokers.join(",")}: ${(e as Error).message}`);
      // Reconnect on the next refresh.
      void s.admin?.client.then((a) => a.disconnect()).catch(() => undefined);
      s.admin = undefined;
    }
  }

  const byStep: Record<string, StepMetrics[]> = {};
  for (const x of state.steps) byStep[x.name] = metrics ? metricsOf(x, metrics) : [];
  const { sample, rates } = advanceRates(s.prev, byStep);
  if (metrics) s.prev = sample;

  const steps = state.steps.map((x): StepView => {
    const st = stepStatus(x, metrics);
    const rate = metrics ? rates[x.name]! : { consumed: 0, emitted: 0 };
    const h = s.history.get(x.name) ?? { consumed: [], emitted: [] };
    h.consumed = [...h.consumed, rate.consumed].slice(-s.historyLength);
    h.emitted = [...h.emitted, rate.emitted].slice(-s.historyLength);
    s.history.set(x.name, h);
    const m = st.metrics;
    const crashed = x.replicas.map((r) => r.lastExit).filter((e) => e && (e.code !== 0 || e.signal)).sort((a, b) => (a!.at < b!.at ? 1 : -1))[0];
    const lag = (lags ?? []).filter((l) => l.group === x.consumerGroup && x.inputs.includes(l.topic));
    return {
      name: x.name,
      kind: x.kind,
      state: st.state,
      replicas: st.replicas,
      running: st.running,
      restarts: st.restarts,
      pids: st.pids,
      instances: st.instances,
      consumerGroup: x.consumerGroup,
      inputs: x.inputs,
      outputs: x.outputs,
      consumedRate: rate.consumed,
      emittedRate: rate.emitted,
      consumedHistory: h.consumed,
      emittedHistory: h.emitted,
      consumed: m?.consumed ?? null,
      emitted: m?.emitted ?? null,
      rejected: m?.rejected ?? null,
      late: m?.late ?? null,
      windowsOpen: m?.windowsOpen ?? null,
      lag,
      lagTotal: lags === undefined ? null : lag.reduce((n, l) => n + l.lag, 0),
      lastError: m?.lastError ?? (crashed ? describeExit(crashed) : null),
      feature: m?.feature ?? null,
    };
  });

  const selected = steps.find((x) => x.name === query.step) ?? steps[0];
  let candles: CandleView | null = null;
  if (selected?.feature && redis && metrics) {
    try {
      candles = await readCandles(redis, selected.name, selected.feature, query.product, query.candles ?? 60);
    } catch (e) {
      problems.push(`Redis ${state.redisUrl}: ${(e as Error).message}`);
    }
  }
  const logs = query.logs && selected ? tailLines(state.logFile, `[${selected.name}#`, query.logLines ?? 200) : null;
  return {
    at,
    found: true,
    running,
    descriptor: state.descriptor,
    brokers: state.brokers,
    redisUrl: state.redisUrl,
    supervisorPid: state.supervisor.pid,
    steps,
    candles,
    logs,
    problems,
  };
}

/** How a replica ended, for a "last error" cell: the signal, or the exit code with its last line of output. */
export function describeExit(e: ExitInfo): string {
  if (e.signal) return `killed by ${e.signal} at ${e.at.slice(11, 19)}`;
  return `exit ${e.code} at ${e.at.slice(11, 19)}${e.line ? `: ${e.line}` : ""}`;
}

async function readCandles(redis: Redis, step: string, feature: string, product: string | undefined, n: number): Promise<CandleView> {
  const products = await getKeys(redis, feature);
  const chosen = product && products.includes(product) ? product : (products[0] ?? null);
  const records = chosen ? (await redis.zrange(windowsKey(feature, chosen), -n, -1)).map((j) => JSON.parse(j) as Candle) : [];
  return { step, feature, product: chosen, products, records };
}

/** The last `n` lines of `file` that start with `prefix`, reading at most its last 512 KiB. */
export function tailLines(file: string, prefix: string, n: number): string[] {
  let fd: number | undefined;
  try {
    const size = statSync(file).size;
    const len = Math.min(size, 512 * 1024);
    const buf = Buffer.alloc(len);
    fd = openSync(file, "r");
    readSync(fd, buf, 0, len, size - len);
    const lines = buf.toString("utf8").split("\n");
    if (len < size) lines.shift();
    return lines.filter((l) => l.startsWith(prefix)).slice(-n);
  } catch {
    return [];
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
