/**
 * The folder templates `promote` and `init` write (`templates/app/`, `templates/project/`): read once at the edge
 * into plain `{path: text}` maps, then filled in by pure functions.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { InputError } from "../errors/index.js";
import { packageRoot } from "../util/paths.js";

/** Template files by path inside the template folder (posix separators), as stored. */
export type TemplateFiles = Readonly<Record<string, string>>;

/**
 * Files stored without their leading dot: npm renames or drops some dotfiles when it packs a package
 * (`.gitignore` above all), so the templates hold `gitignore` and the writer restores the name.
 */
const DOTTED = new Set(["gitignore", "dockerignore", "devcontainer.json"]);

/** The name a template file gets when written (`gitignore` → `.gitignore`). */
export function outputName(path: string): string {
  const parts = path.split("/");
  const last = parts.pop()!;
  return [...parts, DOTTED.has(last) ? `.${last}` : last].join("/");
}

/** Read every file of `templates/<name>/` (in the quixlab package) as text. */
export function readTemplate(name: "app" | "model" | "project" | "source", root: string = packageRoot()): TemplateFiles {
  const dir = join(root, "templates", name);
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out[relative(dir, p).split(sep).join("/")] = readFileSync(p, "utf8");
    }
  };
  try {
    walk(dir);
  } catch (e) {
    throw new InputError(`cannot read the ${name} template (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, {
      remedy: "reinstall quixlab: its templates/ folder is missing or unreadable",
      cause: e,
      context: { file: dir },
    });
  }
  return Object.freeze(out);
}

/**
 * Replace every `{{name}}` with `vars[name]`. A placeholder without a value is a bug in the caller, so it throws
 * rather than leaving `{{...}}` in a generated file.
 * @example fillTemplate("FROM {{image}}", { image: "node:20-slim" }) === "FROM node:20-slim"
 */
export function fillTemplate(text: string, vars: Readonly<Record<string, string>>, file = "template"): string {
  return text.replace(/\{\{([\w:@/.-]+)\}\}/g, (_, name: string) => {
    const v = vars[name];
    if (v === undefined) throw new Error(`quixlab: ${file} uses {{${name}}}, which has no value`);
    return v;
  });
}

/** A model's app folder: templates/app/'s build files (Dockerfile, package.json, ...) with templates/model/'s main.ts and app.yaml. */
export function modelTemplate(root: string = packageRoot()): TemplateFiles {
  const app = readTemplate("app", root);
  const model = readTemplate("model", root);
  return Object.freeze({ ...Object.fromEntries(Object.entries(app).filter(([p]) => model[p] === undefined)), ...model });
}
