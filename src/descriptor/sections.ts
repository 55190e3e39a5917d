/**
 * The section readers of quix.yaml: metadata, deployments (with their resources, variables and the keys quixlab
 * does not use, kept as data) and topics. Each reads through `Fields`, so every problem is reported with its
 * position and the reading goes on. The checks across entries and files are in crosscheck.ts.
 */
import type { Node } from "yaml";
import { crossCheck, type DeploymentSite } from "./crosscheck.js";
import type { Checker, Fields } from "./fields.js";
import { descriptorVersion, inheritsVariables } from "./inherit.js";
import {
  type AppDescriptor,
  CLEANUP_POLICIES,
  type CleanupPolicy,
  DEPLOYMENT_TYPES,
  type Deployment,
  type DeploymentType,
  type Descriptor,
  DESIRED_STATUSES,
  type DesiredStatus,
  RESOURCE_DEFAULTS,
  type Resources,
  TOPIC_DEFAULTS,
  type Topic,
  type TopicConfiguration,
  type Variable,
} from "./types.js";
import { readDeploymentVariable, TOPIC_NAME } from "./variables.js";

export interface ReadOptions {
  /**
   * The app.yaml of an application folder, when the caller has loaded them (`validateProject` does). With it,
   * v2.0 inheritance is applied to the topic and options checks; without it, checks that need app.yaml are
   * skipped for deployments that inherit.
   */
  readonly apps?: (application: string) => AppDescriptor | undefined;
}

const DEPLOYMENT_KEYS = new Set(["name", "application", "image", "version", "deploymentType", "resources", "desiredStatus", "disabled", "group", "variables", "configuration"]);

/** quix.yaml's contents, undefined (after reporting) when its root is not a mapping. */
export function readQuixYaml(root: Node | null, c: Checker, opts: ReadOptions = {}): Descriptor | undefined {
  const top = c.mapping(root, "", "the descriptor", "write quix.yaml as a mapping with metadata:, deployments: and topics:");
  if (!top) return undefined;
  const meta = top.map("metadata", { required: true, remedy: "add 'metadata:' with 'version: 2.0' at the top" });
  if (meta) meta.label = "metadata";
  const version = meta?.text("version", { required: true, remedy: "add 'version: 2.0' under metadata: (Quix's current descriptor version)" }) ?? "";

  const deployments: Deployment[] = [];
  const sites: DeploymentSite[] = [];
  const seenDeployments = new Map<string, Node>();
  top.items("deployments", (item, path) => {
    const read = readDeployment(item, path, version);
    if (!read) return;
    const d = read.deployment;
    if (seenDeployments.has(d.name)) {
      const first = c.position(seenDeployments.get(d.name)!);
      c.report(item.nodeOf("name"), `${path}.name`, "duplicate-deployment", `duplicate deployment name "${d.name}" (first defined at line ${first.line})`, "give each deployment a unique name, or remove one of them");
    } else seenDeployments.set(d.name, item.nodeOf("name")!);
    deployments.push(d);
    sites.push(read.site);
  });

  const topics: Topic[] = [];
  const seenTopics = new Map<string, Node>();
  top.items("topics", (item, path) => {
    const t = readTopic(item);
    if (!t) return;
    if (seenTopics.has(t.name)) {
      const first = c.position(seenTopics.get(t.name)!);
      c.report(item.nodeOf("name"), `${path}.name`, "duplicate-topic", `duplicate topic "${t.name}" (first declared at line ${first.line})`, "declare each topic once under topics:");
    } else seenTopics.set(t.name, item.nodeOf("name")!);
    topics.push(t);
  });
  const value: Descriptor = { metadata: { version }, deployments, topics };
  crossCheck(value, sites, c, opts.apps);
  return value;
}

