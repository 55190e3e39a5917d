/**
 * Edits of a parsed quix.yaml as pure functions on its `yaml.Document`. They change values in place (the node
 * and its comments stay), append what is new at the end of its list, and touch nothing else, so `String(doc)`
 * keeps every other byte of the file, `{{NAME}}` placeholders included (a scalar holding one is never
 * overwritten). They write in the form the file uses: v1.0 variables in full, v2.0 variables as overrides of
 * app.yaml (edit-variables.ts), and resources flat or under `limits:` like the file's other deployments.
 * Validate the result before writing it (file.ts `editDescriptor` does).
 */
import { type Document, isMap, isScalar, isSeq, type YAMLMap, YAMLSeq } from "yaml";
import { InputError } from "../errors/index.js";
import { append, documentVersion, newVariables, setScalar, upsertVariables, type VariableForm, type VariableSpec } from "./edit-variables.js";
import { type AppDescriptor, type DeploymentType, type DesiredStatus, TOPIC_DEFAULTS, type TopicConfiguration } from "./types.js";

export type { VariableSpec } from "./edit-variables.js";

/** A deployment as the caller wants it; fields left undefined are left as they are in the file. */
export interface DeploymentSpec {
  readonly name: string;
  readonly application?: string;
  readonly version?: string;
  readonly deploymentType: DeploymentType;
  readonly resources?: { readonly cpu: number; readonly memory: number; readonly replicas?: number };
  readonly desiredStatus?: DesiredStatus;
  readonly disabled?: boolean;
  readonly variables?: readonly VariableSpec[];
}

export interface TopicSpec {
  readonly name: string;
  readonly persisted?: boolean;
  /** e.g. `{ cleanupPolicy: "Compact" }` for a changelog topic. */
  readonly configuration?: Partial<TopicConfiguration>;
}

export type EditOutcome = "inserted" | "updated" | "unchanged";

export interface UpsertOptions {
  /** Also remove variables the file has but `spec.variables` does not (default: keep them, they may be hand-added). */
  readonly pruneVariables?: boolean;
  /**
   * The deployment's app.yaml (as it will be). In a v2.0 file, a value equal to its default is not written (Quix
   * drops those when it saves); without it, every value is written as a `name` + `value` override.
   */
  readonly app?: AppDescriptor;
}

/**
 * Insert the deployment, or update the one with the same name in place. The version is not bumped here:
 * pass `version: nextVersion(old)` when the code changed.
 */
export function upsertDeployment(doc: Document, spec: DeploymentSpec, opts: UpsertOptions = {}): EditOutcome {
  const list = listOf(doc, "deployments");
  const existing = list.items.find((it): it is YAMLMap => isMap(it) && it.get("name") === spec.name);
  const form = variableForm(doc, spec, existing, opts.app);
  if (!existing) {
    append(list, doc.createNode(deploymentObject(spec, form, limitsForm(list))));
    return "inserted";
  }
  let changed = false;
  const set = (m: YAMLMap, key: string, value: string | number | boolean | undefined) => {
    changed = setScalar(doc, m, key, value) || changed;
  };
  set(existing, "application", spec.application);
  set(existing, "version", spec.version);
  set(existing, "deploymentType", spec.deploymentType);
  if (spec.resources) {
    const res = existing.get("resources", true);
    if (isMap(res)) {
      const limits = res.get("limits", true);
      const sizes = isMap(limits) ? limits : res;
      set(sizes, "cpu", spec.resources.cpu);
      set(sizes, "memory", spec.resources.memory);
      set(res, "replicas", spec.resources.replicas);
    } else {
      existing.set("resources", doc.createNode(resourcesObject(spec.resources, limitsForm(list))));
      changed = true;
    }
  }
  set(existing, "desiredStatus", spec.desiredStatus);
  // `disabled: false` is Quix's default: only written over an existing key, never added.
  if (spec.disabled === true || existing.has("disabled")) set(existing, "disabled", spec.disabled);
  if (spec.variables) changed = upsertVariables(doc, existing, spec.variables, opts.pruneVariables ?? false, form) || changed;
  return changed ? "updated" : "unchanged";
}

/** Remove the deployment with this name; false when there is none. */
export function removeDeployment(doc: Document, name: string): boolean {
  const root = doc.contents;
  if (!isMap(root)) return false;
  const list = root.get("deployments", true);
  if (!isSeq(list)) return false;
  const i = list.items.findIndex((it) => isMap(it) && it.get("name") === name);
  if (i < 0) return false;
  list.items.splice(i, 1);
  return true;
}

/** Declare a topic when it is missing (with `TOPIC_DEFAULTS` for what `spec` leaves out); else apply the given fields. */
export function upsertTopic(doc: Document, spec: TopicSpec): EditOutcome {
  const list = listOf(doc, "topics");
  const existing = findTopic(list, spec.name);
  if (!existing) {
    append(list, doc.createNode(topicObject(spec)));
    return "inserted";
  }
  let changed = setScalar(doc, existing, "persisted", spec.persisted);
  const cfg = spec.configuration ?? {};
  if (Object.keys(cfg).length > 0) {
    const node = existing.get("configuration", true);
    if (isMap(node)) {
      for (const [k, v] of Object.entries(cfg)) changed = setScalar(doc, node, k, v) || changed;
    } else {
      existing.set("configuration", doc.createNode({ ...TOPIC_DEFAULTS, ...cfg }));
      changed = true;
    }
  }
  return changed ? "updated" : "unchanged";
}

