/**
 * How a source is configured: environment variables named like its deployment's variables (output, products,
 * endpoint, max_backoff; ticks, speed, loop), so an app folder runs the same way under `quixlab up`, in a container and on
 * Quix Cloud. Flags (the CLI's overrides) win over the environment.
 */
import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { InputError } from "../errors/index.js";
import type { KafkaConnection, KafkaPlatform } from "../kafka/index.js";
import { parseSpeed } from "../replay/produce.js";
import { resolveStepConfig } from "../stream/config.js";
import { formatDuration, parseDuration } from "../window/duration.js";
import { DEFAULT_MAX_BACKOFF_MS } from "./backoff.js";
import { COINBASE_WS } from "./protocol.js";

export type SourceType = "coinbase" | "replay";
export const SOURCE_TYPES: readonly SourceType[] = ["coinbase", "replay"];

/** The variables a source reads, for --help and the app's README. */
export const SOURCE_ENV = {
  output: "the topic the source writes (ticker messages keyed by product_id), required",
  products: "coinbase: product ids, comma-separated (e.g. BTC-USD,ETH-USD), required",
  endpoint: `coinbase: the websocket URL (default ${COINBASE_WS})`,
  max_backoff: `coinbase: the longest wait between reconnect attempts, a duration such as 500ms or 5s (default ${formatDuration(DEFAULT_MAX_BACKOFF_MS)}; jittered, never under half)`,
  ticks: "replay: the recording (JSON Lines of ticker messages, a JSON array, or CSV), relative to the working folder, required",
  speed: "replay: max, 1x (the recording's own gaps, default) or Nx",
  loop: "replay: true = replay again and again, each pass's event times shifted by the recording's span (default false)",
  eof: "replay: true = end-of-input markers after the last tick (default false: a live pipeline does not end)",
  Quix__Broker__Address: "Kafka bootstrap servers HOST:PORT[,HOST:PORT] (or KAFKA_BROKERS, or Quix Cloud's Quix__Sdk__Token and Quix__Portal__Api)",
  REDIS_URL: "where metrics go (quixlab:metrics:<step>:<replica>); unset or 'none' = none",
  QUIXLAB_METRICS_FILE: "also write the metrics as JSON to this file, every second",
  QUIXLAB_STEP: "step name in metrics (default source-<type>); 'quixlab up' sets it to the deployment's name",
  QUIXLAB_REPLICA_ID: "replica name in metrics (default <host>-<pid>)",
} as const;

/** Everything a source needs, resolved and checked. */
export interface SourceConfig {
  readonly type: SourceType;
  /** The output topic as the source names it (a platform maps it to the broker's name). */
  readonly topic: string;
  readonly brokers: readonly string[];
  readonly connection?: KafkaConnection;
  readonly platform?: KafkaPlatform;
  readonly redis: string | null;
  readonly metricsFile?: string;
  readonly stepName?: string;
  readonly replicaId?: string;
  /** coinbase */
  readonly products: readonly string[];
  readonly endpoint: string;
  /** coinbase: the reconnect backoff's cap, ms. */
  readonly maxBackoffMs: number;
  /** replay: absolute path. */
  readonly ticks?: string;
  /** replay: events per wall-clock unit; Infinity = max. */
  readonly speed: number;
  readonly loop: boolean;
  readonly eof: boolean;
}

/** Flag values that override the environment. */
export interface SourceOverrides {
  topic?: string;
  products?: string;
  endpoint?: string;
  /** A duration ("2s", "500ms", or ms). */
  maxBackoff?: string;
  ticks?: string;
  speed?: string;
  loop?: boolean;
  eof?: boolean;
  broker?: string;
  redis?: string;
}

const nonEmpty = (v: string | undefined) => (v === undefined || v.trim() === "" ? undefined : v.trim());
const PRODUCT = /^[A-Z0-9]+-[A-Z0-9]+$/;

function flag(text: string | undefined, env: string): boolean {
  if (text === undefined) return false;
  const t = text.toLowerCase();
  if (t === "true" || t === "1" || t === "yes") return true;
  if (t === "false" || t === "0" || t === "no") return false;
  throw new InputError(`bad ${env} '${text}'`, { remedy: `set ${env} to true or false`, context: { field: env } });
}

/** A reconnect cap from --max-backoff or max_backoff: a duration above zero (zero would reconnect in a tight loop). */
function backoffCap(text: string): number {
  const remedy = "pass --max-backoff (or set 'max_backoff') to a duration above zero, e.g. 2s or 500ms";
  let ms: number;
  try {
    ms = parseDuration(text, "max_backoff");
  } catch {
    throw new InputError(`bad max_backoff '${text}'`, { remedy, context: { field: "max_backoff" } });
  }
  if (ms <= 0) throw new InputError(`bad max_backoff '${text}': the cap must be above zero`, { remedy, context: { field: "max_backoff" } });
  return ms;
}

