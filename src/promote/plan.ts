/**
 * The promote planner: from a notebook, an exported feature and the current files, compute everything promote
 * would write (the app folder and the quix.yaml edit) without touching disk. apply.ts carries the plan out.
 */
import { type Document, isMap, isSeq } from "yaml";
import {
  type DeploymentSpec,
  DescriptorInvalidError,
  type EditOutcome,
  ensureTopic,
  isSyntaxFailure,
  loadAppDescriptor,
  loadDescriptor,
  newDescriptor,
  planDescriptorEdit,
  upsertDeployment,
  type VariableSpec,
} from "../descriptor/index.js";
import { InputError } from "../errors/index.js";
import { type Extraction, extractFeature } from "../notebook/extract.js";
import type { Notebook } from "../notebook/model.js";
import { type Current, currentDeployment, declareChangelog, type StepTopics, stepTopics, upstreamOutput } from "./deployment.js";
import { withQuixlabDependency, withVendoredLock } from "./package.js";
import { fillTemplate, outputName, type TemplateFiles } from "./template.js";

export { type StepTopics, stepTopics } from "./deployment.js";
export { withQuixlabDependency, withVendoredLock } from "./package.js";

export type ParamValue = string | number | boolean;

export interface PromoteInput {
  readonly notebook: Notebook;
  /** The notebook's path relative to the project root (quix.yaml's folder), posix; the app's header names it. */
  readonly notebookPath: string;
  readonly exportName: string;
  /** The deployment's name in quix.yaml. */
  readonly deployment: string;
  /** quix.yaml's text now; null when it does not exist yet (promote creates it). */
  readonly descriptorText: string | null;
  /** How messages name quix.yaml (default "quix.yaml"). */
  readonly descriptorFile?: string;
  /** The application folder relative to the project root, posix (becomes the deployment's `application`). */
  readonly appDir: string;
  /** The app folder's current files by name inside it (`{"feature.ts": "..."}`); an absent name is an absent file. */
  readonly existingFiles: Readonly<Record<string, string | Buffer>>;
  /** quixlab's tarball to vendor in the app folder (`quixlab-0.1.0.tgz`), when no registry serves quixlab. */
  readonly vendor?: { readonly file: string; readonly bytes: Buffer };
  /**
   * The `version:` a new or changed deployment gets: a tag (`<deployment>-v<N>`), a commit SHA, or
   * `UNCOMMITTED` (default) when promote runs on a tree with uncommitted changes.
   */
  readonly newVersion?: string;
  /**
   * Give the deployment `newVersion` even if nothing else changes, unless it already has a version of this kind
   * (`promote --commit` on a deployment whose version is no tag of its own).
   */
  readonly retag?: boolean;
  /** Topics and resources; each defaults to the deployment's current value, else ticks / the deployment name / 200 / 500 / 1. */
  readonly input?: string;
  readonly output?: string;
  readonly replicas?: number;
  /** Millicores. */
  readonly cpu?: number;
  /** MB. */
  readonly memory?: number;
  /** The feature's `name` (its changelog topic is `<consumer group>.<name>.changelog`); default the export's name. */
  readonly featureName?: string;
  /** The feature reads another feature's records (`input`): that feature's name; its deployment's output is the input topic. */
  readonly upstream?: string;
  /** The feature emits early results (`emit: "update"`): the step also writes `<output>.updates`. */
  readonly updates?: boolean;
  /** The feature's parameters (`Feature.params`); each becomes a FreeText variable. */
  readonly params?: Readonly<Record<string, ParamValue>>;
  /** `readTemplate("app")`. */
  readonly template: TemplateFiles;
  /** Versions for the app's package.json: quixlab (a range, or `file:quixlab-<v>.tgz`), tsx, typescript, @types/node. */
  readonly versions: Readonly<Record<string, string>>;
}

