import { isIP, connect as netConnect } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { type ISocketFactory, Kafka, type KafkaConfig, logLevel } from "kafkajs";
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
 * kafkajs' own socket factory (network/socketFactory.js) with Nagle's algorithm off, as the Java client and
 * librdkafka have it (and as our fast producer's sockets do): a small request written while the connection still
 * waits for the peer's ACK of earlier bytes was held until that delayed ACK came, tens of milliseconds on loopback,
 * which a window's output paid now and then (#18, the tail latency).
 */
const socketFactory: ISocketFactory = ({ host, port, ssl, onConnect }) => {
  const socket = ssl ? tlsConnect({ host, port, ...(isIP(host) ? {} : { servername: host }), ...ssl }, onConnect) : netConnect({ host, port }, onConnect);
  socket.setKeepAlive(true, 60_000);
  socket.setNoDelay(true);
  return socket;
};

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
    socketFactory,
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
