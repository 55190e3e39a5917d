/**
 * What the dashboard shows, computed: the adapter that reads the pipeline state, the steps' metrics in Redis,
 * consumer lag from the Kafka admin API, candles from the online store and the log file, and hands the UI plain
 * data. Rate arithmetic is pure (`advanceRates`); the UI never opens a socket.
 */
import { closeSync, openSync, readSync, statSync } from "node:fs";
import type { Redis } from "ioredis";
import { type AdminSession, openAdmin } from "../kafka/index.js";
import { onlineRedis } from "../store/online.js";
import { readMetrics, type StepMetrics } from "../stream/metrics.js";
import { orderByFlow } from "./dashboard-graph.js";
import { advanceRates, ageMs, isSource, type RateSample, reportedWindowEnd, sourceView } from "./dashboard-rates.js";
import { readStore, type StoreQuery } from "./dashboard-store.js";
import type { CandleView, DashboardData, DashboardQuery, StepView } from "./dashboard-types.js";
import { consumerLag, type TopicLag } from "./lag.js";
import { readPipelineState, supervisorAlive } from "./state.js";
import { metricsOf, stepStatus } from "./status.js";
import type { ExitInfo, PipelineState } from "./types.js";

export type { CandleView, DashboardData, DashboardQuery, SourceView, StepView } from "./dashboard-types.js";
export { advanceRates, type RateSample } from "./dashboard-rates.js";

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
  /** The product whose candles were last shown, per feature: the next refresh reads it in its first round trip. */
  products: Map<string, string>;
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
    products: new Map(),
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
  const empty: DashboardData = { at, found: false, running: false, descriptor: "", brokers: [], redisUrl: null, supervisorPid: null, steps: [], selected: null, candles: null, logs: null, problems: [], refreshMs: 0 };
  if (!state) return { ...empty, problems: ["no pipeline is recorded here — start one with 'quixlab up'"], refreshMs: Date.now() - at };
  const problems: string[] = [];
  const running = supervisorAlive(state);
  if (!running) problems.push(`the supervisor (pid ${state.supervisor.pid}) is not running — 'quixlab down' cleans up, 'quixlab up' starts again`);

  const conn = state.redisUrl ? redisFor(s, state.redisUrl) : undefined;
  const redis = conn?.client;
  // Metrics and lag do not depend on each other: read both at once.
  const [metrics, lags] = await Promise.all([
    conn
      ? conn.connected
          .then(() => readMetrics(conn.client))
          .catch((e: Error) => void problems.push(`Redis ${state.redisUrl}: ${e.message}`))
      : undefined,
    readLag(s, state, problems),
  ]);

  const steps = stepViews(s, state, metrics ?? undefined, lags, at);
  const selected = steps.find((x) => x.name === query.step) ?? steps.find((x) => x.feature) ?? steps[0];
  let candles: CandleView | null = null;
  if (redis && metrics) {
    // Steps that do not report their last window's end (older runtimes) are timed from the store's newest window.
    const fallback = steps.filter((x) => x.feature && x.role === "step" && x.lastWindowEnd === null && !reportsWindowEnd(x, metrics));
    const q: StoreQuery = { freshness: fallback.map((x) => x.feature!) };
    if (selected?.feature) {
      q.candles = { step: selected.name, feature: selected.feature, product: query.product ?? s.products.get(selected.feature), count: query.candles ?? 120 };
    }
    try {
      const read = await readStore(redis, q);
      candles = read.candles;
      if (candles?.product) s.products.set(candles.feature, candles.product);
      for (const x of fallback) {
        x.lastWindowEnd = read.windowEnds[x.feature!] ?? null;
        x.freshnessMs = ageMs(at, x.lastWindowEnd);
      }
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
    selected: selected?.name ?? null,
    candles,
    logs,
    problems,
    refreshMs: Date.now() - at,
  };
}

function reportsWindowEnd(step: StepView, metrics: readonly StepMetrics[]): boolean {
  return metrics.some((m) => (m.step === step.name || m.consumerGroup === step.consumerGroup) && m.lastWindowEnd !== undefined);
}

