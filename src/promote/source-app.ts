/**
 * A source as a deployment (`quixlab add source`, and the replay source `init` puts in a new project): the app
 * folder, packaged as promote packages a step (Dockerfile, package.json on quixlab `^version` or a tarball in the
 * folder, app.yaml, a main.ts that runs the source from the environment; a replay's recording copied in, since
 * the Docker build context is the folder alone), and the quix.yaml entry with its output topic. The planner is
 * pure; `addSource` (add.ts) reads and writes.
 */
import { basename } from "node:path";
import type { Document } from "yaml";
import { type DeploymentSpec, type EditOutcome, ensureTopic, loadAppDescriptor, upsertDeployment, type VariableSpec } from "../descriptor/index.js";
import { InputError } from "../errors/index.js";
import { parseSpeed } from "../replay/produce.js";
import { COINBASE_WS } from "../source/protocol.js";
import type { SourceType } from "../source/config.js";
import { withQuixlabDependency, withVendoredLock } from "./package.js";
import { fillTemplate, outputName, type TemplateFiles } from "./template.js";

/** The first line of a main.ts this module wrote: a folder holding it may be regenerated. */
export const SOURCE_MAIN_HEADER = "// quixlab source app:";

export interface SourceAppInput {
  readonly type: SourceType;
  /** The deployment's name (and the folder's). */
  readonly deployment: string;
  readonly topic: string;
  /** coinbase */
  readonly products?: readonly string[];
  readonly endpoint?: string;
  /** replay: the recording's name in the folder and its bytes. */
  readonly ticks?: { readonly name: string; readonly bytes: Buffer };
  readonly speed?: string;
  readonly loop?: boolean;
  /** `readTemplate("source")`. */
  readonly template: TemplateFiles;
  /** quixlab (a range or `file:quixlab-<v>.tgz`), tsx, typescript, @types/node. */
  readonly versions: Readonly<Record<string, string>>;
  readonly vendor?: { readonly file: string; readonly bytes: Buffer };
  /** The folder's files now, by name inside it. */
  readonly existingFiles?: Readonly<Record<string, string | Buffer>>;
}

