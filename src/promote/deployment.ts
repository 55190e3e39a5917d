/**
 * What promote reads from quix.yaml about a deployment, the topics its step uses, and how the changelog is
 * declared. quix.yaml is parsed with its `{{NAME}}` placeholders masked, so a value holding one is not taken for a name.
 */
import { type Document, isMap, isSeq, type YAMLMap } from "yaml";
import { type EditOutcome, ensureTopic, isMasked, upsertTopic } from "../descriptor/index.js";
import { changelogTopic } from "../stream/changelog.js";

export interface Current {
  exists: boolean;
  version?: string;
  input?: string;
  output?: string;
  dlq?: string;
  late?: string;
  updates?: string;
  consumerGroup?: string;
  /** Step variables whose value is a `{{NAME}}` placeholder (Quix fills it at sync time; promote cannot read it). */
  placeholders: ReadonlySet<string>;
  cpu?: number;
  memory?: number;
  replicas?: number;
}

/** What the descriptor says about the deployment now (raw values; the file was validated when it was loaded). */
export function currentDeployment(doc: Document, name: string): Current {
  const deps = doc.get("deployments");
  const dep = isSeq(deps) ? deps.items.find((d): d is YAMLMap => isMap(d) && d.get("name") === name) : undefined;
  if (!dep) return { exists: false, placeholders: new Set() };
  const js = dep.toJSON() as {
    version?: unknown;
    resources?: { cpu?: unknown; memory?: unknown; replicas?: unknown; limits?: { cpu?: unknown; memory?: unknown } };
    variables?: { name?: unknown; value?: unknown }[];
  };
  const num = (v: unknown) => (typeof v === "number" ? v : undefined);
  const placeholders = new Set<string>();
  const value = (n: string) => {
    // Names match case-insensitively, as Quix matches a v2.0 override to its app.yaml variable.
    const v = js.variables?.find((x) => typeof x?.name === "string" && x.name.toLowerCase() === n)?.value;
    if (v === undefined || v === null) return undefined;
    // The document is parsed with its placeholders masked (private-use tokens): such a value is not a name.
    if (typeof v === "string" && isMasked(v)) {
      placeholders.add(n);
      return undefined;
    }
    return String(v);
  };
  const sizes = js.resources?.limits ?? js.resources;
  return {
    exists: true,
    version: js.version === undefined || js.version === null ? undefined : String(js.version),
    input: value("input"),
    output: value("output"),
    dlq: value("dlq"),
    late: value("late"),
    updates: value("updates"),
    consumerGroup: value("consumer_group"),
    placeholders,
    cpu: num(sizes?.cpu),
    memory: num(sizes?.memory),
    replicas: num(js.resources?.replicas),
  };
}

/**
 * The output topic of the deployment that runs feature `featureName`: the one whose changelog for that feature
 * (`<its group>.<featureName>.changelog`) quix.yaml declares. What a feature over that feature reads (its input).
 * Undefined when no deployment runs it, or its output is a placeholder.
 */
export function upstreamOutput(doc: Document, featureName: string): { deployment: string; application?: string; output: string } | undefined {
  const deps = doc.get("deployments");
  const topics = (doc.toJSON() as { topics?: { name?: unknown }[] }).topics ?? [];
  const declared = new Set(topics.map((t) => t?.name).filter((n): n is string => typeof n === "string"));
  if (!isSeq(deps)) return undefined;
  for (const d of deps.items) {
    if (!isMap(d) || typeof d.get("name") !== "string") continue;
    const name = d.get("name") as string;
    const c = currentDeployment(doc, name);
    const application = d.get("application");
    if (c.output && declared.has(changelogTopic(c.consumerGroup ?? name, featureName))) {
      return { deployment: name, output: c.output, ...(typeof application === "string" ? { application } : {}) };
    }
  }
  return undefined;
}

/** Every topic a promoted step uses, by the variable that names it (the changelog is named by the group). */
export interface StepTopics {
  readonly input: string;
  readonly output: string;
  readonly dlq: string;
  readonly late: string;
  /** Early results, for a feature with `emit: "update"`. */
  readonly updates?: string;
  readonly consumerGroup: string;
  readonly changelog: string;
}

/**
 * The topics of a step promoted as `deployment`: dlq `<input>.dlq`, late `<output>.late`, the group the
 * deployment's name (as `quixlab up` gives it), unless the deployment already names them (`kept`): a re-promote must
 * not move the step to a new group or changelog, which would lose its offsets and state.
 */
export function stepTopics(
  deployment: string,
  featureName: string,
  topics: { input: string; output: string },
  kept: { dlq?: string; late?: string; updates?: string; consumerGroup?: string } = {},
  updates = false,
): StepTopics {
  const consumerGroup = kept.consumerGroup ?? deployment;
  return {
    ...topics,
    dlq: kept.dlq ?? `${topics.input}.dlq`,
    late: kept.late ?? `${topics.output}.late`,
    ...(updates ? { updates: kept.updates ?? `${topics.output}.updates` } : {}),
    consumerGroup,
    changelog: changelogTopic(consumerGroup, featureName),
  };
}

/**
 * Declare the changelog compacted: a new entry with `cleanupPolicy: Compact`; an existing one keeps its settings,
 * but gets Compact when it says nothing (a delete-policy changelog would lose the state of quiet partitions).
 */
export function declareChangelog(doc: Document, name: string): EditOutcome {
  if (ensureTopic(doc, { name, configuration: { cleanupPolicy: "Compact" } }) === "inserted") return "inserted";
  const topics = doc.get("topics");
  const entry = isSeq(topics) ? topics.items.find((t): t is YAMLMap => isMap(t) && t.get("name") === name) : undefined;
  const cfg = entry?.get("configuration");
  const policy = isMap(cfg) ? cfg.get("cleanupPolicy") : undefined;
  return policy === undefined ? upsertTopic(doc, { name, configuration: { cleanupPolicy: "Compact" } }) : "unchanged";
}
