/**
 * `promote --model`, planned without touching disk: a model made by `defineModel` becomes a deployment running the
 * model step (templates/model/ over templates/app/'s build files). Its input is the trigger feature's deployment
 * output; every feature of its vector must already run as a deployment (they fill the store it reads).
 */
import { type Document, isMap, isSeq } from "yaml";
import { type DeploymentSpec, ensureTopic, loadAppDescriptor, upsertDeployment, type VariableSpec } from "../descriptor/index.js";
import { InputError } from "../errors/index.js";
import type { Notebook } from "../notebook/model.js";
import { type Current, currentDeployment, upstreamOutput } from "./deployment.js";
import { withQuixlabDependency, withVendoredLock } from "./package.js";
import {
  assemblePlan,
  changedFiles,
  checkInput,
  checkOwnership,
  type DescriptorOutcome,
  extractForPromote,
  loadValid,
  type PromotePlan,
  promotedVersion,
} from "./plan.js";
import { fillTemplate, outputName, type TemplateFiles } from "./template.js";

/** Files a model promote regenerates every time. */
export const MODEL_GENERATED_FILES = ["model.ts", "main.ts", "app.yaml"] as const;

/** The REDIS_URL a new model deployment gets (app.yaml's default): `quixlab up` replaces it with its own Redis. */
export const MODEL_REDIS_DEFAULT = "redis://redis:6379";

export interface ModelPromoteInput {
  readonly notebook: Notebook;
  readonly notebookPath: string;
  readonly exportName: string;
  readonly deployment: string;
  readonly descriptorText: string | null;
  readonly descriptorFile?: string;
  readonly appDir: string;
  readonly existingFiles: Readonly<Record<string, string | Buffer>>;
  readonly vendor?: { readonly file: string; readonly bytes: Buffer };
  readonly newVersion?: string;
  readonly retag?: boolean;
  /** The model: its name (predictions' `model`), its trigger feature and the vector's features. */
  readonly model: { readonly name: string; readonly trigger: string; readonly features: readonly string[] };
  /** The trigger topic; default the output of the deployment that runs the trigger feature. */
  readonly input?: string;
  /** The predictions topic; default the deployment's name. */
  readonly output?: string;
  readonly replicas?: number;
  readonly cpu?: number;
  readonly memory?: number;
  /** templates/app/ with templates/model/'s main.ts and app.yaml over it (`modelTemplate()`). */
  readonly template: TemplateFiles;
  readonly versions: Readonly<Record<string, string>>;
}

/** The value a deployment gives variable `name` now, if any. */
function currentValue(doc: Document, deployment: string, name: string): string | undefined {
  const deps = doc.get("deployments");
  if (!isSeq(deps)) return undefined;
  const d = deps.items.find((it) => isMap(it) && it.get("name") === deployment);
  const vars = isMap(d) ? d.get("variables") : undefined;
  if (!isSeq(vars)) return undefined;
  const v = vars.items.find((it) => isMap(it) && String(it.get("name")).toLowerCase() === name.toLowerCase());
  const value = isMap(v) ? v.get("value") : undefined;
  return value === undefined || value === null ? undefined : String(value);
}

/**
 * Every feature of the vector must run as a deployment: the model reads them from the store those steps fill. The
 * deployments found by feature name, and the trigger's output topic.
 */
export function deployedFeatures(input: Pick<ModelPromoteInput, "model">, doc: Document | undefined, file: string): { trigger?: string } {
  const found = new Map(input.model.features.map((f) => [f, doc ? upstreamOutput(doc, f) : undefined] as const));
  const missing = [...found].filter(([, d]) => !d).map(([f]) => f);
  if (missing.length) {
    throw new InputError(`model '${input.model.name}' reads ${missing.map((f) => `'${f}'`).join(", ")} from the store, and no deployment in ${file} runs ${missing.length > 1 ? "them" : "it"}`, {
      remedy: `promote ${missing.length > 1 ? "each of those features" : `the feature '${missing[0]}'`} first (its step fills the store the model reads), then promote the model`,
      context: { file, field: "features" },
    });
  }
  return { trigger: found.get(input.model.trigger)?.output };
}

