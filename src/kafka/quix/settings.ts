import type { KafkaConnection } from "../connection.js";
import { QUIX_ENV } from "./env.js";
import { QuixCloudError } from "./errors.js";

/**
 * The pure half of the Quix Cloud connection: the Portal's librdkafka settings as a KafkaConnection, and the
 * workspace-id prefix of consumer groups (quix-streams' platforms/quix/config.py).
 */

const MECHANISMS = { PLAIN: "plain", "SCRAM-SHA-256": "scram-sha-256", "SCRAM-SHA-512": "scram-sha-512" } as const;

/**
 * A KafkaConnection from librdkafka settings as `GET /workspaces/{id}/broker/librdkafka` returns them:
 * `bootstrap.servers`, `security.protocol` (plaintext, ssl, sasl_plaintext, sasl_ssl; any case),
 * `sasl.mechanism` (or `sasl.mechanisms`): PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512, `sasl.username`/`sasl.password`,
 * and `ssl.ca.cert`, the CA as base64 PEM (decoded as quix-streams does; `ssl.ca.pem` is taken as is).
 * @example connectionFromLibrdkafka({ "bootstrap.servers": "b:9093", "security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-256", ... }, "ws")
 */
export function connectionFromLibrdkafka(settings: Record<string, unknown>, workspaceId: string): KafkaConnection {
  const bad = (what: string) =>
    new QuixCloudError(`the broker settings of Quix Cloud workspace ${workspaceId} ${what}`, {
      remedy: `check ${QUIX_ENV.workspaceId} and ${QUIX_ENV.portalApi} (GET /workspaces/${workspaceId}/broker/librdkafka)`,
      context: { field: QUIX_ENV.workspaceId },
    });
  const text = (key: string): string | undefined => {
    const v = settings[key];
    return typeof v === "string" && v.trim() !== "" ? v.trim() : undefined;
  };
  const servers = text("bootstrap.servers");
  if (!servers) throw bad("have no bootstrap.servers");
  const brokers = servers.split(",").map((s) => s.trim()).filter(Boolean);
  const protocol = (text("security.protocol") ?? "plaintext").toLowerCase();
  if (!["plaintext", "ssl", "sasl_plaintext", "sasl_ssl"].includes(protocol)) throw bad(`have an unknown security.protocol '${protocol}'`);
  const out: KafkaConnection = { brokers, source: `Quix Cloud workspace ${workspaceId}` };
  if (protocol.startsWith("sasl_")) {
    // librdkafka's default mechanism is GSSAPI, which kafkajs cannot do.
    const name = (text("sasl.mechanism") ?? text("sasl.mechanisms") ?? "GSSAPI").toUpperCase();
    const mechanism = MECHANISMS[name as keyof typeof MECHANISMS];
    if (!mechanism) throw bad(`ask for SASL ${name}, which quixlab's Kafka client cannot do (it does PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512)`);
    const username = text("sasl.username");
    const password = settings["sasl.password"];
    if (!username || typeof password !== "string") throw bad("have no sasl.username/sasl.password");
    out.sasl = { mechanism, username, password };
  }
  if (protocol === "ssl" || protocol === "sasl_ssl") {
    const b64 = text("ssl.ca.cert");
    const ca = b64 ? Buffer.from(b64, "base64").toString("utf8") : text("ssl.ca.pem");
    if (b64 && !ca?.includes("-----BEGIN")) throw bad("have an ssl.ca.cert that is not a base64 PEM certificate");
    const verify = settings["enable.ssl.certificate.verification"];
    const rejectUnauthorized = !(verify === false || verify === "false");
    out.ssl = ca || !rejectUnauthorized ? { ...(ca ? { ca } : {}), rejectUnauthorized } : true;
  }
  return out;
}

/** `<workspaceId>-<group>`, unless it has the prefix already (quix-streams' prepend_workspace_id). */
export function prependWorkspaceId(workspaceId: string, name: string): string {
  return name.startsWith(workspaceId) ? name : `${workspaceId}-${name}`;
}

/** The group name without the workspace prefix (quix-streams' strip_workspace_id_prefix). */
export function stripWorkspaceIdPrefix(workspaceId: string, name: string): string {
  return name.startsWith(workspaceId) ? name.slice(workspaceId.length + 1) : name;
}
