/**
 * A fake Quix Portal API for tests: the endpoints quix-streams calls (platforms/quix/api.py), in the shapes it
 * expects, checking the bearer token (a wrong one gets 401). Topics live in memory with the workspace's ids
 * (`<workspaceId>-<name>`); `createOnBroker` makes a created or declared topic real on a broker, as the platform
 * does. `scramBroker()` gives the SASL SCRAM listener the harness started (or starts one when a file runs alone).
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { startBroker } from "../../src/broker/index.js";
import type { PortalTopic } from "../../src/kafka/quix/api.js";

export interface FakePortalOptions {
  token: string;
  workspaceId: string;
  /** What `GET /workspaces/{id}/broker/librdkafka` returns. */
  librdkafka: Record<string, unknown>;
  /** Make the topic real (id = the broker's name); default: nothing (unit tests). */
  createOnBroker?(id: string, partitions: number, compact: boolean): Promise<void>;
  /** Answer `POST /{ws}/topics` with 403, as for a token that may not create topics. */
  refuseCreate?: boolean;
  /** A created topic reports `Creating` for this many topic-list reads before `Ready` (default 0). */
  creatingReads?: number;
}

export interface PortalRequest {
  method: string;
  path: string;
  authorization?: string;
  version?: string;
  body?: unknown;
}

export interface FakePortal {
  /** The Portal API's base URL (what Quix__Portal__Api holds). */
  url: string;
  requests: PortalRequest[];
  topics: Map<string, PortalTopic>;
  /** A topic declared in the workspace (as quix.yaml would), made on the broker; resolves with its id. */
  declare(name: string, partitions: number): Promise<string>;
  close(): Promise<void>;
}