function modelFiles(input: ModelPromoteInput, code: string, topics: { input: string; output: string; dlq: string; group: string }, source: string) {
  const vars: Record<string, string> = { deployment: input.deployment, packageName: input.deployment.toLowerCase(), export: input.exportName, source };
  for (const [k, v] of Object.entries(input.versions)) vars[`version:${k}`] = v;
  const files = new Map<string, string | Buffer>();
  for (const [path, text] of Object.entries(input.template)) {
    if (path !== "app.yaml") files.set(outputName(path), fillTemplate(text, vars, `templates/${path === "main.ts" ? "model" : "app"}/${path}`));
  }
  const { doc, errors } = loadAppDescriptor(fillTemplate(input.template["app.yaml"] ?? "", vars, "app.yaml"), "templates/model/app.yaml");
  if (errors.length) throw new Error(`quixlab: templates/model/app.yaml is invalid: ${errors[0]!.message}`);
  doc.set("name", input.deployment);
  const defaults: Record<string, string> = { input: topics.input, output: topics.output, dlq: topics.dlq, consumer_group: topics.group };
  const list = doc.get("variables");
  for (const v of isSeq(list) ? list.items : []) if (isMap(v) && defaults[String(v.get("name"))] !== undefined) v.set("defaultValue", defaults[String(v.get("name"))]);
  files.set("app.yaml", String(doc));
  files.set("model.ts", code);
  const old = input.existingFiles["package.json"];
  const updated = typeof old === "string" ? withQuixlabDependency(old, input.versions.quixlab ?? "") : undefined;
  if (updated !== undefined) files.set("package.json", updated);
  if (input.vendor) files.set(input.vendor.file, input.vendor.bytes);
  const lock = input.existingFiles["package-lock.json"];
  const locked = typeof lock === "string" && input.vendor ? withVendoredLock(lock, input.vendor) : undefined;
  if (locked !== undefined) files.set("package-lock.json", locked);
  const regenerated = new Set<string>([...MODEL_GENERATED_FILES, ...(input.vendor ? [input.vendor.file] : []), ...(updated !== undefined ? ["package.json"] : []), ...(locked !== undefined ? ["package-lock.json"] : [])]);
  return { files, regenerated };
}

/** Plan a model promote: the app folder's files and the quix.yaml edit. Pure; throws InputError for what cannot be promoted. */
export function planModelPromote(input: ModelPromoteInput): PromotePlan {
  checkInput(input);
  const source = `${input.notebookPath}#${input.exportName}`;
  const x = extractForPromote(input.notebook, input.notebookPath, input.exportName);
  checkOwnership(input, source, "model.ts");
  const descriptorFile = input.descriptorFile ?? "quix.yaml";
  const before = input.descriptorText;
  const doc = before === null ? undefined : loadValid(before, descriptorFile);
  const { trigger } = deployedFeatures(input, doc, descriptorFile);
  const current: Current = doc ? currentDeployment(doc, input.deployment) : { exists: false, placeholders: new Set() };
  const named = { input: input.input ?? current.input ?? trigger!, output: input.output ?? current.output ?? input.deployment };
  if (named.input === named.output) {
    throw new InputError(`input and output are the same topic '${named.input}'`, { remedy: "pass a different --output", context: { field: "--output" } });
  }
  const topics = { ...named, dlq: current.dlq ?? `${named.input}.dlq`, group: current.consumerGroup ?? input.deployment };
  const wanted = modelFiles(input, x.code, topics, source);
  const newApp = loadAppDescriptor(String(wanted.files.get("app.yaml")), "app.yaml").value;
  const files = changedFiles(wanted, input.existingFiles, input.appDir);
  const codeChanged = files.length > 0;

  const edit = (d: Document): DescriptorOutcome => {
    const now = currentDeployment(d, input.deployment);
    const version = promotedVersion(now, input, codeChanged);
    const variables: VariableSpec[] = [
      { name: "input", inputType: "InputTopic", description: `Final windows of ${input.model.trigger}: the moments to predict at`, required: true, value: topics.input },
      { name: "output", inputType: "OutputTopic", description: `Predictions of ${input.model.name}, keyed by product`, required: true, value: topics.output },
      { name: "dlq", inputType: "OutputTopic", description: "Dead letters: trigger messages the step could not read, and predictions that threw", required: false, value: topics.dlq },
      { name: "consumer_group", inputType: "FreeText", description: "Consumer group of the model step", required: false, value: topics.group },
      // The store is the environment's: a value set in quix.yaml (or on Quix Cloud) is kept.
      { name: "REDIS_URL", inputType: "FreeText", description: "The online store the vector's features are in", required: true, value: currentValue(d, input.deployment, "REDIS_URL") ?? MODEL_REDIS_DEFAULT },
    ];
    const spec: DeploymentSpec = {
      name: input.deployment,
      application: input.appDir,
      version,
      deploymentType: "Service",
      resources: { cpu: input.cpu ?? now.cpu ?? 200, memory: input.memory ?? now.memory ?? 500, replicas: input.replicas ?? now.replicas ?? 1 },
      desiredStatus: now.exists ? undefined : "Running",
      variables,
    };
    const deployment = upsertDeployment(d, spec, { app: newApp });
    const topicOutcomes = [...new Set([topics.input, topics.output, topics.dlq])].map((name) => ({ name, action: ensureTopic(d, { name }) }));
    return { deployment, version, topics: topicOutcomes };
  };
  return assemblePlan({ deployment: input.deployment, appDir: input.appDir, source, files, before, descriptorFile, extraction: x, edit });
}
