/** `quixlab init`: a new project from `templates/project/`, with the Coinbase sample ticks and their notice. */
import { readFileSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { InputError } from "../errors/index.js";
import { type QuixlabDependency, quixlabDependency } from "../packaging/index.js";
import { packageRoot } from "../util/paths.js";
import { planDescriptorEdit } from "../descriptor/index.js";
import { tarballName } from "../packaging/index.js";
import { writeFileSet } from "./apply.js";
import { sourceAppVersions } from "./add-source.js";
import { UNCOMMITTED } from "./plan.js";
import { planSourceApp, sourceEdit } from "./source-app.js";
import { fillTemplate, outputName, readTemplate, type TemplateFiles } from "./template.js";

/** Recorded ticks copied into every new project, from quixlab's own data/ (the notice travels with them). */
export const SAMPLE_DATA = ["coinbase-ticker-2021-04-17.jsonl", "LICENSE.cryptofeed"] as const;

/**
 * The source deployment every new project has: the sample recording replayed into `ticks` at its own pace, again
 * and again (times shifted per pass), so `up` then `dashboard` shows data flowing before any step is promoted.
 */
export const SAMPLE_SOURCE = { name: "ticks-replay", topic: "ticks", speed: "1x", loop: true } as const;

export interface InitOptions {
  readonly dir: string;
  /** Write into a folder that is not empty (template files are overwritten, others left alone). */
  readonly force?: boolean;
  /** How the project depends on quixlab (default: decided from where the running quixlab came from). */
  readonly dependency?: QuixlabDependency;
  log?(line: string): void;
}

export interface InitResult {
  readonly dir: string;
  /** Written files, relative to `dir`, posix. */
  readonly files: readonly string[];
  /** The project's quixlab dependency (`^0.1.0`, or `file:vendor/quixlab-0.1.0.tgz` when vendored). */
  readonly quixlab: string;
}

interface QuixlabPackageJson {
  version: string;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  overrides?: Record<string, string>;
}

/**
 * The project's runtime dependencies: quixlab, plus every optional package quixlab's notebook and CLI side uses
 * (its peerDependencies: tslab, danfojs-node, typescript, ink...), which a deployed step does not install.
 * quixlab's own npm `overrides` do not reach a consumer, so the project gets a copy (danfojs' xlsx needs one).
 */
export function projectDependencies(pkg: QuixlabPackageJson, quixlabSpec: string): { dependencies: Record<string, string>; overrides: Record<string, string> } {
  const dependencies: Record<string, string> = { quixlab: quixlabSpec };
  for (const [name, range] of Object.entries(pkg.peerDependencies ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) dependencies[name] = range;
  return { dependencies, overrides: { ...pkg.overrides } };
}

/** A JSON value indented to sit at the first level of a 2-space-indented package.json. */
const nested = (value: unknown) => JSON.stringify(value, null, 2).replace(/\n/g, "\n  ");

/** An npm package name from a folder name (lower case; other characters become '-'). */
export function packageNameOf(dirName: string): string {
  const s = dirName
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, "-")
    .replace(/^[._-]+|-+$/g, "");
  return s || "quixlab-project";
}

/** The project's files (path → text) from the template and the values it needs. Pure. */
export function planProject(template: TemplateFiles, vars: Readonly<Record<string, string>>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [path, text] of Object.entries(template)) out.set(outputName(path), fillTemplate(text, vars, `templates/project/${path}`));
  return out;
}

/**
 * Create a project in `dir` (created when missing). Refuses a folder with anything in it besides `.git`
 * unless `force`. Writes all files or none.
 * @example await initProject({ dir: "my-features" })
 */
export async function initProject(opts: InitOptions): Promise<InitResult> {
  const dir = resolve(opts.dir);
  const present = await readdir(dir).catch((e: NodeJS.ErrnoException) => {
    if (e.code === "ENOENT") return [];
    throw new InputError(`cannot read ${dir} (${e.code})`, { remedy: "pass a folder you can write to", cause: e, context: { file: dir } });
  });
  const other = present.filter((n) => n !== ".git");
  if (other.length > 0 && !opts.force) {
    throw new InputError(`${dir} is not empty (${other.slice(0, 3).join(", ")}${other.length > 3 ? ", ..." : ""})`, {
      remedy: "pass an empty or new folder, or --force to write the project files into it anyway",
      context: { file: dir },
    });
  }
  const root = packageRoot();
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as QuixlabPackageJson;
  const dependency = opts.dependency ?? (await quixlabDependency({ dir: "vendor", log: opts.log }));
  const { dependencies, overrides } = projectDependencies(pkg, dependency.spec);
  const vars: Record<string, string> = {
    name: basename(dir),
    packageName: packageNameOf(basename(dir)),
    "version:@types/node": pkg.devDependencies?.["@types/node"] ?? "^20.19.0",
    dependencies: nested(dependencies),
    overrides: nested(overrides),
  };
  const files: Map<string, string | Buffer> = planProject(readTemplate("project", root), vars);
  for (const f of SAMPLE_DATA) files.set(`data/${f}`, readFileSync(join(root, "data", f), "utf8"));
  addSampleSource(files, readFileSync(join(root, "data", SAMPLE_DATA[0])), dependency);
  if (dependency.vendored) files.set(dependency.vendored.file, dependency.vendored.tarball.bytes);
  await writeFileSet([...files].map(([path, content]) => ({ path: join(dir, ...path.split("/")), content })));
  return { dir, files: [...files.keys()].sort(), quixlab: dependency.spec };
}

/**
 * The replay source's app folder and its quix.yaml entry, planned as `quixlab add source replay` plans them. The
 * folder is a Docker build context of its own: it gets its own copy of the recording and, when vendored, of the
 * quixlab tarball.
 */
function addSampleSource(files: Map<string, string | Buffer>, ticks: Buffer, dependency: QuixlabDependency): void {
  const s = SAMPLE_SOURCE;
  const vendor = dependency.vendored ? { file: tarballName(dependency.origin.version), bytes: dependency.vendored.tarball.bytes } : undefined;
  const app = planSourceApp({
    type: "replay",
    deployment: s.name,
    topic: s.topic,
    ticks: { name: SAMPLE_DATA[0], bytes: ticks },
    speed: s.speed,
    loop: s.loop,
    template: readTemplate("source"),
    versions: sourceAppVersions(vendor ? `file:${vendor.file}` : dependency.spec),
    vendor,
  });
  for (const [name, content] of app.files) files.set(`${s.name}/${name}`, content);
  const quix = planDescriptorEdit(String(files.get("quix.yaml")), "quix.yaml", (doc) => {
    sourceEdit(doc, app, { deployment: s.name, appDir: s.name, topic: s.topic, version: UNCOMMITTED });
  });
  files.set("quix.yaml", quix.after);
}
