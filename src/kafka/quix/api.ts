import { setTimeout as sleep } from "node:timers/promises";
import { QUIX_ENV } from "./env.js";
import { QuixCloudError } from "./errors.js";

/** A topic as the Portal API describes it (`GET /{workspaceId}/topics[/{name}]`). */
export interface PortalTopic {
  /** The broker's topic name: `<workspaceId>-<name>` on Quix Cloud. */
  id: string;
  name: string;
  /** `Creating`, `Ready`, `Error`... */
  status?: string;
  lastError?: string;
  configuration?: { partitions?: number; replicationFactor?: number; retentionInMinutes?: number; retentionInBytes?: number; cleanupPolicy?: string };
}

/** The body of `POST /{workspaceId}/topics`, as quix-streams sends it. */
export interface NewPortalTopic {
  name: string;
  configuration: { partitions: number | null; replicationFactor: number | null; retentionInMinutes: number | null; retentionInBytes: number | null; cleanupPolicy: "compact" | "delete" | null };
}

export interface PortalApiOptions {
  token: string;
  portalApi: string;
  /** Per request (default 10 s): an API that does not answer is an error, never a hang. */
  timeoutMs?: number;
  /** Attempts after a connection failure or timeout (default 2, backing off 250 ms, 500 ms). */
  retries?: number;
  fetch?: typeof fetch;
}

/**
 * The few Portal API calls quix-streams makes (platforms/quix/api.py): the same paths, and the headers
 * `Authorization: Bearer <token>` and `X-Version: 2.0`. A non-2xx answer is a QuixCloudError with its status and
 * a remedy naming the variable to check; connection failures are retried briefly, then are one too.
 */
export class PortalApi {
  private readonly base: string;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly fetch: typeof fetch;

  constructor(private readonly o: PortalApiOptions) {
    this.base = o.portalApi.replace(/\/+$/, "");
    this.timeoutMs = o.timeoutMs ?? 10_000;
    this.retries = o.retries ?? 2;
    this.fetch = o.fetch ?? fetch;
  }

  /** The workspace's librdkafka client settings (bootstrap.servers, security.protocol, sasl.*, ssl.ca.cert). */
  librdkafka(workspaceId: string): Promise<Record<string, unknown>> {
    return this.json("GET", `/workspaces/${encodeURIComponent(workspaceId)}/broker/librdkafka`);
  }

  /** The workspaces the token sees (used only when no workspace id is given). */
  workspaces(): Promise<{ workspaceId: string; name?: string }[]> {
    return this.json("GET", "/workspaces");
  }

  topic(workspaceId: string, name: string): Promise<PortalTopic> {
    return this.json("GET", `/${encodeURIComponent(workspaceId)}/topics/${encodeURIComponent(name)}`);
  }

  topics(workspaceId: string): Promise<PortalTopic[]> {
    return this.json("GET", `/${encodeURIComponent(workspaceId)}/topics`);
  }

  createTopic(workspaceId: string, body: NewPortalTopic): Promise<PortalTopic> {
    return this.json("POST", `/${encodeURIComponent(workspaceId)}/topics`, body);
  }

  private async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = `${this.base}${path}`;
    const res = await this.send(method, url, body);
    const text = await res.text();
    if (!res.ok) throw statusError(res.status, method, url, text);
    try {
      return JSON.parse(text) as T;
    } catch (e) {
      throw new QuixCloudError(`the Portal API answered ${method} ${url} with something that is not JSON`, {
        cause: e,
        remedy: `check that ${QUIX_ENV.portalApi} is the Portal API's URL`,
        context: { field: QUIX_ENV.portalApi, url },
      });
    }
  }

  private async send(method: string, url: string, body: unknown): Promise<Response> {
    const headers: Record<string, string> = { Authorization: `Bearer ${this.o.token}`, "X-Version": "2.0", Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(this.timeoutMs) });
      } catch (e) {
        if (attempt >= this.retries) {
          const timedOut = (e as Error).name === "TimeoutError";
          throw new QuixCloudError(`the Portal API at ${this.base} ${timedOut ? `did not answer within ${this.timeoutMs} ms` : `is unreachable (${causeText(e)})`}`, {
            cause: e,
            retriable: true,
            remedy: `check ${QUIX_ENV.portalApi} (the Portal API URL) and the network`,
            context: { field: QUIX_ENV.portalApi, url },
          });
        }
        await sleep(250 * 2 ** attempt);
      }
    }
  }
}

function causeText(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (e as Error).message;
}

function statusError(status: number, method: string, url: string, text: string): QuixCloudError {
  const detail = text.trim() ? `: ${text.trim().slice(0, 200)}` : "";
  const context = { url, status };
  if (status === 401 || status === 403) {
    return new QuixCloudError(`the Portal API refused the token (${status} for ${method} ${url})${detail}`, {
      status,
      remedy: `check ${QUIX_ENV.sdkToken}: an SDK token (or personal access token) with access to the workspace`,
      context: { ...context, field: QUIX_ENV.sdkToken },
    });
  }
  return new QuixCloudError(`the Portal API answered ${status} for ${method} ${url}${detail}`, {
    status,
    retriable: status >= 500,
    remedy: status === 404 ? `check ${QUIX_ENV.workspaceId} and ${QUIX_ENV.portalApi}` : `check ${QUIX_ENV.portalApi}; retry if the platform is having trouble`,
    context: { ...context, field: status === 404 ? QUIX_ENV.workspaceId : QUIX_ENV.portalApi },
  });
}