/**
 * A source's configuration from the environment and flags. The broker comes the step's way
 * (`resolveStepConfig`: --broker, Quix__Broker__Address, KAFKA_BROKERS, else Quix Cloud through the Portal API),
 * so a source deployment connects wherever a step deployment does. Bad or missing values are InputErrors (exit 2)
 * naming the variable and the flag.
 * @example const config = await resolveSourceConfig("coinbase", process.env); await runSource(config).done
 */
export async function resolveSourceConfig(type: SourceType, env: NodeJS.ProcessEnv, flags: SourceOverrides = {}, opts: { cwd?: string; log?: (line: string) => void } = {}): Promise<SourceConfig> {
  if (!SOURCE_TYPES.includes(type)) throw new InputError(`unknown source '${type}'`, { remedy: `use one of ${SOURCE_TYPES.join(", ")}` });
  const topic = nonEmpty(flags.topic) ?? nonEmpty(env.output);
  if (!topic) throw new InputError("no output topic", { remedy: "pass --topic TOPIC or set the 'output' environment variable", context: { field: "output" } });
  let products: string[] = [];
  let ticks: string | undefined;
  let speed = 1;
  let maxBackoffMs = DEFAULT_MAX_BACKOFF_MS;
  if (type === "coinbase") {
    const text = nonEmpty(flags.products) ?? nonEmpty(env.products);
    products = (text ?? "").split(",").map((s) => s.trim()).filter(Boolean);
    if (products.length === 0 || products.some((p) => !PRODUCT.test(p))) {
      throw new InputError(text ? `bad products '${text}'` : "no products", {
        remedy: "pass --products (or set 'products') to Coinbase product ids separated by commas, e.g. BTC-USD,ETH-USD",
        context: { field: "products" },
      });
    }
    const backoffText = nonEmpty(flags.maxBackoff) ?? nonEmpty(env.max_backoff);
    if (backoffText !== undefined) maxBackoffMs = backoffCap(backoffText);
  } else {
    const file = nonEmpty(flags.ticks) ?? nonEmpty(env.ticks);
    if (!file) throw new InputError("no ticks file", { remedy: "pass --ticks FILE (or set 'ticks') to a recording, e.g. one made by 'quixlab record'", context: { field: "ticks" } });
    ticks = resolve(opts.cwd ?? process.cwd(), file);
    if (!existsSync(ticks) || !statSync(ticks).isFile()) {
      throw new InputError(`ticks file ${file} not found`, { remedy: "pass --ticks (or set 'ticks') to an existing recording, relative to the working folder", context: { field: "ticks", file } });
    }
    const speedText = nonEmpty(flags.speed) ?? nonEmpty(env.speed) ?? "1x";
    try {
      speed = parseSpeed(speedText);
    } catch {
      throw new InputError(`bad speed '${speedText}'`, { remedy: "use max, 1x (the recording's own gaps) or Nx (N times faster), e.g. 10x", context: { field: "speed" } });
    }
  }
  const endpoint = nonEmpty(flags.endpoint) ?? nonEmpty(env.endpoint) ?? COINBASE_WS;
  if (!/^wss?:\/\//.test(endpoint)) throw new InputError(`bad endpoint '${endpoint}'`, { remedy: "give a websocket URL, ws:// or wss://", context: { field: "endpoint" } });
  // The step's resolver owns the broker and Redis rules (Quix Cloud included); the source has no input, so it is
  // handed a placeholder one it never reads.
  const step = await resolveStepConfig({ ...env, input: "-", output: topic }, { broker: flags.broker, redis: flags.redis }, { log: opts.log });
  return {
    type,
    topic,
    brokers: step.brokers,
    ...(step.connection ? { connection: step.connection } : {}),
    ...(step.platform ? { platform: step.platform } : {}),
    redis: step.redis ?? null,
    metricsFile: step.metricsFile,
    stepName: step.stepName,
    replicaId: step.replicaId,
    products,
    endpoint,
    maxBackoffMs,
    ...(ticks ? { ticks } : {}),
    speed,
    loop: type === "replay" && (flags.loop ?? flag(nonEmpty(env.loop), "loop")),
    eof: type === "replay" && (flags.eof ?? flag(nonEmpty(env.eof), "eof")),
  };
}
