import { Kafka, type KafkaConfig, logLevel } from "kafkajs";
import type { Log } from "../infra/process.js";
import { clientConfig, explainConnectError, type KafkaTarget } from "./connection.js";

export interface ClientOptions {
  clientId?: string;
  /** Receives kafkajs warnings and errors; without it kafkajs stays silent (it logs to the console by default). */
  log?: Log;
  /** Extra kafkajs settings (retry, timeouts), merged over quixlab's defaults. */
  config?: Partial<KafkaConfig>;
}

const levelNames: Record<number, string> = { [logLevel.ERROR]: "error", [logLevel.WARN]: "warn", [logLevel.INFO]: "info", [logLevel.DEBUG]: "debug" };

/**
 * The kafkajs client (only code under src/kafka/ holds one) with quiet logging and retries suited to a local broker (short first backoff, ~30 s total).
 * Example: `const producer = kafkaClient(brokers, { clientId: "replay" }).producer()`.
 */
export function kafkaClient(target: KafkaTarget, opts: ClientOptions = {}): Kafka {
  const { log } = opts;
  return new Kafka({
    clientId: opts.clientId ?? "quixlab",
    ...clientConfig(target),
    connectionTimeout: 3_000,
    requestTimeout: 30_000,
    retry: { initialRetryTime: 100, maxRetryTime: 5_000, retries: 8 },
    logLevel: log ? logLevel.WARN : logLevel.NOTHING,
    logCreator: () => (entry) => log?.(`kafkajs ${levelNames[entry.level] ?? entry.level}: ${entry.log.message} (${entry.namespace})`),
    ...opts.config,
  });
}

/** One admin call (describeCluster) with no retries: resolves the live broker count, rejects if unreachable. */
export async function pingBroker(target: KafkaTarget, timeoutMs = 2_000): Promise<number> {
  const admin = kafkaClient(target, {
    clientId: "quixlab-ping",
    config: { connectionTimeout: timeoutMs, requestTimeout: timeoutMs, retry: { retries: 0 } },
  }).admin();
  try {
    await admin.connect().catch((e: unknown) => {
      throw explainConnectError(e, target);
    });
    const cluster = await admin.describeCluster();
    return cluster.brokers.length;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