function readDeployment(f: Fields, path: string, version: string): { deployment: Deployment; site: DeploymentSite } | undefined {
  const name = f.string("name", { required: true, remedy: "give the deployment a name: (unique in this file)" });
  if (name === undefined) return undefined;
  f.label = `deployment "${name}"`;
  const image = f.string("image");
  // Quix also deploys prebuilt images and library items straight from its library (`libraryItemId`, no folder);
  // only then may a deployment have no application (its folder, or a managed service's id).
  const application = f.string("application", {
    required: image === undefined && !f.has("libraryItemId"),
    remedy: "set application: to the application folder (the one holding its app.yaml), or image: to a prebuilt image",
  });
  const appVersion = f.text("version");
  const deploymentType = f.oneOf<DeploymentType>("deploymentType", DEPLOYMENT_TYPES, "unknown-deployment-type", { required: true }) ?? "Service";
  const desiredStatus = f.oneOf<DesiredStatus>("desiredStatus", DESIRED_STATUSES, "unknown-desired-status");
  const disabled = f.boolean("disabled") ?? false;
  const group = f.text("group");
  const { resources, declared } = readResources(f);
  const inherits = inheritsVariables({ application, version: appVersion, deploymentType }, version);
  const caseless = descriptorVersion(version) >= 2;

  const variables: Variable[] = [];
  const site: DeploymentSite = { nameNode: f.nodeOf("name"), path, values: new Map() };
  const seen = new Set<string>();
  f.items("variables", (v, vpath) => {
    const variable = readDeploymentVariable(v, name, inherits);
    if (!variable) return;
    const key = caseless ? variable.name.toLowerCase() : variable.name;
    if (seen.has(key)) v.report("name", "duplicate-variable", `${f.label} declares variable "${variable.name}" twice${caseless ? " (names match case-insensitively)" : ""}`, "keep one entry per variable name");
    seen.add(key);
    variables.push(variable);
    site.values.set(variable, { node: v.nodeOf("value") ?? v.nodeOf("name"), path: `${vpath}.value` });
  });
  const configuration = f.map("configuration") ? (f.data("configuration") as Record<string, unknown>) : undefined;
  const extra = Object.fromEntries(f.keys().filter((k) => !DEPLOYMENT_KEYS.has(k)).map((k) => [k, f.data(k)]));
  const deployment: Deployment = {
    name,
    ...(application !== undefined && { application }),
    ...(image !== undefined && { image }),
    ...(appVersion !== undefined && { version: appVersion }),
    deploymentType,
    resources,
    resourcesDeclared: declared,
    ...(desiredStatus !== undefined && { desiredStatus }),
    disabled,
    ...(group !== undefined && { group }),
    inherits,
    variables,
    ...(configuration !== undefined && { configuration }),
    extra,
  };
  return { deployment, site };
}

/** Quix's two layouts: `resources: {cpu, memory, replicas}` or `resources: {limits: {cpu, memory}, replicas}`; all optional. */
function readResources(f: Fields): { resources: Resources; declared: boolean } {
  const r = f.map("resources");
  if (!r) return { resources: { ...RESOURCE_DEFAULTS, form: "flat" }, declared: false };
  const limits = r.has("limits") ? r.map("limits") : undefined;
  const sizes = limits ?? r;
  if (limits) {
    for (const k of ["cpu", "memory"]) {
      if (r.has(k)) r.report(k, "conflicting-resources", `${f.label} sets ${k} both in resources: and in resources.limits:`, `keep ${k} in one place (resources.limits.${k})`);
    }
  }
  const positive = (key: string, unit: string, example: number) =>
    sizes.integer(key, { min: 1, code: "invalid-resource", rule: `must be a positive whole number of ${unit}`, remedy: `set ${key}: to a positive number of ${unit}, e.g. ${example}` });
  const cpu = positive("cpu", "millicores", 200);
  const memory = positive("memory", "MB", 500);
  const replicas = r.integer("replicas", { min: 1, code: "invalid-replicas", rule: "must be a whole number >= 1", remedy: "set replicas: to 1 or more (use desiredStatus: Stopped or disabled: true to stop a deployment)" });
  return {
    resources: { cpu: cpu ?? RESOURCE_DEFAULTS.cpu, memory: memory ?? RESOURCE_DEFAULTS.memory, replicas: replicas ?? RESOURCE_DEFAULTS.replicas, form: limits ? "limits" : "flat" },
    declared: true,
  };
}

function readTopic(f: Fields): Topic | undefined {
  const name = f.string("name", { required: true, remedy: "give the topic a name:" });
  if (name === undefined) return undefined;
  f.label = `topic "${name}"`;
  if (!TOPIC_NAME.test(name) && !/\{\{/.test(name)) f.report("name", "invalid-topic-name", `"${name}" is not a valid topic name`, "use letters, digits, '.', '_' and '-' only (at most 249)");
  const persisted = f.boolean("persisted") ?? false;
  const cfg = f.map("configuration");
  const num = (key: Exclude<keyof TopicConfiguration, "cleanupPolicy">, min: number, forever: boolean, unit: string) =>
    cfg?.integer(key, {
      min,
      allowMinusOne: forever,
      code: "invalid-topic-config",
      rule: forever ? `must be a whole number of ${unit} >= ${min}, or -1 for no limit` : `must be a whole number >= ${min}`,
      remedy: forever ? `set ${key}: to a positive number of ${unit}, or -1` : `set ${key}: to ${min} or more`,
    }) ?? TOPIC_DEFAULTS[key];
  const cleanupPolicy = cfg?.oneOf<CleanupPolicy>("cleanupPolicy", CLEANUP_POLICIES, "unknown-cleanup-policy");
  return {
    name,
    persisted,
    configuration: {
      partitions: num("partitions", 1, false, "partitions"),
      replicationFactor: num("replicationFactor", 1, false, "replicas"),
      retentionInMinutes: num("retentionInMinutes", 1, true, "minutes"),
      retentionInBytes: num("retentionInBytes", 1, true, "bytes"),
      ...(cleanupPolicy !== undefined && { cleanupPolicy }),
    },
  };
}
