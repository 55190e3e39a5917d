import type { KafkaConfig, SASLOptions } from "kafkajs";
import { InputError } from "../errors/index.js";

/**
 * Where Kafka is and how to log in: brokers plus TLS and SASL. Everything that connects takes this (or a bare
 * broker list, for a local broker), so a platform connection (Quix Cloud's SASL settings and CA) plugs in here.
 */
export interface KafkaConnection {
  brokers: string[];
  /** TLS: `true` with the system CAs, or a CA bundle (PEM) for a private one. */
  ssl?: boolean | { ca?: string | string[]; rejectUnauthorized?: boolean };
  sasl?: { mechanism: "plain" | "scram-sha-256" | "scram-sha-512"; username: string; password: string };
}

/** A broker list or a whole connection. */
export type KafkaTarget = readonly string[] | KafkaConnection;

/** The connection of a target. */
export function connectionOf(target: KafkaTarget): KafkaConnection {
  if (isConnection(target)) return target;
  return { brokers: [...target] };
}

function isConnection(t: KafkaTarget): t is KafkaConnection {
  return !Array.isArray(t);
}

/** The brokers of a target (for messages). */
export function brokersOf(target: KafkaTarget): string[] {
  return connectionOf(target).brokers;
}

/** The client settings of a connection: brokers, and TLS/SASL when given. */
export function clientConfig(target: KafkaTarget): Pick<KafkaConfig, "brokers" | "ssl" | "sasl"> {
  const c = connectionOf(target);
  if (!Array.isArray(c.brokers) || c.brokers.length === 0) {
    throw new InputError("no Kafka brokers to connect to", { remedy: "pass brokers: ['HOST:PORT']", context: { field: "brokers" } });
  }
  const out: Pick<KafkaConfig, "brokers" | "ssl" | "sasl"> = { brokers: [...c.brokers] };
  if (c.ssl) out.ssl = c.ssl === true ? true : { ca: c.ssl.ca, rejectUnauthorized: c.ssl.rejectUnauthorized ?? true };
  if (c.sasl) out.sasl = { mechanism: c.sasl.mechanism, username: c.sasl.username, password: c.sasl.password } as SASLOptions;
  return out;
}
