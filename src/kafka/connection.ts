import type { KafkaConfig, SASLOptions } from "kafkajs";
import { EnvironmentError, InputError } from "../errors/index.js";

/**
 * Where Kafka is and how to log in: brokers plus TLS and SASL. Everything that connects takes this (or a bare
 * broker list, for a local broker), so a platform connection (Quix Cloud's SASL settings and CA) plugs in here.
 */
export interface KafkaConnection {
  brokers: string[];
  /** TLS: `true` with the system CAs, or a CA bundle (PEM) for a private one. */
  ssl?: boolean | { ca?: string | string[]; rejectUnauthorized?: boolean };
  sasl?: { mechanism: "plain" | "scram-sha-256" | "scram-sha-512"; username: string; password: string };
  /** Where these settings came from (e.g. `Quix Cloud workspace acme`), for error messages. */
  source?: string;
}

/** The broker refused the SASL login (wrong user, password or mechanism). Exit 2: retrying will not help. */
export class KafkaAuthError extends EnvironmentError {}

/**
 * The error to raise for a failed connect: a SASL refusal becomes a KafkaAuthError saying what to check
 * (kafkajs raises it at once, without retries); anything else is returned as it is.
 */
export function explainConnectError(e: unknown, target: KafkaTarget): unknown {
  const refusal = saslRefusal(e);
  if (!refusal) return e;
  const c = connectionOf(target);
  const quix = c.source?.startsWith("Quix Cloud");
  return new KafkaAuthError(`the broker ${c.brokers.join(",")} refused the SASL login${c.sasl ? ` of '${c.sasl.username}' (${c.sasl.mechanism})` : ""}: ${refusal.message}`, {
    cause: e,
    remedy: quix
      ? `the credentials come from the Portal API (${c.source}): check Quix__Sdk__Token and Quix__Workspace__Id, or that the workspace's broker user still exists`
      : "check the SASL user name, password and mechanism of the connection",
    context: { field: "sasl" },
  });
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

/** kafkajs' KafkaJSSASLAuthenticationError, itself or as a cause (kafkajs' index does not export its error classes to ESM). */
function saslRefusal(e: unknown): Error | undefined {
  for (let cur = e as { name?: string; cause?: unknown; originalError?: unknown } | undefined, depth = 0; cur && depth < 5; depth++) {
    if (cur.name === "KafkaJSSASLAuthenticationError") return cur as Error;
    cur = (cur.cause ?? cur.originalError) as typeof cur;
  }
  return undefined;
}