/**
 * Declare a topic with this configuration if `topics:` does not have it yet; an existing entry is left exactly
 * as it is (a user may have tuned it). `TOPIC_DEFAULTS` fill what `spec.configuration` leaves out.
 * @example ensureTopic(doc, { name: "ohlc-changelog", configuration: { cleanupPolicy: "Compact" } }) // "inserted"
 */
export function ensureTopic(doc: Document, spec: TopicSpec): "inserted" | "unchanged" {
  const list = listOf(doc, "topics");
  if (findTopic(list, spec.name)) return "unchanged";
  append(list, doc.createNode(topicObject(spec)));
  return "inserted";
}

/**
 * The version after `old`: the last number in it goes up by one, keeping its zero padding
 * (`v1.2` → `v1.3`, `features-v1.09` → `features-v1.10`, `3` → `4`); none, empty or `latest` → `v1`;
 * anything without a number (a commit hash ending in a letter, a name) gets `-2` appended.
 */
export function nextVersion(old?: string | null): string {
  const s = (old ?? "").trim();
  if (s === "" || s === "latest") return "v1";
  const m = /^(.*?)(\d+)(\D*)$/.exec(s);
  if (!m) return `${s}-2`;
  const [, head = "", digits = "", rest = ""] = m;
  return head + String(Number(digits) + 1).padStart(digits.length, "0") + rest;
}

/** A new quix.yaml: commented, valid, with empty deployments and topics. */
export function newDescriptor(): string {
  return `# Quix project descriptor (quix.yaml): the pipeline's deployments and the topics that link them.
# quixlab reads it ('quixlab descriptor validate', 'quixlab up') and 'quixlab promote' adds to it;
# edits keep your comments and blank lines.

metadata:
  version: 1.0

# One entry per deployed application. 'application' names the folder holding its app.yaml;
# each variable reaches the running step as an environment variable of the same name;
# resources: cpu in millicores, memory in MB.
deployments: []

# Topics the deployments read (InputTopic variables) and write (OutputTopic variables).
topics: []
`;
}

function deploymentObject(spec: DeploymentSpec, form: VariableForm, limits: boolean): Record<string, unknown> {
  const variables = newVariables(spec.variables ?? [], form);
  return {
    name: spec.name,
    ...(spec.application !== undefined && { application: spec.application }),
    version: spec.version ?? "v1",
    deploymentType: spec.deploymentType,
    ...(spec.resources && { resources: resourcesObject(spec.resources, limits) }),
    ...(spec.desiredStatus !== undefined && { desiredStatus: spec.desiredStatus }),
    ...(spec.disabled === true && { disabled: true }),
    // A v2.0 deployment that overrides nothing has no variables: block at all, as Quix writes it.
    ...((!form.overrides || variables.length > 0) && { variables }),
  };
}

function resourcesObject(r: NonNullable<DeploymentSpec["resources"]>, limits: boolean): Record<string, unknown> {
  const replicas = r.replicas ?? 1;
  return limits ? { limits: { cpu: r.cpu, memory: r.memory }, replicas } : { cpu: r.cpu, memory: r.memory, replicas };
}

function topicObject(spec: TopicSpec): Record<string, unknown> {
  return { name: spec.name, persisted: spec.persisted ?? false, configuration: { ...TOPIC_DEFAULTS, ...spec.configuration } };
}

function findTopic(list: YAMLSeq, name: string): YAMLMap | undefined {
  return list.items.find((it): it is YAMLMap => isMap(it) && it.get("name") === name);
}

/** v2.0 overrides for a deployment that inherits (application + version, not Managed); else the full v1.0 form. */
function variableForm(doc: Document, spec: DeploymentSpec, existing: YAMLMap | undefined, app: AppDescriptor | undefined): VariableForm {
  const application = spec.application ?? existing?.get("application");
  const version = spec.version ?? existing?.get("version") ?? (existing ? undefined : "v1");
  const overrides = documentVersion(doc) >= 2 && application != null && version != null && spec.deploymentType !== "Managed";
  return { overrides, ...(app && { app }) };
}

/** True when the file's deployments write their sizes under `resources.limits:` (the newer form). */
function limitsForm(list: YAMLSeq): boolean {
  return list.items.some((d) => isMap(d) && isMap(d.get("resources")) && isMap((d.get("resources") as YAMLMap).get("limits")));
}

/** The top-level list `key`, created when missing or empty. */
function listOf(doc: Document, key: string): YAMLSeq {
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) doc.contents = doc.createNode({}) as never;
  const root = doc.contents;
  if (!isMap(root)) {
    throw new InputError(`cannot add ${key}: the descriptor is not a mapping`, { remedy: "fix quix.yaml so its top level is metadata:, deployments: and topics:" });
  }
  const cur = root.get(key, true);
  if (isSeq(cur)) return cur;
  if (cur !== undefined && !(isScalar(cur) && cur.value === null)) {
    throw new InputError(`cannot add to ${key}: it is not a list`, { remedy: `make ${key}: a list (entries starting with "- ")` });
  }
  const seq = new YAMLSeq();
  root.set(key, seq);
  return seq;
}
