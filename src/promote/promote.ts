/**
 * `promote` as a function: extract the feature, replay it through Kafka, and only on parity write the app folder
 * and the quix.yaml entry. The CLI renders what this returns; a notebook or a test can call it directly.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir, readdir, readFile, unlink, writeFile } from "node:fs/promises";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { pathToFileURL } from "node:url";
import { InputError, QuixlabError } from "../errors/index.js";
import { loadFeatureRef } from "../feature/ref.js";
import { which } from "../infra/process.js";
import { isModel, type Model } from "../model/define.js";
import { readNotebook } from "../notebook/model.js";
import { quixlabDependency } from "../packaging/index.js";
import { ownRedisProvider } from "../redis/provider.js";
import { type ReplayProgress, replay } from "../replay/replay.js";
import { type ReplayReport, replayOk } from "../replay/report.js";
import { packageRoot, stateDir } from "../util/paths.js";
import { type ApplyResult, applyPromote } from "./apply.js";
import { cleanHead, commitFiles, createTag, plannedTag } from "./git.js";
import { deployedFeatures, planModelPromote } from "./model-plan.js";
import { extractForPromote, loadValid, type PromotePlan, planPromote, UNCOMMITTED } from "./plan.js";
import { modelTemplate, outputName, readTemplate, type TemplateFiles } from "./template.js";
import { checkDeployed, checkUpstream } from "./upstream.js";

export interface PromoteOptions {
  /** Paths below are relative to it. */
  readonly cwd: string;
  readonly notebook: string;
  readonly exportName: string;
  /** The deployment's name (and its app folder's). */
  readonly name: string;
  /** Recorded ticks the replay proves parity on. */
  readonly ticks: string;
  readonly input?: string;
  readonly output?: string;
  readonly replicas?: number;
  readonly cpu?: number;
  readonly memory?: number;
  /** Default ./quix.yaml; its folder is the project root. */
  readonly descriptor?: string;
  /** Where app folders go (default "."); must be inside the project root. */
  readonly appsDir?: string;
  /** Replay and report, but write nothing. */
  readonly dryRun?: boolean;
  /** Commit exactly the written files with git. */
  readonly commit?: boolean;
  readonly broker?: string;
  readonly redis?: string;
  /** Replay speed of the parity gate (max | Nx; default max). A model over a long recording needs `100x`. */
  readonly speed?: string;
  /** The export must be a model made by defineModel (it is detected either way; this makes a feature an error). */
  readonly model?: boolean;
  /** Called once the plan is known, before the replay starts. */
  onPlan?(plan: PromotePlan): void;
  onProgress?(p: ReplayProgress): void;
  log?(line: string): void;
}

export type PromoteResult =
  | { readonly status: "noop"; readonly plan: PromotePlan }
  | { readonly status: "parity-failed" | "dry-run"; readonly plan: PromotePlan; readonly report: ReplayReport }
  | {
      readonly status: "promoted";
      readonly plan: PromotePlan;
      readonly report: ReplayReport;
      readonly applied: ApplyResult;
      readonly commit?: string;
      /** The tag created on `commit` (with --commit, when the version changed). */
      readonly tag?: string;
    };

const posix = (p: string) => p.split(sep).join("/");

/** Versions the app's package.json pins, taken from quixlab's own package.json. */
function appVersions(): Record<string, string> {
  const pkg = JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as {
    version: string;
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
    peerDependencies?: Record<string, string>;
  };
  const all = { ...pkg.devDependencies, ...pkg.peerDependencies, ...pkg.dependencies };
  return {
    quixlab: pkg.version,
    tsx: all.tsx ?? "^4.20.0",
    typescript: all.typescript ?? "~5.8.3",
    "@types/node": all["@types/node"] ?? "^20.19.0",
  };
}

/** What the model plan needs of a model. */
function modelSummary(m: Model): { name: string; trigger: string; features: string[] } {
  return { name: m.name, trigger: m.trigger.name, features: Object.keys(m.features) };
}

/**
 * Write the module the replay runs to `<root>/.quixlab/promote/<name>/feature.<hash>.ts` (inside the project, so
 * `import ... from "quixlab"` resolves as it will in the app). The hash in the name keeps a process that promotes
 * twice from running a cached older module.
 */
