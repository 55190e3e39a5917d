import { hostname } from "node:os";
import { InputError } from "../errors/index.js";
import type { Feature } from "../feature/types.js";
import type { Log } from "../infra/process.js";
import type { KafkaConnection, KafkaPlatform, KafkaTarget } from "../kafka/index.js";
import { changelogTopic } from "./changelog.js";
import type { StepMetrics } from "./metrics.js";
import type { StepTopics } from "./partition.js";

export type Processing = "at-least-once" | "exactly-once";

export interface StepOptions {
  brokers: string[];
  /** TLS/SASL with the brokers (a platform connection); its `brokers` win over `brokers` when both are given. */
  connection?: KafkaConnection;
  /**
   * Where the step runs when that is a platform (Quix Cloud, `resolveStepConfig`): it names the broker's topics and
   * group for the step's names and makes the topics exist; the step then creates none itself. Its connection is used
   * when `connection` is not given.
   */
  platform?: KafkaPlatform;
  inputTopic: string;
  outputTopic: string;
  /** Default `quixlab-<feature>`. Replicas of one step share it. */
  consumerGroup?: string;
  /** Redis URL of the online store; null/undefined: no online store. */
  redis?: string | null;
  /** Default at-least-once (outputs idempotent by (feature, key, start)); exactly-once uses Kafka transactions. */
  processing?: Processing;
  /** Default `<input>.dlq`. */
  dlqTopic?: string;
  /** Default `<output>.late`. */
  lateTopic?: string;
  /** Early results of a feature with `emit: "update"`; default `<output>.updates`. */
  updatesTopic?: string;
  /**
   * Close quiet keys' windows on the wall clock when the feature's window has `idle` (default true). A replay turns
   * it off (`quixlab run` reads QUIXLAB_IDLE=0): recorded event times are far from the wall clock.
   */
  idle?: boolean;
  clientId?: string;
  /** Name of this replica in metrics; default `<host>-<pid>`. */
  replicaId?: string;
  /**
   * Where the feature comes from (`/abs/path/module.ts#export`, as `quixlab run` passes it): with it, messages are
   * decoded and windowed in a worker thread that loads the feature from there, while the main thread fetches
   * (offload.ts). Without it the step processes in its own thread.
   */
  featureRef?: string;
  /** Use the worker thread (default: when `featureRef` is given; QUIXLAB_WORKER=0 in quixlab run turns it off). */
  worker?: boolean;
  /**
   * With the worker: hand it plain record batches as fetched (src/kafka/rawfetch.ts) instead of kafkajs' decoded
   * messages. Default true; false (QUIXLAB_RAW_FETCH=0 in quixlab run) decodes with kafkajs, with the same output.
   */
  rawFetch?: boolean;
  /** Step name in metrics; default the consumer group. */
  stepName?: string;
  /** Partitions of the input topic when the step has to create it (default 1). */
  inputPartitions?: number;
  /** Checkpoint after this many messages within a batch (default 20,000); always at the end of a batch. */
  checkpointEvery?: number;
  /** ... or after this long within a batch (default 1,000 ms). */
  checkpointIntervalMs?: number;
  /** Consumer group session timeout: how long a dead replica holds its partitions (default 10,000 ms). */
  sessionTimeoutMs?: number;
  /** Partitions processed in parallel (default 4). */
  concurrency?: number;
  /** Windows kept per key in the online store's sorted set (default: no count bound; retention by time trims them). */
  maxWindowsPerKey?: number;
  metricsIntervalMs?: number;
  /** Also write the metrics, as JSON, to this file. */
  metricsFile?: string;
  signal?: AbortSignal;
  onMetrics?(m: StepMetrics): void;
  /** One line per event of interest (assignment, restore, eof, Redis outage, errors). */
  log?: Log;
}

/** Every setting of a step, defaults applied, checked once at construction. */
export interface ResolvedOptions {
  readonly feature: Feature;
  readonly kafka: KafkaTarget;
  /** Set when the topic and group names are the platform's (`onPlatform`): topics are never created by the step. */
  readonly platform?: KafkaPlatform;
  readonly group: string;
  readonly processing: Processing;
  readonly topics: Readonly<StepTopics>;
  readonly changelog: string;
  /** The window's idle timeout in ms when the step closes quiet keys on the wall clock; 0: it does not. */
  readonly idleMs: number;
  readonly replica: string;
  readonly stepName: string;
  readonly clientId: string;
  readonly redis?: string;
  /** The feature reference the worker loads, when the step processes in a worker thread. */
  readonly worker?: string;
  readonly rawFetch: boolean;
  readonly inputPartitions: number;
  readonly checkpointEvery: number;
  readonly checkpointIntervalMs: number;
  readonly sessionTimeoutMs: number;
  readonly concurrency: number;
  readonly maxWindowsPerKey?: number;
  readonly metricsIntervalMs: number;
  readonly metricsFile?: string;
  readonly signal?: AbortSignal;
  readonly onMetrics?: (m: StepMetrics) => void;
  /** The caller's log, each line prefixed with `[step/replica]`. */
  readonly log: Log;
}

