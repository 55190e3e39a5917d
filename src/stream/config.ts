import { parseBrokerList } from "../broker/select.js";
import { InputError } from "../errors/index.js";
import { connectQuixCloud, QUIX_ENV, quixCloudCredentials } from "../kafka/index.js";
import type { Processing, StepOptions } from "./options.js";

/**
 * How a deployed step is configured: environment variables named like the descriptor's variables, so a promoted
 * app runs the same way locally and in a container. Flags (the CLI's overrides) win over the environment.
 */
export const STEP_ENV = {
  input: "input topic (ticks), required",
  output: "output topic (final windows), required",
  Quix__Broker__Address: "Kafka bootstrap servers HOST:PORT[,HOST:PORT] (or KAFKA_BROKERS, or the Quix Cloud variables below)",
  KAFKA_BROKERS: "used when Quix__Broker__Address is not set",
  Quix__Sdk__Token: "Quix Cloud (injected there): with no broker address, the broker, SASL and CA come from the Portal API",
  Quix__Portal__Api: "Quix Cloud's Portal API URL, required with Quix__Sdk__Token",
  Quix__Workspace__Id: "Quix Cloud workspace: topics are its topic ids, the group gets its prefix (default: the token's only workspace)",
  REDIS_URL: "online store; unset or 'none' = no online store",
  consumer_group: "consumer group (default Quix__Consumer_Group, as quix-streams reads it, else quixlab-<feature>); replicas share it",
  processing: "at-least-once (default) or exactly-once",
  dlq: "dead-letter topic (default <input>.dlq)",
  late: "late-tick topic (default <output>.late)",
  QUIXLAB_METRICS_FILE: "also write the step's metrics as JSON to this file, every second",
  QUIXLAB_REPLICA_ID: "replica name in metrics (default <host>-<pid>)",
  QUIXLAB_STEP: "step name in metrics (default the consumer group); 'quixlab up' sets it to the deployment's name",
  QUIXLAB_WORKER: "1 = decode and window in a worker thread while the main thread fetches (default), 0 = in the step's own thread",
  QUIXLAB_RAW_FETCH: "1 = the worker reads record batches as fetched (default), 0 = kafkajs decodes them first (same output, slower)",
  QUIXLAB_SESSION_TIMEOUT_MS: "consumer group session timeout (default 10000): how soon a dead replica's partitions move",
  QUIXLAB_IDLE: "1 = a window with `idle` closes quiet keys on the wall clock (default), 0 = never (replay sets it: recorded times are not now)",
  updates: "early-results topic of a feature with emit \"update\" (default <output>.updates)",
} as const;

/** Flag values that override the environment. */
export interface StepOverrides {
  input?: string;
  output?: string;
  broker?: string;
  redis?: string;
  group?: string;
  exactlyOnce?: boolean;
  dlq?: string;
  late?: string;
}

export type StepConfig = Omit<StepOptions, "signal" | "onMetrics" | "log">;

const nonEmpty = (v: string | undefined) => (v === undefined || v.trim() === "" ? undefined : v.trim());

/**
 * Step options from the environment and flag overrides, for a broker address (`--broker`, Quix__Broker__Address,
 * KAFKA_BROKERS); a missing required setting is an InputError (exit 2) naming the variable and the flag. A Quix
 * Cloud deployment (only Quix__Sdk__Token and friends) needs the Portal API: use `resolveStepConfig`.
 * @example stepConfigFromEnv(process.env, { exactlyOnce: true })
 */
export function stepConfigFromEnv(env: NodeJS.ProcessEnv, flags: StepOverrides = {}): StepConfig {
  const base = baseConfig(env, flags);
  const broker = brokerSetting(env, flags);
  if (!broker) {
    if (quixCloudCredentials(env)) {
      throw new InputError(`${QUIX_ENV.sdkToken} is set and no broker address: the Quix Cloud connection comes from the Portal API`, {
        remedy: "call resolveStepConfig (async) instead of stepConfigFromEnv, or set Quix__Broker__Address",
        context: { field: QUIX_ENV.sdkToken },
      });
    }
    throw noBroker();
  }
  return { ...base, brokers: parseBrokerList(broker.text, broker.source) };
}

export interface ResolveStepConfigOptions {
  log?: (line: string) => void;
  /** The HTTP client for the Portal API (tests). */
  fetch?: typeof fetch;
}

/**
 * `stepConfigFromEnv`, and also on Quix Cloud: with no broker address (which still wins, as in quix-streams) and
 * `Quix__Sdk__Token` set, the workspace's broker settings come from the Portal API (`Quix__Portal__Api`,
 * `Quix__Workspace__Id`), and the step's topics and group are the workspace's (`StepOptions.platform`).
 * Bad tokens and an unreachable API are QuixCloudErrors naming the variable to check.
 * @example const step = await runStep(feature, { ...(await resolveStepConfig(process.env)), log })
 */
export async function resolveStepConfig(env: NodeJS.ProcessEnv, flags: StepOverrides = {}, opts: ResolveStepConfigOptions = {}): Promise<StepConfig> {
  const base = baseConfig(env, flags);
  const broker = brokerSetting(env, flags);
  if (broker) return { ...base, brokers: parseBrokerList(broker.text, broker.source) };
  const credentials = quixCloudCredentials(env);
  if (!credentials) throw noBroker();
  const quix = await connectQuixCloud({ ...credentials, log: opts.log, fetch: opts.fetch });
  return { ...base, brokers: quix.connection.brokers, connection: quix.connection, platform: quix };
}