export interface PlannedFile {
  /** Relative to the project root, posix. */
  readonly path: string;
  /** Text, or bytes for a vendored tarball. */
  readonly content: string | Buffer;
  readonly action: "create" | "update";
  /** The file's content before (null when it is created). */
  readonly previous: string | Buffer | null;
}

export type PromoteChange =
  | { readonly kind: "file"; readonly path: string; readonly action: "create" | "update" }
  | { readonly kind: "deployment"; readonly name: string; readonly action: EditOutcome; readonly version: string }
  | { readonly kind: "topic"; readonly name: string; readonly action: EditOutcome };

/** What the quix.yaml edit did, as reported by `PromotePlan.edit`. */
export interface DescriptorOutcome {
  readonly deployment: EditOutcome;
  readonly version: string;
  readonly topics: readonly { readonly name: string; readonly action: EditOutcome }[];
}

export interface PromotePlan {
  readonly deployment: string;
  /** `notebook#export`, as the app's header names it. */
  readonly source: string;
  readonly appDir: string;
  /** The deployment's version after the promote. */
  readonly version: string;
  /** Only the files that change (created or updated). */
  readonly files: readonly PlannedFile[];
  readonly descriptorBefore: string | null;
  readonly descriptorAfter: string;
  readonly changes: readonly PromoteChange[];
  /** Nothing would change: the app is up to date with the notebook and quix.yaml already says so. */
  readonly noop: boolean;
  readonly extraction: Extraction;
  /**
   * The quix.yaml edit, to re-apply under the file's lock at write time (another promote may have edited the file
   * since it was read; their entries stay, and the version is bumped from what the file says then).
   */
  edit(doc: Document): DescriptorOutcome;
}

/** Files promote regenerates every time; the others are scaffolding, written once and then left to the user. */
export const GENERATED_FILES = ["feature.ts", "main.ts", "app.yaml"] as const;

/**
 * The `version:` promote writes when the tree has uncommitted changes (or is no git repository): it names no
 * commit, so it is not deployable; commit and promote again, or promote with --commit, which tags a version.
 */
export const UNCOMMITTED = "uncommitted";

/** Whether `version` is a tag `promote --commit` makes for `deployment` (`<deployment>-v<N>`). */
export function isDeploymentTag(deployment: string, version: string | undefined): boolean {
  return !!version?.startsWith(`${deployment}-v`) && /^\d+$/.test(version.slice(deployment.length + 2));
}


/** Variable names the step itself reads; a feature parameter may not take one. */
const STEP_VARIABLES = new Set(["input", "output", "consumer_group", "processing", "dlq", "late", "updates", "REDIS_URL", "KAFKA_BROKERS", "Quix__Broker__Address"]);
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const DEFAULTS = { input: "ticks", cpu: 200, memory: 500, replicas: 1 } as const;

/** `notebook#export` from the header of a feature.ts that promote wrote; undefined for any other file. */
export function promotedSource(featureCode: string): { notebook: string; exportName: string; source: string } | undefined {
  const first = featureCode.split("\n", 1)[0] ?? "";
  const m = /^\/\/ Generated by quixlab from notebook (.+)#([A-Za-z_$][\w$]*), cells /.exec(first);
  return m ? { notebook: m[1]!, exportName: m[2]!, source: `${m[1]}#${m[2]}` } : undefined;
}

/** The module promote writes as feature.ts: the extraction, with a header naming `notebookPath#exportName`. */
export function extractForPromote(notebook: Notebook, notebookPath: string, exportName: string): Extraction {
  const x = extractFeature(notebook, exportName, { sourceLabel: `${notebookPath}#${exportName}` });
  if (x.kind !== "variable") {
    throw new InputError(`'${exportName}' is a ${x.kind}; promote needs a feature or a model (a constant made with defineFeature or defineModel)`, {
      remedy: "pass --export the name of the defineFeature(...) or defineModel(...) constant",
      context: { file: notebook.file, field: exportName },
    });
  }
  return x;
}

