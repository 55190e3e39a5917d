import { setTimeout as sleep } from "node:timers/promises";
import type { KafkaConnection } from "../connection.js";
import type { KafkaPlatform, TopicRequest } from "../platform.js";
import { PortalApi, type PortalApiOptions, type PortalTopic } from "./api.js";
import { QUIX_ENV, type QuixCloudCredentials } from "./env.js";
import { QuixCloudError, QuixTopicError } from "./errors.js";
import { connectionFromLibrdkafka, prependWorkspaceId } from "./settings.js";

export interface QuixCloudOptions extends QuixCloudCredentials, Pick<PortalApiOptions, "timeoutMs" | "retries" | "fetch"> {
  /** How long a created topic may stay `Creating` (default 60 s, as quix-streams). */
  topicReadyTimeoutMs?: number;
  log?: (line: string) => void;
}

/**
 * A Quix Cloud workspace as a step's platform: the broker connection from the Portal API, consumer groups
 * prefixed with the workspace id, and topics looked up by name (`GET /{ws}/topics/{name}` gives the broker's
 * name, its id) or, when missing, created through the API and awaited until `Ready`, as quix-streams' topic
 * manager does. Lookups are cached for the process.
 */
export class QuixCloud implements KafkaPlatform {
  readonly name: string;
  private readonly known = new Map<string, Promise<PortalTopic>>();

  constructor(
    readonly workspaceId: string,
    readonly connection: KafkaConnection,
    private readonly api: PortalApi,
    private readonly o: QuixCloudOptions,
  ) {
    this.name = `Quix Cloud workspace ${workspaceId}`;
  }

  group(name: string): string {
    return prependWorkspaceId(this.workspaceId, name);
  }

  async topics(requests: readonly TopicRequest[]): Promise<string[]> {
    if (!requests.length) return [];
    const [first, ...rest] = requests as [TopicRequest, ...TopicRequest[]];
    const input = await this.topic(first, first.partitions);
    const partitions = input.configuration?.partitions;
    const others = await Promise.all(rest.map((r) => this.topic(r, r.partitions ?? partitions)));
    return [input, ...others].map((t) => t.id);
  }

  /** The workspace's topic `r.name`, created when missing; cached (a failure is not, so it can be retried). */
  private topic(r: TopicRequest, partitions: number | undefined): Promise<PortalTopic> {
    let p = this.known.get(r.name);
    if (!p) {
      p = this.findOrCreate(r, partitions);
      this.known.set(r.name, p);
      p.catch(() => this.known.delete(r.name));
    }
    return p;
  }

  private async findOrCreate(r: TopicRequest, partitions: number | undefined): Promise<PortalTopic> {
    const ws = this.workspaceId;
    try {
      const found = await this.api.topic(ws, r.name);
      return found.status && found.status !== "Ready" ? await this.ready(found) : found;
    } catch (e) {
      if (!(e instanceof QuixCloudError) || e.status !== 404) throw e;
    }
    this.o.log?.(`quix: topic ${r.name} is not in workspace ${ws}; creating it through the Portal API`);
    let created: PortalTopic;
    try {
      created = await this.api.createTopic(ws, {
        name: r.name,
        configuration: { partitions: partitions ?? null, replicationFactor: null, retentionInMinutes: null, retentionInBytes: null, cleanupPolicy: r.compact ? "compact" : null },
      });
    } catch (e) {
      // Two replicas may create it at once (quix-streams does the same: look it up again).
      const again = await this.api.topic(ws, r.name).catch(() => undefined);
      if (again) return again.status && again.status !== "Ready" ? this.ready(again) : again;
      throw new QuixTopicError(`topic '${r.name}' is not in Quix Cloud workspace ${ws} and could not be created: ${e instanceof Error ? e.message : String(e)}`, {
        cause: e,
        status: e instanceof QuixCloudError ? e.status : undefined,
        remedy: `declare '${r.name}' in quix.yaml's topics (quixlab promote declares every topic a step uses), or use a ${QUIX_ENV.sdkToken} allowed to create topics`,
        context: { topic: r.name },
      });
    }
    return created.status && created.status !== "Ready" ? this.ready(created) : created;
  }

  /** Poll the workspace's topics until `t` is `Ready` (quix-streams' wait_for_topic_ready_statuses). */
  private async ready(t: PortalTopic): Promise<PortalTopic> {
    const deadline = Date.now() + (this.o.topicReadyTimeoutMs ?? 60_000);
    for (;;) {
      await sleep(500);
      const now = (await this.api.topics(this.workspaceId)).find((x) => x.id === t.id);
      if (now?.status === "Ready") return now;
      if (now?.status === "Error" || Date.now() > deadline) {
        throw new QuixTopicError(`topic '${t.name}' of Quix Cloud workspace ${this.workspaceId} ${now?.status === "Error" ? `failed: ${now.lastError ?? "no reason given"}` : `is still '${now?.status ?? "missing"}'`}`, {
          retriable: now?.status !== "Error",
          remedy: "look at the topic in the Quix portal; declare it in quix.yaml so the platform creates it with the deployment",
          context: { topic: t.name },
        });
      }
    }
  }
}

const cache = new Map<string, Promise<QuixCloud>>();

/**
 * Connect to a Quix Cloud workspace: its broker settings from the Portal API (`GET /workspaces/{id}/broker/librdkafka`,
 * or, with no workspace id, the token's only workspace first), once per process for the same credentials.
 * @example const quix = await connectQuixCloud(quixCloudCredentials(process.env)!); runStep(f, { ..., brokers: quix.connection.brokers, connection: quix.connection, platform: quix })
 */
export function connectQuixCloud(o: QuixCloudOptions): Promise<QuixCloud> {
  const key = JSON.stringify([o.portalApi, o.token, o.workspaceId ?? ""]);
  let p = cache.get(key);
  if (!p) {
    p = open(o);
    cache.set(key, p);
    p.catch(() => cache.delete(key));
  }
  return p;
}

/** Forget the cached workspaces (tests; a process that rotated its token). */
export function clearQuixCloudCache(): void {
  cache.clear();
}

async function open(o: QuixCloudOptions): Promise<QuixCloud> {
  const api = new PortalApi(o);
  const workspaceId = o.workspaceId ?? (await onlyWorkspace(api));
  const settings = await api.librdkafka(workspaceId);
  const connection = connectionFromLibrdkafka(settings, workspaceId);
  o.log?.(`quix: ${connection.source}: brokers ${connection.brokers.join(",")}${connection.sasl ? `, SASL ${connection.sasl.mechanism}` : ""}${connection.ssl ? ", TLS" : ""}`);
  return new QuixCloud(workspaceId, connection, api, o);
}

async function onlyWorkspace(api: PortalApi): Promise<string> {
  const all = await api.workspaces();
  if (all.length === 1 && all[0]?.workspaceId) return all[0].workspaceId;
  throw new QuixCloudError(`${QUIX_ENV.workspaceId} is not set and the token sees ${all.length} workspaces`, {
    remedy: `set ${QUIX_ENV.workspaceId} (Quix Cloud injects it into every deployment)`,
    context: { field: QUIX_ENV.workspaceId },
  });
}