export interface SourceApp {
  /** Files by name inside the app folder. */
  readonly files: ReadonlyMap<string, string | Buffer>;
  readonly deploymentType: "Service" | "Job";
  readonly variables: readonly VariableSpec[];
  /** The app.yaml text (a v2.0 quix.yaml writes only what differs from it). */
  readonly appYaml: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const TOPIC = /^[A-Za-z0-9._-]{1,249}$/;
const PRODUCT = /^[A-Z0-9]+-[A-Z0-9]+$/;

function bad(message: string, remedy: string, field: string): InputError {
  return new InputError(message, { remedy, context: { field } });
}

/** Check the values an `add source` was given; errors name the flag. */
export function checkSourceInput(i: Pick<SourceAppInput, "type" | "deployment" | "topic" | "products" | "speed" | "endpoint">): void {
  if (!NAME.test(i.deployment)) throw bad(`bad deployment name '${i.deployment}'`, "use letters, digits, '.', '_' or '-', starting with a letter or digit", "--name");
  if (!TOPIC.test(i.topic)) throw bad(`bad topic name '${i.topic}'`, "use letters, digits, '.', '_' or '-'", "--topic");
  if (i.type === "coinbase") {
    if (!i.products?.length || i.products.some((p) => !PRODUCT.test(p))) {
      throw bad(i.products?.length ? `bad --products '${i.products.join(",")}'` : "missing --products", "pass Coinbase product ids separated by commas, e.g. --products BTC-USD,ETH-USD", "--products");
    }
    if (i.endpoint !== undefined && !/^wss?:\/\//.test(i.endpoint)) throw bad(`bad --endpoint '${i.endpoint}'`, "give a websocket URL, ws:// or wss://", "--endpoint");
  } else {
    try {
      parseSpeed(i.speed ?? "1x");
    } catch {
      throw bad(`bad --speed '${i.speed}'`, "use max, 1x or Nx (e.g. 10x)", "--speed");
    }
  }
}

/** The app folder and the deployment's variables. Pure; throws InputError for bad values. */
export function planSourceApp(i: SourceAppInput): SourceApp {
  checkSourceInput(i);
  if (i.type === "replay" && !i.ticks) throw bad("missing --ticks", "pass the recording to replay, e.g. --ticks data/ticks.jsonl", "--ticks");
  const endpoint = i.endpoint ?? COINBASE_WS;
  const speed = i.speed ?? "1x";
  const loop = i.loop === true;
  const names = i.type === "coinbase" ? "output, products, endpoint" : "output, ticks, speed, loop";
  const vars: Record<string, string> = {
    deployment: i.deployment,
    packageName: i.deployment.toLowerCase(),
    type: i.type,
    variables: names,
    topic: i.topic,
    products: (i.products ?? []).join(","),
    endpoint,
    ticks: i.ticks?.name ?? "",
    speed,
    loop: String(loop),
  };
  for (const [k, v] of Object.entries(i.versions)) vars[`version:${k}`] = v;
  const files = new Map<string, string | Buffer>();
  for (const [path, text] of Object.entries(i.template)) {
    if (path.startsWith("app-")) continue;
    files.set(outputName(path), fillTemplate(text, vars, `templates/source/${path}`));
  }
  const appYaml = fillTemplate(i.template[`app-${i.type}.yaml`] ?? "", vars, `templates/source/app-${i.type}.yaml`);
  const check = loadAppDescriptor(appYaml, `${i.deployment}/app.yaml`);
  if (check.errors.length) throw new Error(`quixlab: the generated app.yaml is invalid: ${check.errors[0]!.message}`);
  files.set("app.yaml", appYaml);
  if (i.ticks) files.set(i.ticks.name, i.ticks.bytes);
  if (i.vendor) files.set(i.vendor.file, i.vendor.bytes);
  const oldPkg = i.existingFiles?.["package.json"];
  const pkg = typeof oldPkg === "string" ? withQuixlabDependency(oldPkg, i.versions.quixlab ?? "") : undefined;
  // A package.json the user changed keeps their changes; only promote's vendored quixlab line follows along.
  if (typeof oldPkg === "string") files.set("package.json", pkg ?? oldPkg);
  const lock = i.existingFiles?.["package-lock.json"];
  const locked = typeof lock === "string" && i.vendor ? withVendoredLock(lock, i.vendor) : undefined;
  if (locked !== undefined) files.set("package-lock.json", locked);
  const variables: VariableSpec[] =
    i.type === "coinbase"
      ? [
          { name: "output", inputType: "OutputTopic", description: "Ticker messages as received, keyed by product_id", required: true, value: i.topic },
          { name: "products", inputType: "FreeText", description: "Coinbase product ids, comma-separated", required: true, value: vars.products },
          { name: "endpoint", inputType: "FreeText", description: "The Coinbase Exchange websocket feed", required: false, value: endpoint },
        ]
      : [
          { name: "output", inputType: "OutputTopic", description: "Recorded ticker messages, keyed by product_id", required: true, value: i.topic },
          { name: "ticks", inputType: "FreeText", description: "The recording, in the app folder", required: true, value: vars.ticks },
          { name: "speed", inputType: "FreeText", description: "max, 1x or Nx", required: false, value: speed },
          { name: "loop", inputType: "FreeText", description: "true = again and again, times shifted per pass", required: false, value: String(loop) },
        ];
  // A replay that ends is a Job (run once); one that loops, and the live feed, are Services (restarted on a crash).
  return { files, deploymentType: i.type === "replay" && !loop ? "Job" : "Service", variables, appYaml };
}

/** What the quix.yaml edit did. */
export interface SourceEditOutcome {
  readonly deployment: EditOutcome;
  readonly topic: EditOutcome;
}

/**
 * The quix.yaml edit of a source deployment: the entry (one replica: a second Coinbase replica would produce
 * every trade twice) and its output topic, declared when missing.
 */
export function sourceEdit(doc: Document, app: SourceApp, o: { deployment: string; appDir: string; topic: string; version: string }): SourceEditOutcome {
  const spec: DeploymentSpec = {
    name: o.deployment,
    application: o.appDir,
    version: o.version,
    deploymentType: app.deploymentType,
    resources: { cpu: 200, memory: 500, replicas: 1 },
    desiredStatus: "Running",
    variables: app.variables,
  };
  const deployment = upsertDeployment(doc, spec, { app: loadAppDescriptor(app.appYaml, "app.yaml").value });
  return { deployment, topic: ensureTopic(doc, { name: o.topic }) };
}

/** The name a recording gets in the app folder. */
export function ticksName(file: string): string {
  return basename(file);
}