export function checkInput(input: Pick<PromoteInput, "deployment" | "replicas" | "cpu" | "memory" | "params">): void {
  const bad = (message: string, remedy: string, field: string) => new InputError(message, { remedy, context: { field } });
  if (!NAME.test(input.deployment)) {
    throw bad(`bad deployment name '${input.deployment}'`, "use letters, digits, '.', '_' or '-', starting with a letter or digit", "--name");
  }
  for (const [flag, v] of [
    ["--replicas", input.replicas],
    ["--cpu", input.cpu],
    ["--memory", input.memory],
  ] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw bad(`bad ${flag} '${v}'`, `give a whole number of at least 1`, flag);
  }
  for (const name of Object.keys(input.params ?? {})) {
    if (!ENV_NAME.test(name)) {
      throw bad(`feature parameter '${name}' cannot be a deployment variable`, "name parameters like environment variables: letters, digits and '_'", name);
    }
    if (STEP_VARIABLES.has(name)) {
      throw bad(`feature parameter '${name}' has the name of a variable the step itself reads`, "rename the parameter in the notebook", name);
    }
  }
}

/** Refuse to overwrite an app folder that holds something other than an earlier promote of the same export. */
export function checkOwnership(input: Pick<PromoteInput, "existingFiles" | "appDir">, source: string, moduleFile = "feature.ts"): void {
  const present = Object.keys(input.existingFiles);
  if (present.length === 0) return;
  const feature = input.existingFiles[moduleFile];
  const was = typeof feature === "string" ? promotedSource(feature) : undefined;
  if (was?.source === source) return;
  const holds = was ? `the app promoted from ${was.source}` : `files quixlab did not generate (${present.slice(0, 3).join(", ")})`;
  throw new InputError(`the folder ${input.appDir} already holds ${holds}`, {
    remedy: `pass another --name (or --apps-dir), or delete ${input.appDir} to replace it`,
    context: { file: input.appDir },
  });
}

function appYaml(input: PromoteInput, topics: StepTopics, source: string): string {
  const text = fillTemplate(input.template["app.yaml"] ?? "", { deployment: input.deployment, source }, "app.yaml");
  const { doc, errors } = loadAppDescriptor(text, "templates/app/app.yaml");
  if (errors.length) throw new Error(`quixlab: templates/app/app.yaml is invalid: ${errors[0]!.message}`);
  doc.set("name", input.deployment);
  const vars = doc.get("variables");
  if (!isSeq(vars)) throw new Error("quixlab: templates/app/app.yaml has no variables list");
  for (const v of vars.items) {
    if (!isMap(v)) continue;
    const name = v.get("name");
    if (name === "input" || name === "output" || name === "dlq" || name === "late") v.set("defaultValue", topics[name]);
    if (name === "consumer_group") v.set("defaultValue", topics.consumerGroup);
  }
  if (topics.updates) {
    vars.items.push(
      doc.createNode({ name: "updates", inputType: "OutputTopic", description: "Early results: each open window's value after each tick (emit update)", defaultValue: topics.updates, required: false }),
    );
  }
  for (const [name, value] of Object.entries(input.params ?? {})) {
    vars.items.push(
      doc.createNode({ name, inputType: "FreeText", description: `Feature parameter (set in the notebook; a different value stops the step)`, defaultValue: String(value), required: false }),
    );
  }
  const out = String(doc);
  const check = loadAppDescriptor(out, `${input.appDir}/app.yaml`);
  if (check.errors.length) throw new Error(`quixlab: generated app.yaml is invalid: ${check.errors[0]!.message}`);
  return out;
}

/**
 * The app folder's files by name inside it, as promote would write them now, and which of them it rewrites
 * when present (the generated files, the vendored tarball, package.json when only its quixlab line moves).
 */
