import type { Log } from "../infra/process.js";

/** Where a broker came from: given to us, a Docker container, or a JVM we run from Maven Central jars. */
export type BrokerProvider = "external" | "testcontainers" | "local";

/**
 * A running Kafka broker, whoever started it. Life cycle: `startBroker()` resolves once a real admin call
 * succeeds; `stop()` shuts down what we started (a no-op for an external broker) and removes its files.
 */
export interface BrokerHandle {
  /** Bootstrap addresses, `HOST:PORT`. */
  readonly brokers: string[];
  readonly provider: BrokerProvider;
  /** From "start requested" to "admin call answered". */
  readonly startupMs: number;
  /** The broker's process when we run it ourselves (local provider). */
  readonly pid?: number;
  /** Config, data and logs of a local broker; removed by `stop()`. */
  readonly dir?: string;
  stop(): Promise<void>;
}

export interface StartBrokerOptions {
  /** `auto` (default), a provider name, or `HOST:PORT[,HOST:PORT]` (same as `external` with that address). */
  provider?: "auto" | BrokerProvider | (string & {});
  /** `HOST:PORT[,HOST:PORT]` for `external`/`auto`; defaults to `KAFKA_BROKERS`. */
  address?: string;
  /** Looks for brokers started by `quixlab services up` under this directory (auto only). */
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  log?: Log;
  /** Local only: leave the broker running after this process exits (`quixlab services up`). */
  detached?: boolean;
}