/** Start the fake on a free loopback port. */
export async function startFakePortal(o: FakePortalOptions): Promise<FakePortal> {
  const topics = new Map<string, PortalTopic>();
  const creating = new Map<string, number>();
  const requests: PortalRequest[] = [];
  const ws = o.workspaceId;

  const add = async (name: string, partitions: number, cleanupPolicy?: string): Promise<PortalTopic> => {
    const id = `${ws}-${name}`;
    await o.createOnBroker?.(id, partitions, /compact/i.test(cleanupPolicy ?? ""));
    const t: PortalTopic = {
      id,
      name,
      status: "Ready",
      configuration: { partitions, replicationFactor: 1, retentionInMinutes: 10080, retentionInBytes: 52428800, ...(cleanupPolicy ? { cleanupPolicy: /compact/i.test(cleanupPolicy) ? "Compact" : "Delete" } : {}) },
    };
    topics.set(name, t);
    return t;
  };
  const view = (t: PortalTopic): PortalTopic => ((creating.get(t.name) ?? 0) > 0 ? { ...t, status: "Creating" } : t);

  const handle = async (req: IncomingMessage, body: string, res: ServerResponse): Promise<void> => {
    const path = decodeURI(new URL(req.url ?? "/", "http://x").pathname);
    const parsed = body ? (JSON.parse(body) as unknown) : undefined;
    requests.push({ method: req.method ?? "", path, authorization: req.headers.authorization, version: req.headers["x-version"] as string | undefined, body: parsed });
    const send = (status: number, value: unknown) => {
      res.writeHead(status, { "Content-Type": "application/json" });
      res.end(JSON.stringify(value));
    };
    if (req.headers.authorization !== `Bearer ${o.token}`) return send(401, { message: "Unauthorized" });
    if (req.method === "GET" && path === "/workspaces") return send(200, [{ workspaceId: ws, name: ws, status: "Ready" }]);
    const settings = path.match(/^\/workspaces\/([^/]+)\/broker\/librdkafka$/);
    if (req.method === "GET" && settings) {
      return settings[1] === ws ? send(200, o.librdkafka) : send(404, { message: `workspace ${settings[1]} not found` });
    }
    const m = path.match(/^\/([^/]+)\/topics(?:\/([^/]+))?$/);
    if (m) {
      if (m[1] !== ws) return send(404, { message: `workspace ${m[1]} not found` });
      const name = m[2];
      if (req.method === "GET" && name === undefined) {
        const list = [...topics.values()].map(view);
        for (const [n, left] of creating) if (left > 0) creating.set(n, left - 1);
        return send(200, list);
      }
      if (req.method === "GET") {
        const t = topics.get(name!);
        return t ? send(200, view(t)) : send(404, { message: `Topic ${name} not found` });
      }
      if (req.method === "POST" && name === undefined) {
        if (o.refuseCreate) return send(403, { message: "Forbidden: the token may not create topics" });
        const b = parsed as { name: string; configuration?: { partitions?: number | null; cleanupPolicy?: string | null } };
        if (topics.has(b.name)) return send(400, { message: `Topic with name similar to '${b.name}' already exists.` });
        const t = await add(b.name, b.configuration?.partitions ?? 2, b.configuration?.cleanupPolicy ?? undefined);
        if (o.creatingReads) creating.set(b.name, o.creatingReads);
        return send(200, view(t));
      }
    }
    send(404, { message: `no route ${req.method} ${path}` });
  };

  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d));
    req.on("end", () => {
      handle(req, body, res).catch((e: unknown) => {
        res.writeHead(500);
        res.end(String(e));
      });
    });
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    topics,
    declare: async (name, partitions) => (await add(name, partitions)).id,
    close: () =>
      new Promise((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

/** A SASL SCRAM listener and its user. */
export interface ScramTarget {
  brokers: string[];
  username: string;
  password: string;
  /** The same user over SASL_SSL, and the CA (PEM) that signed the listener's certificate. */
  ssl?: { brokers: string[]; ca: string };
}

let own: Promise<ScramTarget> | undefined;

/** The harness's SCRAM listener (QUIXLAB_TEST_SCRAM_*), or a local broker with one, started once per process. */
export function scramBroker(): Promise<ScramTarget> {
  const env = process.env;
  if (env.QUIXLAB_TEST_SCRAM_BROKERS && env.QUIXLAB_TEST_SCRAM_USERNAME && env.QUIXLAB_TEST_SCRAM_PASSWORD) {
    const ssl = env.QUIXLAB_TEST_SCRAM_SSL_BROKERS && env.QUIXLAB_TEST_SCRAM_SSL_CA ? { brokers: env.QUIXLAB_TEST_SCRAM_SSL_BROKERS.split(","), ca: env.QUIXLAB_TEST_SCRAM_SSL_CA } : undefined;
    return Promise.resolve({ brokers: env.QUIXLAB_TEST_SCRAM_BROKERS.split(","), username: env.QUIXLAB_TEST_SCRAM_USERNAME, password: env.QUIXLAB_TEST_SCRAM_PASSWORD, ...(ssl ? { ssl } : {}) });
  }
  own ??= startBroker({ provider: "local", scram: { username: "quixlab-test", password: randomBytes(12).toString("hex"), tls: true } }).then((b) => {
    const s = b.scram!;
    return { brokers: s.brokers, username: s.username, password: s.password, ...(s.tls ? { ssl: s.tls } : {}) };
  });
  return own;
}

/** Quix's librdkafka settings for a SCRAM listener, as the Portal API returns them. */
export function scramLibrdkafka(t: ScramTarget, mechanism = "SCRAM-SHA-256", password = t.password): Record<string, unknown> {
  return { "bootstrap.servers": t.brokers.join(","), "security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": mechanism, "sasl.username": t.username, "sasl.password": password };
}

/** The same over SASL_SSL, with the CA as Quix sends it (`ssl.ca.cert`, base64 of the PEM). */
export function saslSslLibrdkafka(t: ScramTarget & { ssl: NonNullable<ScramTarget["ssl"]> }, mechanism = "SCRAM-SHA-512"): Record<string, unknown> {
  return { ...scramLibrdkafka(t, mechanism), "bootstrap.servers": t.ssl.brokers.join(","), "security.protocol": "SASL_SSL", "ssl.ca.cert": Buffer.from(t.ssl.ca).toString("base64") };
}