async function writeCandidate(root: string, name: string, code: string): Promise<string> {
  const dir = join(stateDir(root), "promote", name);
  await mkdir(dir, { recursive: true });
  const file = `feature.${createHash("sha256").update(code).digest("hex").slice(0, 12)}.ts`;
  for (const old of await readdir(dir)) if (/^feature\.[0-9a-f]{12}\.ts$/.test(old) && old !== file) await unlink(join(dir, old)).catch(() => undefined);
  // ESM whatever the project's own package.json says, as in the app folder.
  await writeFile(join(dir, "package.json"), `${JSON.stringify({ private: true, type: "module" })}\n`);
  // quixlab's state is never the user's work: a tree with only it changed is still clean (versions by SHA).
  await writeFile(join(stateDir(root), ".gitignore"), "*\n");
  await writeFile(join(dir, file), code);
  return join(dir, file);
}

async function readIfExists(file: string): Promise<string | null> {
  return readFile(file, "utf8").catch((e: NodeJS.ErrnoException) => {
    if (e.code === "ENOENT") return null;
    throw new InputError(`cannot read ${file} (${e.code})`, { remedy: "check its permissions", cause: e, context: { file } });
  });
}

/**
 * Promote `notebook#exportName` as deployment `name`: plan, replay (unless nothing changed), and on parity
 * write the app folder and quix.yaml entry (unless `dryRun`), then commit them (with `commit`).
 * @example await promote({ cwd, notebook: "notebooks/ohlc.ipynb", exportName: "ohlc1m", name: "candles-1m", ticks: "data/t.jsonl" })
 */