/** Committed lag of every step's group on its inputs; undefined (and a problem) when Kafka does not answer. */
async function readLag(s: SourceState, state: PipelineState, problems: string[]): Promise<TopicLag[] | undefined> {
  if (state.brokers.length === 0) return undefined;
  const admin = adminFor(s, state.brokers);
  // A source reads no topic: it has no group to ask about.
  const groups = state.steps.filter((x) => x.inputs.length > 0).map((x) => ({ group: x.consumerGroup, topics: x.inputs }));
  try {
    return await consumerLag(await admin.client, groups);
  } catch (e) {
    problems.push(`Kafka ${state.brokers.join(",")}: ${(e as Error).message}`);
    // Reconnect on the next refresh.
    void s.admin?.client.then((a) => a.disconnect()).catch(() => undefined);
    s.admin = undefined;
    return undefined;
  }
}

/** Every step's view, in topic-flow order, with rates against the previous refresh (kept in `s`). */
function stepViews(s: SourceState, state: PipelineState, metrics: StepMetrics[] | undefined, lags: TopicLag[] | undefined, at: number): StepView[] {
  const byStep: Record<string, StepMetrics[]> = {};
  for (const x of state.steps) byStep[x.name] = metrics ? metricsOf(x, metrics) : [];
  const { sample, rates } = advanceRates(s.prev, byStep);
  if (metrics) s.prev = sample;

  const views = state.steps.map((x): StepView => {
    const ms = byStep[x.name]!;
    const st = stepStatus(x, metrics);
    const rate = metrics ? rates[x.name]! : { consumed: 0, emitted: 0, rejected: 0, late: 0, updates: 0 };
    const h = s.history.get(x.name) ?? { consumed: [], emitted: [] };
    h.consumed = [...h.consumed, rate.consumed].slice(-s.historyLength);
    h.emitted = [...h.emitted, rate.emitted].slice(-s.historyLength);
    s.history.set(x.name, h);
    const m = st.metrics;
    const crashed = x.replicas.map((r) => r.lastExit).filter((e) => e && (e.code !== 0 || e.signal)).sort((a, b) => (a!.at < b!.at ? 1 : -1))[0];
    const lag = (lags ?? []).filter((l) => l.group === x.consumerGroup && x.inputs.includes(l.topic));
    const role = isSource(x, ms) ? "source" : "step";
    const source = role === "source" ? sourceView(ms) : null;
    const lastWindowEnd = role === "step" ? (reportedWindowEnd(ms) ?? null) : null;
    const updates = ms.some((r) => typeof r.updates === "number") ? ms.reduce((n, r) => n + (r.updates ?? 0), 0) : null;
    return {
      name: x.name,
      kind: x.kind,
      role,
      rank: 0,
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
      rejectedRate: rate.rejected,
      lateRate: rate.late,
      updatesRate: rate.updates,
      consumedHistory: h.consumed,
      emittedHistory: h.emitted,
      consumed: m?.consumed ?? null,
      emitted: m?.emitted ?? null,
      rejected: m?.rejected ?? null,
      late: m?.late ?? null,
      updates,
      windowsOpen: m?.windowsOpen ?? null,
      lastWindowEnd,
      freshnessMs: role === "source" ? ageMs(at, source?.lastMessageAt) : ageMs(at, lastWindowEnd),
      lag,
      lagTotal: lags === undefined || x.inputs.length === 0 ? null : lag.reduce((n, l) => n + l.lag, 0),
      lastError: m?.lastError ?? (crashed ? describeExit(crashed) : null),
      feature: role === "source" ? null : (m?.feature ?? null),
      source,
    };
  });
  return orderByFlow(views);
}

/** How a replica ended, for a "last error" cell: the signal, or the exit code with its last line of output. */
export function describeExit(e: ExitInfo): string {
  if (e.signal) return `killed by ${e.signal} at ${e.at.slice(11, 19)}`;
  return `exit ${e.code} at ${e.at.slice(11, 19)}${e.line ? `: ${e.line}` : ""}`;
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
