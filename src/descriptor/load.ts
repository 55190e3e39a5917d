/**
 * Load and validate `quix.yaml` and `app.yaml` text. Pure: text in, a typed frozen value, the editable
 * `yaml.Document` and every problem found (not just the first) out, each with file:line:column and a remedy.
 * Unknown extra keys are ignored (Quix files carry more than quixlab uses); the documented keys are checked strictly.
 */
import type { Document, LineCounter, Node, YAMLError } from "yaml";
import { isMap, isScalar, isSeq, type YAMLMap, type YAMLSeq } from "yaml";
import { topicUsage } from "./graph.js";
import { parseEditable } from "./render.js";
import {
  type AppDescriptor,
  type AppVariable,
  DEPLOYMENT_TYPES,
  type Deployment,
  type DeploymentType,
  type Descriptor,
  type DescriptorError,
  type DescriptorErrorCode,
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

export interface Loaded<T> {
  /** The parsed document; edit it with the functions in edit.ts, then `String(doc)`. */
  readonly doc: Document.Parsed;
  /** Best effort when `errors` is not empty: trust it only when the file is valid. */
  readonly value: T;
  readonly errors: readonly DescriptorError[];
}

/** Kafka's own rule for topic names. */
const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;

/** Parse and validate quix.yaml text; `file` is only used to label errors. */
export function loadDescriptor(text: string, file = "quix.yaml"): Loaded<Descriptor> {
  const { doc, lineCounter } = parseEditable(text);
  const c = new Checker(file, lineCounter);
  if (doc.errors.length > 0) return syntaxFailure(doc, c, EMPTY_DESCRIPTOR);
  const refs: TopicRef[] = [];
  const value = readDescriptor(doc.contents as Node | null, c, refs);
  checkTopicReferences(value, refs, c);
  return { doc, value: deepFreeze(value), errors: Object.freeze(c.errors) };
}

/** Parse and validate an application's app.yaml text. */
export function loadAppDescriptor(text: string, file = "app.yaml"): Loaded<AppDescriptor> {
  const { doc, lineCounter } = parseEditable(text);
  const c = new Checker(file, lineCounter);
  if (doc.errors.length > 0) return syntaxFailure(doc, c, EMPTY_APP);
  const value = readApp(doc.contents as Node | null, c);
  return { doc, value: deepFreeze(value), errors: Object.freeze(c.errors) };
}

/** `file:line:col message — remedy`, the one-line form the CLI prints. */
export function formatDescriptorError(e: DescriptorError): string {
  return `${e.file}:${e.line}:${e.column} ${e.message} — ${e.remedy}`;
}

/** True when the errors mean the text is not YAML at all (rather than a YAML file that breaks the contract). */
export function isSyntaxFailure(errors: readonly DescriptorError[]): boolean {
  return errors.some((e) => e.code === "yaml-syntax");
}

const EMPTY_DESCRIPTOR: Descriptor = deepFreeze({ metadata: { version: "" }, deployments: [], topics: [] });
const EMPTY_APP: AppDescriptor = deepFreeze({ name: "", language: "", variables: [], dockerfile: "", runEntryPoint: "" });

function syntaxFailure<T>(doc: Document.Parsed, c: Checker, empty: T): Loaded<T> {
  for (const e of doc.errors) c.syntax(e);
  return { doc, value: empty, errors: Object.freeze(c.errors) };
}

interface TopicRef {
  deployment: string;
  variable: string;
  topic: string;
  node: Node;
  path: string;
}

function readDescriptor(root: Node | null, c: Checker, refs: TopicRef[]): Descriptor {
  const top = c.mapping(root, "", "the descriptor", "write quix.yaml as a mapping with metadata:, deployments: and topics:");
  if (!top) return { metadata: { version: "" }, deployments: [], topics: [] };
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

function readApp(root: Node | null, c: Checker): AppDescriptor {
  const top = c.mapping(root, "", "app.yaml", "write app.yaml as a mapping with name:, language:, variables:, dockerfile: and runEntryPoint:");
  if (!top) return EMPTY_APP;
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

/** Collects located errors. */
class Checker {
  readonly errors: DescriptorError[] = [];
  constructor(
    readonly file: string,
    private readonly lc: LineCounter,
  ) {}

  position(at: Node | number | undefined): { line: number; col: number } {
    const offset = typeof at === "number" ? at : (at?.range?.[0] ?? 0);
    return this.lc.linePos(offset);
  }

  report(at: Node | number | undefined, path: string, code: DescriptorErrorCode, message: string, remedy: string): void {
    const { line, col } = this.position(at);
    this.errors.push(Object.freeze({ file: this.file, line, column: col, code, message, remedy, path }));
  }

  syntax(e: YAMLError): void {
    const [line, col] = e.linePos?.[0] ? [e.linePos[0].line, e.linePos[0].col] : [this.position(e.pos[0]).line, this.position(e.pos[0]).col];
    const first = (e.message.split("\n")[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, "");
    this.errors.push(
      Object.freeze({ file: this.file, line, column: col, code: "yaml-syntax" as const, message: `not valid YAML: ${first}`, remedy: "fix the YAML at this position (indent with spaces, one document per file)", path: "" }),
    );
  }

  /** The node as a mapping, or an error saying it should be one. */
  mapping(node: Node | null | undefined, path: string, label: string, remedy: string): Fields | undefined {
    if (isMap(node)) return new Fields(this, node, path, label);
    if (node === null || node === undefined || (isScalar(node) && node.value === null)) {
      this.report(node ?? undefined, path, "not-a-mapping", `${label} is empty`, remedy);
    } else this.report(node, path, "not-a-mapping", `${label} must be a mapping, found ${kindOf(node)}`, remedy);
    return undefined;
  }
}

interface FieldOpts {
  required?: boolean;
  remedy?: string;
}

interface IntegerOpts extends FieldOpts {
  min: number;
  allowMinusOne?: boolean;
  code: DescriptorErrorCode;
  rule: string;
}

/** Typed access to the documented keys of one mapping, reporting what is missing or malformed. */
class Fields {
  constructor(
    private readonly c: Checker,
    private readonly node: YAMLMap,
    readonly path: string,
    public label: string,
  ) {}

  private at(key: string): string {
    return this.path ? `${this.path}.${key}` : key;
  }

  has(key: string): boolean {
    return this.node.has(key);
  }

  /** The value node of `key`, or undefined when the key is absent. */
  nodeOf(key: string): Node | undefined {
    const pair = this.node.items.find((p) => isScalar(p.key) && p.key.value === key);
    if (!pair) return undefined;
    return (pair.value as Node | null) ?? (pair.key as Node);
  }

  private keyNode(key: string): Node | undefined {
    return this.node.items.find((p) => isScalar(p.key) && p.key.value === key)?.key as Node | undefined;
  }

  report(key: string, code: DescriptorErrorCode, message: string, remedy: string): void {
    this.c.report(this.nodeOf(key) ?? this.node, this.at(key), code, message, remedy);
  }

  missing(key: string, remedy: string): void {
    const present = this.keyNode(key);
    const msg = present ? `${this.label}: ${key} is empty` : `${this.label} is missing ${key}`;
    this.c.report(present ?? this.node, this.at(key), "missing-field", msg, remedy);
  }

  /** The scalar node of `key`; undefined (after reporting) when absent-but-required, null or not a scalar. */
  private scalar(key: string, opts: FieldOpts, expected: string): { node: Node; value: unknown; source: string } | undefined {
    const n = this.nodeOf(key);
    const empty = n === undefined || (isScalar(n) && (n.value === null || n.value === undefined)) || n === this.keyNode(key);
    if (empty) {
      if (opts.required) this.missing(key, opts.remedy ?? `set ${key}:`);
      return undefined;
    }
    if (!isScalar(n)) {
      this.c.report(n, this.at(key), "wrong-type", `${this.label}: ${key} must be ${expected}, found ${kindOf(n)}`, opts.remedy ?? `write ${key}: as ${expected}`);
      return undefined;
    }
    return { node: n, value: n.value, source: n.source ?? String(n.value) };
  }

  /** A string-valued key; numbers and booleans are type errors here. */
  string(key: string, opts: FieldOpts = {}): string | undefined {
    const s = this.scalar(key, opts, "text");
    if (!s) return undefined;
    if (typeof s.value !== "string") {
      this.c.report(s.node, this.at(key), "wrong-type", `${this.label}: ${key} must be text, found ${shown(s.node)}`, `quote it: ${key}: "${s.source}"`);
      return undefined;
    }
    if (opts.required && s.value.trim() === "") {
      this.missing(key, opts.remedy ?? `set ${key}:`);
      return undefined;
    }
    return s.value;
  }

  /** Any scalar, as the text it was written as (`version: 1.0` is "1.0", `value: 100` is "100"). */
  text(key: string, opts: FieldOpts = {}): string | undefined {
    const s = this.scalar(key, opts, "text");
    if (!s) return undefined;
    return typeof s.value === "string" ? s.value : s.source;
  }

  boolean(key: string): boolean | undefined {
    const s = this.scalar(key, {}, "true or false");
    if (!s) return undefined;
    if (typeof s.value !== "boolean") {
      this.c.report(s.node, this.at(key), "wrong-type", `${this.label}: ${key} must be true or false, found ${shown(s.node)}`, `write ${key}: true or ${key}: false (no quotes)`);
      return undefined;
    }
    return s.value;
  }

  integer(key: string, opts: IntegerOpts): number | undefined {
    const s = this.scalar(key, opts, "a number");
    if (!s) return undefined;
    if (typeof s.value !== "number") {
      this.c.report(s.node, this.at(key), "wrong-type", `${this.label}: ${key} must be a number, found ${shown(s.node)}`, opts.remedy ?? `write ${key}: as a number`);
      return undefined;
    }
    const v = s.value;
    const ok = Number.isInteger(v) && (v >= opts.min || (opts.allowMinusOne === true && v === -1));
    if (!ok) {
      this.c.report(s.node, this.at(key), opts.code, `${this.label}: ${key} ${opts.rule}, found ${s.source}`, opts.remedy ?? `fix ${key}`);
      return undefined;
    }
    return v;
  }

  oneOf<T extends string>(key: string, allowed: readonly T[], code: DescriptorErrorCode, opts: FieldOpts = {}): T | undefined {
    const s = this.scalar(key, { ...opts, remedy: opts.remedy ?? `set ${key}: to one of ${allowed.join(", ")}` }, "text");
    if (!s) return undefined;
    if (typeof s.value === "string" && (allowed as readonly string[]).includes(s.value)) return s.value as T;
    const near = allowed.find((a) => a.toLowerCase() === String(s.value).toLowerCase());
    this.c.report(
      s.node,
      this.at(key),
      code,
      `${this.label}: unknown ${key} "${s.source}"`,
      near ? `did you mean ${near}? (values are case-sensitive)` : `use one of ${allowed.join(", ")}`,
    );
    return undefined;
  }

  /** A nested mapping; absent is fine unless required; present-but-not-a-mapping is an error. */
  map(key: string, opts: FieldOpts = {}): Fields | undefined {
    const n = this.nodeOf(key);
    if (n === undefined || (isScalar(n) && n.value === null)) {
      if (opts.required) this.missing(key, opts.remedy ?? `add ${key}:`);
      return undefined;
    }
    if (!isMap(n)) {
      this.c.report(n, this.at(key), "wrong-type", `${this.label}: ${key} must be a mapping, found ${kindOf(n)}`, opts.remedy ?? `write ${key}: as a mapping`);
      return undefined;
    }
    return new Fields(this.c, n, this.at(key), this.label);
  }

  /** Calls `each` for every mapping item of the sequence at `key` (absent or empty is an empty list). */
  items(key: string, each: (item: Fields, path: string) => void): void {
    const n = this.nodeOf(key);
    if (n === undefined || (isScalar(n) && n.value === null)) return;
    if (!isSeq(n)) {
      this.c.report(n, this.at(key), "wrong-type", `${this.label}: ${key} must be a list, found ${kindOf(n)}`, `write each entry of ${key}: on its own line starting with "- "`);
      return;
    }
    (n as YAMLSeq).items.forEach((it, i) => {
      const path = `${this.at(key)}[${i}]`;
      if (isMap(it)) each(new Fields(this.c, it, path, `${key}[${i}]`), path);
      else this.c.report((it as Node | null) ?? n, path, "wrong-type", `${key}[${i}] must be a mapping, found ${kindOf(it)}`, `write the entry as "- name: ..." with its fields indented below`);
    });
  }
}

/** A scalar as a message shows it: `text "200m"`, `a number 42`. */
function shown(n: Node): string {
  const v = isScalar(n) ? n.value : undefined;
  return typeof v === "string" ? `text ${JSON.stringify(v)}` : `${kindOf(n)} ${isScalar(n) ? (n.source ?? String(v)) : ""}`.trimEnd();
}

function kindOf(n: unknown): string {
  if (isMap(n)) return "a mapping";
  if (isSeq(n)) return "a list";
  if (isScalar(n)) {
    const v = n.value;
    if (v === null) return "nothing";
    if (typeof v === "number") return "a number";
    if (typeof v === "boolean") return "a boolean";
    return "text";
  }
  return "nothing";
}

function deepFreeze<T>(v: T): T {
  if (v && typeof v === "object" && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}
