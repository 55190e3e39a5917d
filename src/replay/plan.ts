import { relative, resolve } from "node:path";
import { InputError } from "../errors/index.js";
import { resolveFeatureRef } from "../feature/ref.js";
import { type TopicSpec, uniqueName } from "../kafka/index.js";
import { changelogTopic } from "../stream/changelog.js";
import { parseSpeed } from "./produce.js";
import type { ReplayOptions } from "./types.js";

/**
 * The replay's plan, computed from its options without I/O: checked numbers, where the services come from, the
 * topic and group names, and the environment of the step's child process. Bad options fail here, before
 * anything starts, with an `InputError` whose `context.option` names the option (the CLI turns it into its flag).
 */
export interface ReplaySettings {
  /** The reference as given (for the report). */
  ref: string;
  /** The same reference with an absolute module path: what the step child is told to run. */
  refForChild: string;
  cwd: string;
  ticksFile: string;
  /** `ticksFile` relative to `cwd` when it lies below it, else absolute (for the report). */
  ticksShown: string;
  /** What `startBroker` is asked for: a provider, or `external` with the address given. */
  broker: { provider: string; address?: string };
  /** What `startRedis` is asked for. */
  redis: string;
  partitions: number;
  /** Ticks per event-time unit: `Infinity` for max. */
  speed: number;
  speedText: string;
  chaos: number;
  seed: number;
  stallMs: number;
  keep: boolean;
  processing: "at-least-once" | "exactly-once";
  read: { csvMap?: string };
  /** `out` as given (for the report), and resolved against `cwd`. */
  out: string | null;
  outFile: string | null;
  /** `--vectors SPEC`, and samples per key. */
  vectors: string | null;
  /** `--model REF`. */
  model: string | null;
  vectorSamples: number;
}

/** The names one replay uses, unique to it: every one starts with `base`, so cleanup can find them all. */
export interface ReplayNames {
  base: string;
  topics: { input: string; output: string; dlq: string; late: string };
  /** The step's consumer group. */
  group: string;
  /** The collector's own group. */
  readerGroup: string;
  /** The step's changelog topic (it creates it; the replay deletes it). */
  changelog: string;
}

export const MAX_PARTITIONS = 64;
const DEFAULT_STALL_MS = 90_000;

/** An option that cannot be used: names it in `context.option`, with the value given. */
function badOption(option: keyof ReplayOptions, value: unknown, remedy: string): InputError {
  return new InputError(`bad replay option ${option} '${String(value)}'`, { remedy, context: { field: option, option, value } });
}

/**
 * Check the options and resolve their defaults. `defaults.seed` seeds chaos when the options give none.
 * @example replaySettings({ ref: "f.ts#x", ticks: "t.jsonl", partitions: 4 }, { cwd: "/p", seed: 1 }).partitions // 4
 */