function appFiles(input: PromoteInput, x: Extraction, topics: StepTopics, source: string): { files: Map<string, string | Buffer>; regenerated: Set<string> } {
  const vars: Record<string, string> = {
    deployment: input.deployment,
    packageName: input.deployment.toLowerCase(),
    export: input.exportName,
    source,
  };
  for (const [k, v] of Object.entries(input.versions)) vars[`version:${k}`] = v;
  const files = new Map<string, string | Buffer>();
  for (const [path, text] of Object.entries(input.template)) {
    if (path === "app.yaml") continue;
    files.set(outputName(path), fillTemplate(text, vars, `templates/app/${path}`));
  }
  files.set("app.yaml", appYaml(input, topics, source));
  files.set("feature.ts", x.code);
  const old = input.existingFiles["package.json"];
  const updated = typeof old === "string" ? withQuixlabDependency(old, input.versions.quixlab ?? "") : undefined;
  if (updated !== undefined) files.set("package.json", updated);
  if (input.vendor) files.set(input.vendor.file, input.vendor.bytes);
  const lock = input.existingFiles["package-lock.json"];
  const locked = typeof lock === "string" && input.vendor ? withVendoredLock(lock, input.vendor) : undefined;
  if (locked !== undefined) files.set("package-lock.json", locked);
  const regenerated = [...GENERATED_FILES, ...(input.vendor ? [input.vendor.file] : []), ...(updated !== undefined ? ["package.json"] : []), ...(locked !== undefined ? ["package-lock.json"] : [])];
  return { files, regenerated: new Set<string>(regenerated) };
}

export const same = (a: string | Buffer | undefined, b: string | Buffer) =>
  a !== undefined && (typeof a === "string" || typeof b === "string" ? a === b : a.equals(b));

/**
 * Plan a promote: the app folder's files and the quix.yaml edit. Pure (no I/O); throws InputError for bad
 * names or values, for an app folder holding something else, and DescriptorInvalidError when the edited
 * quix.yaml would not validate.
 */
/** A feature over another feature: the output topic of the deployment that runs the upstream feature. */
function upstreamInput(input: PromoteInput, descriptor: string | null, descriptorFile: string): string | undefined {
  if (!input.upstream) return undefined;
  const found = descriptor === null ? undefined : upstreamOutput(loadValid(descriptor, descriptorFile), input.upstream);
  if (!found) {
    throw new InputError(`'${input.exportName}' reads the records of feature '${input.upstream}', and no deployment in ${descriptorFile} runs it`, {
      remedy: `promote the feature '${input.upstream}' first (its step's output is this one's input), or pass --input TOPIC`,
      context: { file: descriptorFile, field: "input" },
    });
  }
  return found.output;
}

