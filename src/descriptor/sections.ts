/**
 * The section readers of quix.yaml (metadata, deployments with their resources and variables, topics, and the
 * cross-check that every input topic is written or declared) and of app.yaml. Each reads through `Fields`, so
 * every problem is reported with its position and the reading goes on.
 */
import type { Node } from "yaml";
import type { Checker, Fields } from "./fields.js";
import { topicUsage } from "./graph.js";
import {
  type AppDescriptor,
  type AppVariable,
  DEPLOYMENT_TYPES,
  type Deployment,
  type DeploymentType,
  type Descriptor,
  DESIRED_STATUSES,
  type DesiredStatus,
  INPUT_TYPES,
  type InputType,
  type Resources,
  TOPIC_DEFAULTS,
  type Topic,
  type TopicConfiguration,
  type Variable,
} from "./types.js";

/** Kafka's own rule for topic names. */
const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;

/** quix.yaml's contents, undefined (after reporting) when its root is not a mapping. */
export function readQuixYaml(root: Node | null, c: Checker): Descriptor | undefined {
  const refs: TopicRef[] = [];
  const value = readDescriptor(root, c, refs);
  if (value) checkTopicReferences(value, refs, c);
  return value;
}

interface TopicRef {
  deployment: string;
  variable: string;
  topic: string;
  node: Node;
  path: string;
}