export function replaySettings(o: ReplayOptions, defaults: { cwd: string; seed: number }): ReplaySettings {
  const cwd = o.cwd ?? defaults.cwd;
  if ((typeof o.ref !== "string" || o.ref.trim() === "") && !o.vectors && !o.model) throw badOption("ref", o.ref, "name a feature as path/to/module.ts#exportName");
  if (typeof o.ticks !== "string" || o.ticks.trim() === "") throw badOption("ticks", o.ticks, "name a ticks file (.jsonl, .json or .csv)");
  const partitions = o.partitions ?? 3;
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > MAX_PARTITIONS) {
    throw badOption("partitions", o.partitions, `give a whole number from 1 to ${MAX_PARTITIONS}`);
  }
  const speedText = o.speed ?? "max";
  let speed: number;
  try {
    speed = parseSpeed(speedText);
  } catch {
    throw badOption("speed", speedText, "use max, 1x, or Nx (e.g. 10x, 0.5x)");
  }
  const chaos = o.chaos ?? 0;
  if (!Number.isInteger(chaos) || chaos < 0) throw badOption("chaos", o.chaos, "give a whole number of kills, e.g. 5");
  const seed = o.seed ?? defaults.seed;
  if (!Number.isFinite(seed)) throw badOption("seed", o.seed, "give a number, e.g. 1");
  const stallMs = o.stallMs ?? DEFAULT_STALL_MS;
  if (!(stallMs > 0)) throw badOption("stallMs", o.stallMs, "give milliseconds above the longest broker outage to ride out, e.g. 90000");
  const brokerText = o.broker ?? "auto";
  const ticksFile = resolve(cwd, o.ticks);
  const shown = relative(cwd, ticksFile);
  return Object.freeze({
    ref: o.ref,
    refForChild: o.ref ? resolveFeatureRef(o.ref, cwd) : "",
    cwd,
    ticksFile,
    ticksShown: shown.startsWith("..") ? ticksFile : shown,
    // HOST:PORT[,HOST:PORT] is a broker we are given; anything else names a provider.
    broker: /:\d+/.test(brokerText) ? { provider: "external", address: brokerText } : { provider: brokerText },
    redis: o.redis ?? "auto",
    partitions,
    speed,
    speedText,
    chaos,
    seed,
    stallMs,
    keep: Boolean(o.keep),
    processing: o.exactlyOnce ? "exactly-once" : "at-least-once",
    read: o.csvMap ? { csvMap: o.csvMap } : {},
    out: o.out ?? null,
    outFile: o.out === undefined ? null : resolve(cwd, o.out),
    vectors: o.vectors ?? null,
    model: o.model ?? null,
    vectorSamples: o.vectorSamples ?? 20,
  });
}

/**
 * Topic and group names for a replay of `featureName`; `unique` makes the shared prefix unique to this run.
 * @example replayNames("ohlc1m", () => "r").topics.dlq // "r.ticks.dlq"
 */
export function replayNames(featureName: string, unique: (prefix: string) => string = uniqueName): ReplayNames {
  const base = unique(`quixlab-replay-${featureName}`);
  const group = `${base}.step`;
  return {
    base,
    topics: { input: `${base}.ticks`, output: `${base}.windows`, dlq: `${base}.ticks.dlq`, late: `${base}.windows.late` },
    group,
    readerGroup: `${base}.reader`,
    changelog: changelogTopic(group, featureName),
  };
}

/**
 * The four topics, all with `partitions`. Ticks and windows carry event time as their Kafka timestamp, for
 * recordings often older than the broker's retention: without `retention.ms=-1` its next retention check may
 * delete them mid-replay. The replay deletes them afterwards (unless kept).
 */
export function replayTopics(names: ReplayNames, partitions: number): TopicSpec[] {
  const t = names.topics;
  return [t.input, t.output, t.dlq, t.late].map((topic) => ({ topic, partitions, config: { "retention.ms": "-1" } }));
}

/** Where the step child finds its services and writes its metrics. */
export interface StepServices {
  brokers: readonly string[];
  /** null: no online store. */
  redisUrl: string | null;
  metricsFile: string;
}

/** The step child's environment: the parent's, plus the topics, group and services in the names a deployment uses. */
export function stepEnvironment(s: ReplaySettings, names: ReplayNames, services: StepServices, parent: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return {
    ...parent,
    input: names.topics.input,
    output: names.topics.output,
    dlq: names.topics.dlq,
    late: names.topics.late,
    consumer_group: names.group,
    Quix__Broker__Address: services.brokers.join(","),
    REDIS_URL: services.redisUrl ?? "none",
    processing: s.processing,
    QUIXLAB_RUNTIME: "stream",
    QUIXLAB_METRICS_FILE: services.metricsFile,
    QUIXLAB_SESSION_TIMEOUT_MS: parent.QUIXLAB_SESSION_TIMEOUT_MS ?? "6000",
    // Recorded event times are not the wall clock: a replay never closes windows by idle time (DESIGN.md).
    QUIXLAB_IDLE: "0",
    NO_COLOR: "1",
  };
}