export function planPromote(input: PromoteInput): PromotePlan {
  checkInput(input);
  const source = `${input.notebookPath}#${input.exportName}`;
  const x = extractForPromote(input.notebook, input.notebookPath, input.exportName);
  checkOwnership(input, source);
  const descriptorFile = input.descriptorFile ?? "quix.yaml";

  // Topic names and resources: the flags, else what the deployment says now, else the defaults.
  const before = input.descriptorText;
  const current: Current = before === null ? { exists: false, placeholders: new Set() } : currentDeployment(loadValid(before, descriptorFile), input.deployment);
  // In a v2.0 file a value equal to its app.yaml default is not written: the app folder's app.yaml has it then.
  const oldApp = typeof input.existingFiles["app.yaml"] === "string" ? loadAppDescriptor(input.existingFiles["app.yaml"], "app.yaml").value : undefined;
  const appDefault = (n: string) => oldApp?.variables.find((v) => v.name.toLowerCase() === n)?.defaultValue;
  for (const [name, flag] of [["input", input.input], ["output", input.output], ["consumer_group", undefined]] as const) {
    if (flag === undefined && current.placeholders.has(name)) {
      throw new InputError(`deployment "${input.deployment}" in ${descriptorFile} sets ${name} with a {{NAME}} placeholder, so promote cannot tell which topic${name === "consumer_group" ? " its changelog is" : " it is"}`, {
        remedy: name === "consumer_group" ? "give consumer_group a plain value in quix.yaml (the changelog topic is named after it), then promote again" : `pass --${name} NAME (the placeholder stays in quix.yaml; NAME goes to app.yaml and names the declared topics)`,
        context: { file: descriptorFile, field: `deployments.${input.deployment}.variables.${name}` },
      });
    }
  }
  const named = {
    input: input.input ?? current.input ?? appDefault("input") ?? upstreamInput(input, before, descriptorFile) ?? DEFAULTS.input,
    output: input.output ?? current.output ?? appDefault("output") ?? input.deployment,
  };
  // dlq and late given by a placeholder stay unknown here: not declared, and not moved.
  const kept = {
    dlq: current.placeholders.has("dlq") ? undefined : (current.dlq ?? appDefault("dlq")),
    late: current.placeholders.has("late") ? undefined : (current.late ?? appDefault("late")),
    updates: current.placeholders.has("updates") ? undefined : (current.updates ?? appDefault("updates")),
    consumerGroup: current.consumerGroup ?? appDefault("consumer_group"),
  };
  if (named.input === named.output) {
    throw new InputError(`input and output are the same topic '${named.input}'`, { remedy: "pass a different --output", context: { field: "--output" } });
  }
  const topics = stepTopics(input.deployment, input.featureName ?? input.exportName, named, kept, input.updates === true);
  const undeclared = new Set(
    (["dlq", "late", "updates"] as const).filter((n) => current.placeholders.has(n) && topics[n] !== undefined).map((n) => topics[n]!),
  );

  const wanted = appFiles(input, x, topics, source);
  const newApp = loadAppDescriptor(String(wanted.files.get("app.yaml")), "app.yaml").value;
  const files = changedFiles(wanted, input.existingFiles, input.appDir);
  const codeChanged = files.length > 0;

  const variables: VariableSpec[] = [
    { name: "input", inputType: "InputTopic", description: "Ticks to aggregate", required: true, value: topics.input },
    { name: "output", inputType: "OutputTopic", description: `Final windows of ${input.exportName}`, required: true, value: topics.output },
    { name: "dlq", inputType: "OutputTopic", description: "Dead letters: input messages the step could not read, with the reason", required: false, value: topics.dlq },
    { name: "late", inputType: "OutputTopic", description: "Ticks that arrived after their window closed", required: false, value: topics.late },
    ...(topics.updates
      ? [{ name: "updates", inputType: "OutputTopic", description: "Early results: each open window's value after each tick", required: false, value: topics.updates } satisfies VariableSpec]
      : []),
    { name: "consumer_group", inputType: "FreeText", description: "Consumer group; its changelog topic is <group>.<feature>.changelog", required: false, value: topics.consumerGroup },
    ...Object.entries(input.params ?? {}).map(
      ([name, v]): VariableSpec => ({ name, inputType: "FreeText", description: "Feature parameter (set in the notebook)", required: false, value: String(v) }),
    ),
  ];
  const edit = (doc: Document): DescriptorOutcome => {
    const now = currentDeployment(doc, input.deployment);
    const version = promotedVersion(now, input, codeChanged);
    const spec: DeploymentSpec = {
      name: input.deployment,
      application: input.appDir,
      version,
      deploymentType: "Service",
      resources: {
        cpu: input.cpu ?? now.cpu ?? DEFAULTS.cpu,
        memory: input.memory ?? now.memory ?? DEFAULTS.memory,
        replicas: input.replicas ?? now.replicas ?? DEFAULTS.replicas,
      },
      desiredStatus: now.exists ? undefined : "Running",
      variables,
    };
    const deployment = upsertDeployment(doc, spec, { app: newApp });
    const topicOutcomes = [
      ...[...new Set([topics.input, topics.output, topics.dlq, topics.late, ...(topics.updates ? [topics.updates] : [])])]
        .filter((n) => !undeclared.has(n))
        .map((name) => ({ name, action: ensureTopic(doc, { name }) })),
      // The step's state: one compacted record per input partition (the last checkpoint), kept until replaced.
      { name: topics.changelog, action: declareChangelog(doc, topics.changelog) },
    ];
    return { deployment, version, topics: topicOutcomes };
  };

  return assemblePlan({ deployment: input.deployment, appDir: input.appDir, source, files, before, descriptorFile, extraction: x, edit });
}