export async function promote(opts: PromoteOptions): Promise<PromoteResult> {
  const cwd = resolve(opts.cwd);
  const descriptorFile = resolve(cwd, opts.descriptor ?? "quix.yaml");
  const root = dirname(descriptorFile);
  const notebookFile = resolve(cwd, opts.notebook);
  const appAbs = resolve(cwd, opts.appsDir ?? ".", opts.name);
  const appDir = posix(relative(root, appAbs));
  if (appDir.startsWith("..") || isAbsolute(appDir)) {
    throw new InputError(`the app folder ${appAbs} would be outside the project (the folder of ${descriptorFile})`, {
      remedy: "pass an --apps-dir inside the folder that holds quix.yaml",
      context: { field: "--apps-dir" },
    });
  }
  const notebookPath = posix(relative(root, notebookFile));
  const notebook = readNotebook(notebookFile);
  // Decided (and, with --commit, checked) before any service starts, so a failure leaves files as they were.
  const newVersion = opts.commit ? await plannedTag(root, opts.name) : ((await cleanHead(root, descriptorFile)) ?? UNCOMMITTED);

  // Load the candidate first: a reference that is neither a feature nor a model fails here, before any service starts.
  const candidate = await writeCandidate(root, opts.name, extractForPromote(notebook, notebookPath, opts.exportName).code);
  const exported = ((await import(pathToFileURL(candidate).href).catch(() => undefined)) as Record<string, unknown> | undefined)?.[opts.exportName];
  const model = isModel(exported) ? exported : undefined;
  if (opts.model && !model) {
    throw new InputError(`'${opts.exportName}' in ${notebookPath} is not a model made by defineModel`, {
      remedy: "drop --model to promote a feature, or --export the defineModel(...) constant",
      context: { file: notebookPath, field: "--export" },
    });
  }
  const feature = model ? undefined : await loadFeatureRef(`${candidate}#${opts.exportName}`, root);
  const descriptorText = await readIfExists(descriptorFile);
  const descriptorName = posix(relative(cwd, descriptorFile)) || "quix.yaml";
  const log = opts.log ?? (() => undefined);
  if (feature) await checkUpstream(root, descriptorText, descriptorName, feature, log);
  // Before anything slow (packing quixlab): the features the model reads must run as deployments.
  if (model) deployedFeatures({ model: modelSummary(model) }, descriptorText === null ? undefined : loadValid(descriptorText, descriptorName), descriptorName);
  if (model && descriptorText !== null) {
    for (const f of Object.values(model.features)) await checkDeployed(root, descriptorText, descriptorName, f, `model '${model.name}'`, log);
  }

  const template: TemplateFiles = model ? modelTemplate() : readTemplate("app");
  const dependency = await quixlabDependency({ dir: "", log: opts.log });
  const vendored = dependency.vendored;
  const existingFiles: Record<string, string | Buffer> = {};
  for (const name of new Set([...Object.keys(template).map(outputName), model ? "model.ts" : "feature.ts", "package-lock.json"])) {
    const text = await readIfExists(join(appAbs, name));
    if (text !== null) existingFiles[name] = text;
  }
  if (vendored) {
    const bytes = await readFile(join(appAbs, vendored.file)).catch(() => null);
    if (bytes) existingFiles[vendored.file] = bytes;
  }
  const common = {
    notebook,
    notebookPath,
    exportName: opts.exportName,
    deployment: opts.name,
    descriptorText,
    descriptorFile: descriptorName,
    appDir,
    existingFiles,
    input: opts.input,
    output: opts.output,
    replicas: opts.replicas,
    cpu: opts.cpu,
    memory: opts.memory,
    template,
    versions: { ...appVersions(), quixlab: dependency.spec },
    vendor: vendored ? { file: vendored.file, bytes: vendored.tarball.bytes } : undefined,
    newVersion,
    retag: opts.commit,
  };
  const plan = model
    ? planModelPromote({ ...common, model: modelSummary(model) })
    : planPromote({
        ...common,
        featureName: feature!.name,
        upstream: feature!.input?.name,
        updates: feature!.window.emit === "update",
        params: feature!.params,
      });
  opts.onPlan?.(plan);
  if (plan.noop) return { status: "noop", plan };

  const ref = `${posix(relative(cwd, candidate))}#${opts.exportName}`;
  const report = await replay({
    ...(model ? { ref: "", model: ref } : { ref }),
    ticks: opts.ticks,
    cwd,
    broker: opts.broker,
    // A model's gate compares what a store serves with batch, so it needs a store of its own (a shared one holds
    // the features' windows of earlier runs): a fresh redis-server unless --redis names one.
    redis: opts.redis ?? (model ? ownRedisProvider(which("redis-server") !== undefined).provider : undefined),
    speed: opts.speed,
    onProgress: opts.onProgress,
    log: opts.log,
  });
  if (!replayOk(report)) return { status: "parity-failed", plan, report };
  if (opts.dryRun) return { status: "dry-run", plan, report };

  // The replay took a while: a tag made meanwhile (another promote, by hand) must not be taken over.
  if (opts.commit && (await plannedTag(root, opts.name)) !== newVersion) {
    throw new InputError(`the tag ${newVersion} was created while the replay ran, so nothing was written`, {
      remedy: "promote again: it picks the next free tag",
    });
  }
  const applied = await applyPromote(plan, { root, descriptorFile });
  if (!opts.commit || applied.written.length === 0) return { status: "promoted", plan, report, applied };
  const version = applied.outcome?.version ?? plan.version;
  const message = `promote ${opts.name} ${version} from ${plan.source}`;
  let commit: string;
  try {
    commit = await commitFiles(root, applied.written.map((p) => join(root, ...p.split("/"))), message);
  } catch (e) {
    if (!(e instanceof QuixlabError)) throw e;
    // The promote itself succeeded; say so, so nobody runs it again to get the commit.
    throw new InputError(`promoted, but the commit failed: ${e.message}`, {
      remedy: `the files are written (${applied.written.join(", ")}): git add them, then git commit -m "${message}" -- <those files>`,
      cause: e,
    });
  }
  // The version names this commit: a project-unique tag (promote chose one no tag has yet).
  if (version !== newVersion) return { status: "promoted", plan, report, applied, commit };
  try {
    await createTag(root, version, commit);
  } catch (e) {
    if (!(e instanceof QuixlabError)) throw e;
    throw new InputError(`promoted and committed ${commit.slice(0, 12)}, but the tag ${version} could not be created: ${e.message}`, {
      remedy: `tag the commit yourself (git tag ${version} ${commit.slice(0, 12)}), or set version: in quix.yaml to a tag you create`,
      cause: e,
    });
  }
  return { status: "promoted", plan, report, applied, commit, tag: version };
}
