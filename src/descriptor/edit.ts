/**
 * Edits of a parsed quix.yaml as pure functions on its `yaml.Document`. They change values in place (the node
 * and its comments stay), append what is new at the end of its list, and touch nothing else, so `String(doc)`
 * keeps every other byte of the file. Validate the result before writing it (file.ts `editDescriptor` does).
 */
import { type Document, isMap, isScalar, isSeq, type Node, type Scalar, type YAMLMap, YAMLSeq } from "yaml";
import { InputError } from "../errors/index.js";
import {
  type DeploymentType,
  type DesiredStatus,
  type InputType,
  TOPIC_DEFAULTS,
  type TopicConfiguration,
} from "./types.js";

export interface VariableSpec {
  readonly name: string;
  readonly inputType: InputType;
  readonly description?: string;
  readonly required?: boolean;
  readonly value?: string;
}

/** A deployment as the caller wants it; fields left undefined are left as they are in the file. */
export interface DeploymentSpec {
  readonly name: string;
  readonly application?: string;
  readonly version?: string;
  readonly deploymentType: DeploymentType;
  readonly resources: { readonly cpu: number; readonly memory: number; readonly replicas?: number };
  readonly desiredStatus?: DesiredStatus;
  readonly variables?: readonly VariableSpec[];
}

export interface TopicSpec {
  readonly name: string;
  readonly persisted?: boolean;
  readonly configuration?: Partial<TopicConfiguration>;
}

export type EditOutcome = "inserted" | "updated" | "unchanged";

export interface UpsertOptions {
  /** Also remove variables the file has but `spec.variables` does not (default: keep them, they may be hand-added). */
  readonly pruneVariables?: boolean;
}

/**
 * Insert the deployment, or update the one with the same name in place. The version is not bumped here:
 * pass `version: nextVersion(old)` when the code changed.
 */
export function upsertDeployment(doc: Document, spec: DeploymentSpec, opts: UpsertOptions = {}): EditOutcome {
  const list = listOf(doc, "deployments");
  const existing = list.items.find((it): it is YAMLMap => isMap(it) && it.get("name") === spec.name);
  if (!existing) {
    append(list, doc.createNode(deploymentObject(spec)));
    return "inserted";
  }
  let changed = false;
  const set = (m: YAMLMap, key: string, value: string | number | boolean | undefined) => {
    changed = setScalar(doc, m, key, value) || changed;
  };
  set(existing, "application", spec.application);
  set(existing, "version", spec.version);
  set(existing, "deploymentType", spec.deploymentType);
  const res = existing.get("resources", true);
  if (isMap(res)) {
    const limits = res.get("limits", true);
    const sizes = isMap(limits) ? limits : res;
    set(sizes, "cpu", spec.resources.cpu);
    set(sizes, "memory", spec.resources.memory);
    set(res, "replicas", spec.resources.replicas);
  } else {
    existing.set("resources", doc.createNode(resourcesObject(spec)));
    changed = true;
  }
  set(existing, "desiredStatus", spec.desiredStatus);
  if (spec.variables) changed = upsertVariables(doc, existing, spec.variables, opts.pruneVariables ?? false) || changed;
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
  const existing = list.items.find((it): it is YAMLMap => isMap(it) && it.get("name") === spec.name);
  if (!existing) {
    append(list, doc.createNode({ name: spec.name, persisted: spec.persisted ?? false, configuration: { ...TOPIC_DEFAULTS, ...spec.configuration } }));
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

function deploymentObject(spec: DeploymentSpec): Record<string, unknown> {
  return {
    name: spec.name,
    ...(spec.application !== undefined && { application: spec.application }),
    version: spec.version ?? "v1",
    deploymentType: spec.deploymentType,
    resources: resourcesObject(spec),
    ...(spec.desiredStatus !== undefined && { desiredStatus: spec.desiredStatus }),
    variables: (spec.variables ?? []).map(variableObject),
  };
}

function resourcesObject(spec: DeploymentSpec): Record<string, number> {
  return { cpu: spec.resources.cpu, memory: spec.resources.memory, replicas: spec.resources.replicas ?? 1 };
}

function variableObject(v: VariableSpec): Record<string, unknown> {
  return {
    name: v.name,
    inputType: v.inputType,
    description: v.description ?? "",
    required: v.required ?? false,
    ...(v.value !== undefined && { value: v.value }),
  };
}

function upsertVariables(doc: Document, dep: YAMLMap, specs: readonly VariableSpec[], prune: boolean): boolean {
  const node = dep.get("variables", true);
  if (!isSeq(node)) {
    dep.set("variables", doc.createNode(specs.map(variableObject)));
    return true;
  }
  let changed = false;
  const wanted = new Set(specs.map((v) => v.name));
  if (prune) {
    const before = node.items.length;
    node.items = node.items.filter((it) => !isMap(it) || wanted.has(String(it.get("name"))));
    changed = node.items.length !== before;
  }
  for (const v of specs) {
    const item = node.items.find((it): it is YAMLMap => isMap(it) && it.get("name") === v.name);
    if (!item) {
      append(node, doc.createNode(variableObject(v)));
      changed = true;
      continue;
    }
    for (const [k, val] of [
      ["inputType", v.inputType],
      ["description", v.description],
      ["required", v.required],
      ["value", v.value],
    ] as const) {
      changed = setScalar(doc, item, k, val) || changed;
    }
  }
  return changed;
}

/** Set `key` to a scalar, reusing the existing node (so its comment stays); undefined leaves the key alone. */
function setScalar(doc: Document, m: YAMLMap, key: string, value: string | number | boolean | undefined): boolean {
  if (value === undefined) return false;
  const cur = m.get(key, true) as Node | undefined;
  if (isScalar(cur) && cur.value !== null) {
    if (sameScalar(cur, value)) return false;
    cur.value = value;
    return true;
  }
  if (cur === undefined) m.add(doc.createPair(key, value));
  else m.set(key, doc.createNode(value));
  return true;
}

/** `version: 1.0` parses as the number 1; it still equals the text "1.0". */
function sameScalar(s: Scalar, value: string | number | boolean): boolean {
  if (s.value === value) return true;
  return typeof value === "string" && typeof s.value !== "string" && (s.source ?? String(s.value)) === value;
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

/** Append in block style (a `[]` placeholder becomes a normal list once it has entries). */
function append(list: YAMLSeq, node: unknown): void {
  if (list.flow) list.flow = false;
  list.items.push(node);
}
