/** `quixlab init`: a new project from `templates/project/`, with the Coinbase sample ticks and their notice. */
import { readFileSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { InputError } from "../errors/index.js";
import { packageRoot } from "../util/paths.js";
import { writeFileSet } from "./apply.js";
import { fillTemplate, outputName, readTemplate, type TemplateFiles } from "./template.js";

/** Recorded ticks copied into every new project, from quixlab's own data/ (the notice travels with them). */
export const SAMPLE_DATA = ["coinbase-ticker-2021-04-17.jsonl", "LICENSE.cryptofeed"] as const;

export interface InitOptions {
  readonly dir: string;
  /** Write into a folder that is not empty (template files are overwritten, others left alone). */
  readonly force?: boolean;
}

export interface InitResult {
  readonly dir: string;
  /** Written files, relative to `dir`, posix. */
  readonly files: readonly string[];
}

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
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string; dependencies: Record<string, string>; devDependencies: Record<string, string> };
  const deps = { ...pkg.devDependencies, ...pkg.dependencies };
  const vars: Record<string, string> = { name: basename(dir), packageName: packageNameOf(basename(dir)), "version:quixlab": pkg.version };
  for (const d of ["tslab", "typescript", "@types/node"]) vars[`version:${d}`] = deps[d] ?? "*";
  const files = planProject(readTemplate("project", root), vars);
  for (const f of SAMPLE_DATA) files.set(`data/${f}`, readFileSync(join(root, "data", f), "utf8"));
  await writeFileSet([...files].map(([path, content]) => ({ path: join(dir, ...path.split("/")), content })));
  return { dir, files: [...files.keys()].sort() };
}