function brokerSetting(env: NodeJS.ProcessEnv, flags: StepOverrides): { text: string; source: string } | undefined {
  const text = nonEmpty(flags.broker) ?? nonEmpty(env.Quix__Broker__Address) ?? nonEmpty(env.KAFKA_BROKERS);
  if (!text) return undefined;
  return { text, source: nonEmpty(flags.broker) ? "--broker" : nonEmpty(env.Quix__Broker__Address) ? "Quix__Broker__Address" : "KAFKA_BROKERS" };
}

function noBroker(): InputError {
  return new InputError("no Kafka broker address", {
    remedy: "set Quix__Broker__Address (or KAFKA_BROKERS) to HOST:PORT, or pass --broker HOST:PORT (on Quix Cloud: Quix__Sdk__Token and Quix__Portal__Api)",
    context: { field: "Quix__Broker__Address" },
  });
}

/** Everything but the brokers, checked. */
function baseConfig(env: NodeJS.ProcessEnv, flags: StepOverrides): Omit<StepConfig, "brokers"> {
  const inputTopic = nonEmpty(flags.input) ?? nonEmpty(env.input);
  const outputTopic = nonEmpty(flags.output) ?? nonEmpty(env.output);
  if (!inputTopic) throw new InputError("no input topic", { remedy: "set the 'input' environment variable or pass --input TOPIC", context: { field: "input" } });
  if (!outputTopic) throw new InputError("no output topic", { remedy: "set the 'output' environment variable or pass --output TOPIC", context: { field: "output" } });
  const redisText = nonEmpty(flags.redis) ?? nonEmpty(env.REDIS_URL);
  let redis: string | null = null;
  if (redisText && redisText !== "none") {
    if (!/^rediss?:\/\//.test(redisText)) {
      throw new InputError(`bad Redis URL '${redisText}'`, {
        remedy: "use redis://HOST:PORT (or 'none' for no online store) in REDIS_URL or --redis",
        context: { field: flags.redis ? "--redis" : "REDIS_URL" },
      });
    }
    redis = redisText;
  }
  const processingText = flags.exactlyOnce ? "exactly-once" : (nonEmpty(env.processing) ?? "at-least-once");
  if (processingText !== "at-least-once" && processingText !== "exactly-once") {
    throw new InputError(`bad processing guarantee '${processingText}'`, {
      remedy: "set 'processing' to at-least-once or exactly-once (or pass --exactly-once)",
      context: { field: "processing" },
    });
  }
  let sessionTimeoutMs: number | undefined;
  const session = nonEmpty(env.QUIXLAB_SESSION_TIMEOUT_MS);
  if (session !== undefined) {
    sessionTimeoutMs = Number(session);
    if (!Number.isInteger(sessionTimeoutMs) || sessionTimeoutMs < 1_000) {
      throw new InputError(`bad QUIXLAB_SESSION_TIMEOUT_MS '${session}'`, { remedy: "give milliseconds, at least 1000 (the broker's minimum is usually 6000)" });
    }
  }
  const workerText = nonEmpty(env.QUIXLAB_WORKER);
  if (workerText !== undefined && workerText !== "0" && workerText !== "1") {
    throw new InputError(`bad QUIXLAB_WORKER '${workerText}'`, { remedy: "set it to 1 (a worker thread, the default) or 0 (the step's own thread)", context: { field: "QUIXLAB_WORKER" } });
  }
  const rawText = nonEmpty(env.QUIXLAB_RAW_FETCH);
  if (rawText !== undefined && rawText !== "0" && rawText !== "1") {
    throw new InputError(`bad QUIXLAB_RAW_FETCH '${rawText}'`, { remedy: "set it to 1 (record batches as fetched, the default) or 0 (decoded by kafkajs)", context: { field: "QUIXLAB_RAW_FETCH" } });
  }
  const idleText = nonEmpty(env.QUIXLAB_IDLE);
  if (idleText !== undefined && idleText !== "0" && idleText !== "1") {
    throw new InputError(`bad QUIXLAB_IDLE '${idleText}'`, { remedy: "set it to 1 (close quiet keys on the wall clock, the default) or 0 (never)", context: { field: "QUIXLAB_IDLE" } });
  }
  return {
    inputTopic,
    outputTopic,
    ...(nonEmpty(env.updates) ? { updatesTopic: nonEmpty(env.updates) } : {}),
    ...(idleText === undefined ? {} : { idle: idleText === "1" }),
    consumerGroup: nonEmpty(flags.group) ?? nonEmpty(env.consumer_group) ?? nonEmpty(env.Quix__Consumer_Group),
    redis,
    processing: processingText as Processing,
    dlqTopic: nonEmpty(flags.dlq) ?? nonEmpty(env.dlq),
    lateTopic: nonEmpty(flags.late) ?? nonEmpty(env.late),
    metricsFile: nonEmpty(env.QUIXLAB_METRICS_FILE),
    replicaId: nonEmpty(env.QUIXLAB_REPLICA_ID),
    stepName: nonEmpty(env.QUIXLAB_STEP),
    sessionTimeoutMs,
    ...(workerText === undefined ? {} : { worker: workerText === "1" }),
    ...(rawText === undefined ? {} : { rawFetch: rawText === "1" }),
  };
}