/** The version a promoted deployment gets: the new one when its code changed or it has none worth keeping. */
export function promotedVersion(now: Current, input: Pick<PromoteInput, "deployment" | "newVersion" | "retag">, codeChanged: boolean): string {
  const fresh = input.newVersion ?? UNCOMMITTED;
  // An unchanged app keeps its version, unless that names nothing yet and now something can be named.
  const unnamed = now.version === undefined || (now.version === UNCOMMITTED && fresh !== UNCOMMITTED) || (input.retag === true && !isDeploymentTag(input.deployment, now.version));
  return now.exists && !codeChanged && !unnamed ? now.version! : fresh;
}

/** The files of `wanted` that a promote writes: new ones, and changed ones it regenerates. */
export function changedFiles(wanted: { files: Map<string, string | Buffer>; regenerated: Set<string> }, existing: Readonly<Record<string, string | Buffer>>, appDir: string): PlannedFile[] {
  const files: PlannedFile[] = [];
  for (const [name, content] of wanted.files) {
    const old = existing[name];
    if (same(old, content) || (old !== undefined && !wanted.regenerated.has(name))) continue;
    files.push({ path: joinPosix(appDir, name), content, action: old === undefined ? "create" : "update", previous: old ?? null });
  }
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** A plan from its files and its quix.yaml edit (run once here on the text read, again at write time). */
export function assemblePlan(p: {
  deployment: string;
  appDir: string;
  source: string;
  files: readonly PlannedFile[];
  before: string | null;
  descriptorFile: string;
  extraction: Extraction;
  edit: (doc: Document) => DescriptorOutcome;
}): PromotePlan {
  let outcome: DescriptorOutcome | undefined;
  const plan = planDescriptorEdit(p.before ?? newDescriptor(), p.descriptorFile, (doc) => {
    outcome = p.edit(doc);
  });
  const o = outcome!;
  const changes: PromoteChange[] = [
    ...p.files.map((f): PromoteChange => ({ kind: "file", path: f.path, action: f.action })),
    { kind: "deployment", name: p.deployment, action: o.deployment, version: o.version },
    ...o.topics.map((t): PromoteChange => ({ kind: "topic", ...t })),
  ];
  return {
    deployment: p.deployment,
    source: p.source,
    appDir: p.appDir,
    version: o.version,
    files: p.files,
    descriptorBefore: p.before,
    descriptorAfter: plan.after,
    changes,
    noop: p.files.length === 0 && p.before !== null && plan.after === p.before,
    extraction: p.extraction,
    edit: p.edit,
  };
}

/** quix.yaml as an editable document; promote refuses to start from a file that is already invalid. */
export function loadValid(text: string, file: string): Document {
  const loaded = loadDescriptor(text, file);
  if (isSyntaxFailure(loaded.errors)) {
    const e = loaded.errors[0]!;
    throw new InputError(e.message, { remedy: e.remedy, context: { file, line: e.line, column: e.column } });
  }
  if (loaded.errors.length > 0) {
    throw new DescriptorInvalidError(`${file} is invalid, so promote did not start`, loaded.errors, "fix the problems listed (quixlab descriptor validate shows them), then promote again");
  }
  return loaded.doc;
}

export function joinPosix(dir: string, name: string): string {
  const d = dir.replace(/\/+$/, "");
  return d === "" || d === "." ? name : `${d}/${name}`;
}
