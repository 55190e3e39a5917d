import type { ServiceHandle, StartServiceOptions } from "../infra/provider.js";

/** Where a broker came from: given to us, a Docker container, or a JVM we run from Maven Central jars. */
export type BrokerProvider = "external" | "testcontainers" | "local";

/**
 * A running Kafka broker, whoever started it. Life cycle: `startBroker()` resolves once a real admin call
 * succeeds; `stop()` shuts down what we started (a no-op for an external broker) and removes its files.
 * A local broker can also be killed and started again in place (`kill`, `restart`), its data kept.
 */
export interface BrokerHandle extends ServiceHandle<BrokerProvider> {
  /** Bootstrap addresses, `HOST:PORT`. */
  readonly brokers: string[];
  /** Local only, when asked for (`scram`): the SASL_PLAINTEXT listener with SCRAM-SHA-256/512 and its user. */
  readonly scram?: ScramListener;
  /**
   * Local only: end the broker's process, by default with SIGKILL (a crash: no clean shutdown), keeping its
   * dir so `restart()` can start it again. Resolves once the process is gone.
   */
  kill?(signal?: "SIGKILL" | "SIGTERM"): Promise<void>;
  /**
   * Local only: start the broker again with the same node id, ports and log dir (its storage is not formatted
   * again), after a SIGTERM if it still runs; topics, messages and committed offsets survive. `pid` is the new
   * process's afterwards. Resolves once an admin call answers.
   * Example: `await kafka.kill!(); await kafka.restart!()`.
   */
  restart?(): Promise<void>;
}

export interface StartBrokerOptions extends StartServiceOptions<BrokerProvider> {
  /** `HOST:PORT[,HOST:PORT]` for `external`/`auto`; defaults to `KAFKA_BROKERS`. */
  address?: string;
  /** Local only: also a SASL_PLAINTEXT listener with SCRAM-SHA-256/512 and this user (`BrokerHandle.scram`). */
  scram?: { username: string; password: string; tls?: boolean };
  /** Local only: the folder the broker's own directory (its log and data) is made in; default the OS temp dir. */
  parentDir?: string;
}

/** A SASL_PLAINTEXT listener with SCRAM and the user it was formatted with. */
export interface ScramListener {
  readonly brokers: string[];
  readonly username: string;
  readonly password: string;
  readonly mechanisms: string[];
  /** With `scram.tls`: the same user on a SASL_SSL listener whose certificate `ca` (PEM) signed. */
  readonly tls?: { readonly brokers: string[]; readonly ca: string };
}