function readDescriptor(root: Node | null, c: Checker, refs: TopicRef[]): Descriptor | undefined {
  const top = c.mapping(root, "", "the descriptor", "write quix.yaml as a mapping with metadata:, deployments: and topics:");
  if (!top) return undefined;
  const meta = top.map("metadata", { required: true, remedy: "add 'metadata:' with 'version: 1.0' at the top" });
  if (meta) meta.label = "metadata";
  const version = meta?.text("version", { required: true, remedy: "add 'version: 1.0' under metadata:" }) ?? "";

  const deployments: Deployment[] = [];
  const seenDeployments = new Map<string, Node>();
  top.items("deployments", (item, path) => {
    const d = readDeployment(item, path, c, refs);
    if (!d) return;
    if (seenDeployments.has(d.name)) {
      const first = c.position(seenDeployments.get(d.name)!);
      c.report(item.nodeOf("name"), `${path}.name`, "duplicate-deployment", `duplicate deployment name "${d.name}" (first defined at line ${first.line})`, "give each deployment a unique name, or remove one of them");
    } else seenDeployments.set(d.name, item.nodeOf("name")!);
    deployments.push(d);
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
  return { metadata: { version }, deployments, topics };
}

function readDeployment(f: Fields, path: string, c: Checker, refs: TopicRef[]): Deployment | undefined {
  const name = f.string("name", { required: true, remedy: "give the deployment a name: (unique in this file)" });
  if (name === undefined) return undefined;
  f.label = `deployment "${name}"`;
  const image = f.string("image");
  // Quix also deploys prebuilt images; only then may a deployment have no application folder.
  const application = f.string("application", { required: image === undefined, remedy: "set application: to the application folder (the one holding its app.yaml)" });
  const version = f.text("version");
  const deploymentType = f.oneOf<DeploymentType>("deploymentType", DEPLOYMENT_TYPES, "unknown-deployment-type", { required: true }) ?? "Service";
  const desiredStatus = f.oneOf<DesiredStatus>("desiredStatus", DESIRED_STATUSES, "unknown-desired-status");
  const resources = readResources(f, path, c);

  const variables: Variable[] = [];
  const seen = new Set<string>();
  f.items("variables", (v, vpath) => {
    const variable = readVariable(v, name);
    if (!variable) return;
    if (seen.has(variable.name)) {
      c.report(v.nodeOf("name"), `${vpath}.name`, "duplicate-variable", `${f.label} declares variable "${variable.name}" twice`, "keep one entry per variable name");
    }
    seen.add(variable.name);
    variables.push(variable);
    const valueNode = v.nodeOf("value");
    if (variable.inputType === "InputTopic" && variable.value !== undefined && valueNode) {
      refs.push({ deployment: name, variable: variable.name, topic: variable.value, node: valueNode, path: `${vpath}.value` });
    }
  });
  return {
    name,
    ...(application !== undefined && { application }),
    ...(image !== undefined && { image }),
    ...(version !== undefined && { version }),
    deploymentType,
    resources,
    ...(desiredStatus !== undefined && { desiredStatus }),
    variables,
  };
}

function readResources(f: Fields, path: string, c: Checker): Resources {
  const fallback: Resources = { cpu: 0, memory: 0, replicas: 1, form: "flat" };
  const r = f.map("resources", { required: true, remedy: "add resources: with cpu: (millicores), memory: (MB) and replicas:" });
  if (!r) return fallback;
  const limits = r.has("limits") ? r.map("limits") : undefined;
  const sizes = limits ?? r;
  if (limits) {
    for (const k of ["cpu", "memory"]) {
      if (r.has(k)) c.report(r.nodeOf(k), `${path}.resources.${k}`, "conflicting-resources", `${f.label} sets ${k} both in resources: and in resources.limits:`, `keep ${k} in one place (resources.limits.${k})`);
    }
  }
  const positive = (key: string, unit: string, example: number) =>
    sizes.integer(key, {
      required: true,
      min: 1,
      code: "invalid-resource",
      rule: `must be a positive whole number of ${unit}`,
      remedy: `set ${key}: to a positive number of ${unit}, e.g. ${example}`,
    });
  const cpu = positive("cpu", "millicores", 200);
  const memory = positive("memory", "MB", 500);
  const replicas = r.integer("replicas", { min: 1, code: "invalid-replicas", rule: "must be a whole number >= 1", remedy: "set replicas: to 1 or more (use desiredStatus: Stopped to stop a deployment)" });
  return { cpu: cpu ?? 0, memory: memory ?? 0, replicas: replicas ?? 1, form: limits ? "limits" : "flat" };
}

function readVariable(v: Fields, deployment: string): Variable | undefined {
  const name = v.string("name", { required: true, remedy: "name the variable (it becomes an environment variable of that name)" });
  if (name === undefined) return undefined;
  v.label = `variable "${name}" of deployment "${deployment}"`;
  const inputType = v.oneOf<InputType>("inputType", INPUT_TYPES, "unknown-input-type", { required: true });
  const description = v.text("description");
  const required = v.boolean("required") ?? false;
  const value = v.text("value");
  const secretKey = v.string("secretKey");
  if ((inputType === "InputTopic" || inputType === "OutputTopic") && value !== undefined && !TOPIC_NAME.test(value)) {
    v.report("value", "invalid-topic-name", `${v.label}: "${value}" is not a valid topic name`, "use letters, digits, '.', '_' and '-' only (at most 249)");
  }
  if (required && value === undefined && secretKey === undefined) {
    v.missing("value", inputType === "Secret" ? "set secretKey: to the secret's key, or value:" : "set value:, or make the variable required: false");
  }
  return {
    name,
    inputType: inputType ?? "FreeText",
    ...(description !== undefined && { description }),
    required,
    ...(value !== undefined && { value }),
    ...(secretKey !== undefined && { secretKey }),
  };
}

function readTopic(f: Fields): Topic | undefined {
  const name = f.string("name", { required: true, remedy: "give the topic a name:" });
  if (name === undefined) return undefined;
  f.label = `topic "${name}"`;
  if (!TOPIC_NAME.test(name)) f.report("name", "invalid-topic-name", `"${name}" is not a valid topic name`, "use letters, digits, '.', '_' and '-' only (at most 249)");
  const persisted = f.boolean("persisted") ?? false;
  const cfg = f.map("configuration");
  const num = (key: keyof TopicConfiguration, min: number, forever: boolean, unit: string) =>
    cfg?.integer(key, {
      min,
      allowMinusOne: forever,
      code: "invalid-topic-config",
      rule: forever ? `must be a whole number of ${unit} >= ${min}, or -1 for no limit` : `must be a whole number >= ${min}`,
      remedy: forever ? `set ${key}: to a positive number of ${unit}, or -1` : `set ${key}: to ${min} or more`,
    }) ?? TOPIC_DEFAULTS[key];
  return {
    name,
    persisted,
    configuration: {
      partitions: num("partitions", 1, false, "partitions"),
      replicationFactor: num("replicationFactor", 1, false, "replicas"),
      retentionInMinutes: num("retentionInMinutes", 1, true, "minutes"),
      retentionInBytes: num("retentionInBytes", 1, true, "bytes"),
    },
  };
}

function checkTopicReferences(d: Descriptor, refs: readonly TopicRef[], c: Checker): void {
  const usage = topicUsage(d);
  for (const r of refs) {
    const u = usage.get(r.topic);
    if (u && (u.writers.length > 0 || u.declared)) continue;
    c.report(
      r.node,
      r.path,
      "unknown-topic",
      `deployment "${r.deployment}" reads topic "${r.topic}" (variable "${r.variable}"), which no deployment writes and topics: does not declare`,
      `declare "${r.topic}" under topics:, add the deployment that writes it (an OutputTopic variable), or fix the name`,
    );
  }
}

/** app.yaml's contents, undefined (after reporting) when its root is not a mapping. */
export function readApp(root: Node | null, c: Checker): AppDescriptor | undefined {
  const top = c.mapping(root, "", "app.yaml", "write app.yaml as a mapping with name:, language:, variables:, dockerfile: and runEntryPoint:");
  if (!top) return undefined;
  top.label = "app.yaml";
  const name = top.string("name", { required: true, remedy: "set name: to the application's name" }) ?? "";
  const language = top.string("language", { required: true, remedy: "set language: (e.g. typescript)" }) ?? "";
  const dockerfile = top.string("dockerfile", { required: true, remedy: "set dockerfile: to the Dockerfile's path in the app folder" }) ?? "";
  const runEntryPoint = top.string("runEntryPoint", { required: true, remedy: "set runEntryPoint: to the file that starts the app (e.g. main.ts)" }) ?? "";
  const defaultFile = top.string("defaultFile");
  const variables: AppVariable[] = [];
  const seen = new Set<string>();
  top.items("variables", (v, vpath) => {
    const vname = v.string("name", { required: true, remedy: "name the variable (it becomes an environment variable of that name)" });
    if (vname === undefined) return;
    v.label = `variable "${vname}"`;
    if (seen.has(vname)) c.report(v.nodeOf("name"), `${vpath}.name`, "duplicate-variable", `app.yaml declares variable "${vname}" twice`, "keep one entry per variable name");
    seen.add(vname);
    const inputType = v.oneOf<InputType>("inputType", INPUT_TYPES, "unknown-input-type", { required: true }) ?? "FreeText";
    const description = v.text("description");
    const defaultValue = v.text("defaultValue");
    const required = v.boolean("required") ?? false;
    variables.push({
      name: vname,
      inputType,
      ...(description !== undefined && { description }),
      ...(defaultValue !== undefined && { defaultValue }),
      required,
    });
  });
  return { name, language, variables, dockerfile, runEntryPoint, ...(defaultFile !== undefined && { defaultFile }) };
}