/** Check `o` (errors name the option and what to pass) and resolve every default into one frozen value. */
export function resolveOptions(feature: Feature, o: StepOptions): ResolvedOptions {
  checkOptions(feature, o);
  const group = o.consumerGroup ?? `quixlab-${feature.name}`;
  const replica = o.replicaId ?? `${hostname()}-${process.pid}`;
  const stepName = o.stepName ?? group;
  const log = o.log ?? (() => undefined);
  const worker = o.featureRef && o.worker !== false ? o.featureRef : undefined;
  const connection = o.connection ?? o.platform?.connection;
  return Object.freeze({
    feature,
    kafka: connection ? { ...connection, brokers: connection.brokers?.length ? connection.brokers : o.brokers } : o.brokers,
    platform: o.platform,
    group,
    processing: o.processing ?? "at-least-once",
    topics: Object.freeze({
      input: o.inputTopic,
      output: o.outputTopic,
      dlq: o.dlqTopic ?? `${o.inputTopic}.dlq`,
      late: o.lateTopic ?? `${o.outputTopic}.late`,
      ...(feature.window.emit === "update" ? { updates: o.updatesTopic ?? `${o.outputTopic}.updates` } : {}),
    }),
    changelog: changelogTopic(group, feature.name),
    idleMs: o.idle === false ? 0 : (feature.window.idle ?? 0),
    replica,
    stepName,
    clientId: o.clientId ?? `quixlab-${feature.name}-${replica}`,
    redis: o.redis || undefined,
    worker,
    rawFetch: o.rawFetch ?? true,
    inputPartitions: o.inputPartitions ?? 1,
    checkpointEvery: o.checkpointEvery ?? 20_000,
    checkpointIntervalMs: o.checkpointIntervalMs ?? 1_000,
    sessionTimeoutMs: o.sessionTimeoutMs ?? 10_000,
    concurrency: o.concurrency ?? 4,
    maxWindowsPerKey: o.maxWindowsPerKey,
    metricsIntervalMs: o.metricsIntervalMs ?? 1_000,
    metricsFile: o.metricsFile,
    signal: o.signal,
    onMetrics: o.onMetrics,
    log: (line: string) => log(`[${stepName}/${replica}] ${line}`),
  });
}

/**
 * On a platform, the broker's names for the step's topics and group, once the platform has made every topic exist
 * (input first: the others, when created, get its partition count). Without one, `o` itself.
 */
export async function onPlatform(o: ResolvedOptions): Promise<ResolvedOptions> {
  const p = o.platform;
  if (!p) return o;
  const { input, output, dlq, late, updates } = o.topics;
  const asked = [{ name: input, partitions: o.inputPartitions }, { name: output }, { name: dlq }, { name: late }, { name: o.changelog, compact: true }];
  const names = await p.topics(updates ? [...asked, { name: updates }] : asked);
  const [i, out, d, l, changelog, u] = names as [string, string, string, string, string, string | undefined];
  o.log(`on ${p.name}: topics ${asked.map((t) => t.name).concat(updates ? [updates] : []).map((n, k) => (n === names[k] ? n : `${n}=${names[k]}`)).join(", ")}; group ${p.group(o.group)}`);
  const topics = Object.freeze({ input: i, output: out, dlq: d, late: l, ...(u ? { updates: u } : {}) });
  return Object.freeze({ ...o, topics, changelog, group: p.group(o.group) });
}

function checkOptions(feature: Feature, o: StepOptions): void {
  const need = (v: unknown, name: string, env: string) => {
    if (typeof v !== "string" || v.trim() === "") {
      throw new InputError(`missing ${name}`, { remedy: `pass ${name} (the CLI reads it from ${env})`, context: { field: name } });
    }
  };
  if (!feature || typeof feature.engine !== "function" || typeof feature.version !== "string") {
    throw new InputError("runStep needs a feature (defined with the feature API)", { remedy: "pass the exported feature object" });
  }
  const connection = o.connection ?? o.platform?.connection;
  const brokers = connection?.brokers?.length ? connection.brokers : o.brokers;
  if (!Array.isArray(brokers) || brokers.length === 0) {
    throw new InputError("missing brokers", { remedy: "pass brokers: ['HOST:PORT'] (the CLI reads Quix__Broker__Address or KAFKA_BROKERS)", context: { field: "brokers" } });
  }
  need(o.inputTopic, "inputTopic", "the 'input' variable");
  need(o.outputTopic, "outputTopic", "the 'output' variable");
  if (o.inputTopic === o.outputTopic) {
    throw new InputError(`input and output are the same topic '${o.inputTopic}'`, { remedy: "write the windows to a topic of their own" });
  }
  if (o.worker && (typeof o.featureRef !== "string" || !o.featureRef.includes("#"))) {
    throw new InputError("the worker thread needs the feature's reference", {
      remedy: "pass featureRef: '/abs/path/module.ts#export' with worker: true",
      context: { field: "featureRef" },
    });
  }
  if (o.processing !== undefined && o.processing !== "at-least-once" && o.processing !== "exactly-once") {
    throw new InputError(`unknown processing guarantee '${o.processing}'`, { remedy: "use 'at-least-once' or 'exactly-once'", context: { field: "processing" } });
  }
}
