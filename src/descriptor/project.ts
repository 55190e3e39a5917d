/**
 * Validate a whole Quix project: quix.yaml, the app.yaml of every application folder its deployments use, and
 * (with `resolve`) its placeholders filled from `--var`, `.quix.yaml.variables` and the environment. The file
 * edge of `quixlab descriptor validate`; the checks themselves are the pure loaders'.
 */
import { existsSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, dirname, join, relative, resolve as resolvePath } from "node:path";
import { readDescriptorText } from "./file.js";
import { isSyntaxFailure, loadAppDescriptor, loadDescriptor } from "./load.js";
import { parseVariablesFile, type PlaceholderLookup, placeholderLookup } from "./placeholders.js";
import type { AppDescriptor, DescriptorError, Placeholder } from "./types.js";

export interface ValidateProjectOptions {
  /** Labels in errors are relative to it (default: the process's working directory). */
  readonly cwd?: string;
  /** Fill placeholders and report those without a value (default: leave them as "known later"). */
  readonly resolve?: boolean;
  /** `--var NAME=VALUE` values; they win over `.quix.yaml.variables`, which wins over `env`. */
  readonly vars?: Readonly<Record<string, string>>;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export interface ProjectFile {
  readonly file: string;
  readonly kind: "quix.yaml" | "app.yaml" | "variables";
  readonly errors: number;
}

export interface ProjectReport {
  readonly ok: boolean;
  readonly files: readonly ProjectFile[];
  readonly errors: readonly DescriptorError[];
  /** True when some file is not YAML at all (the CLI exits 2 then). */
  readonly syntax: boolean;
  /** With `resolve`: the placeholder names that have no value. */
  readonly unresolved: readonly string[];
}

/** The `KEY=VALUE` lines of `.quix.yaml.variables` in `dir` (none when the file does not exist). */
export async function readVariablesFile(dir: string): Promise<{ file: string; values: Record<string, string>; bad: number[] } | undefined> {
  const file = join(dir, ".quix.yaml.variables");
  const text = await readFile(file, "utf8").catch(() => undefined);
  return text === undefined ? undefined : { file, ...parseVariablesFile(text) };
}

/**
 * A project's placeholder values, in Quix's order: `--var`, then `.quix.yaml.variables` in `dir`, then the
 * environment. `local` is that file as read (its `bad` lines are the caller's to report).
 * @example const { lookup } = await projectPlaceholders(dir, { vars: { CPU: "200" }, env: process.env })
 */
export async function projectPlaceholders(
  dir: string,
  opts: Pick<ValidateProjectOptions, "vars" | "env"> = {},
): Promise<{ lookup: PlaceholderLookup; local: Awaited<ReturnType<typeof readVariablesFile>> }> {
  const local = await readVariablesFile(dir);
  return { local, lookup: placeholderLookup({ ...(opts.vars && { vars: opts.vars }), ...(local && { file: local.values }), env: opts.env ?? process.env }) };
}

/**
 * Check `target` — a project folder, its quix.yaml, or an app.yaml on its own — and every app.yaml the project
 * uses. A missing or unreadable quix.yaml is an InputError (exit 2); every problem inside the files is in `errors`.
 * @example const report = await validateProject("my-project", { resolve: true, vars: { CPU: "200" } })
 */
export async function validateProject(target: string, opts: ValidateProjectOptions = {}): Promise<ProjectReport> {
  const cwd = opts.cwd ?? process.cwd();
  let path = resolvePath(cwd, target);
  if (existsSync(path) && statSync(path).isDirectory()) path = join(path, existsSync(join(path, "quix.yaml")) || !existsSync(join(path, "app.yaml")) ? "quix.yaml" : "app.yaml");
  const label = (p: string) => relative(cwd, p) || p;
  const files: ProjectFile[] = [];
  const errors: DescriptorError[] = [];
  const add = (file: string, kind: ProjectFile["kind"], errs: readonly DescriptorError[]) => {
    files.push({ file, kind, errors: errs.length });
    errors.push(...errs);
  };

  const dir = dirname(path);
  let lookup: PlaceholderLookup | undefined;
  if (opts.resolve) {
    const placeholders = await projectPlaceholders(dir, opts);
    const local = placeholders.local;
    if (local) {
      const f = label(local.file);
      add(
        f,
        "variables",
        local.bad.map((line) => ({ file: f, line, column: 1, code: "wrong-type" as const, message: "not a KEY=VALUE line", remedy: "write one NAME=value per line (# starts a comment)", path: "" })),
      );
    }
    lookup = placeholders.lookup;
  }
  const resolve = lookup ? { resolve: lookup } : {};
  const text = await readDescriptorText(path);

  if (/^app\.ya?ml$/.test(basename(path))) {
    const app = loadAppDescriptor(text, label(path), resolve);
    add(label(path), "app.yaml", withUnresolved(app, label(path), lookup));
    return report(files, errors, lookup);
  }

  const first = loadDescriptor(text, label(path));
  if (isSyntaxFailure(first.errors)) {
    add(label(path), "quix.yaml", first.errors);
    return report(files, errors, lookup);
  }
  const apps = new Map<string, AppDescriptor>();
  const toLoad: string[] = [];
  const missing: DescriptorError[] = [];
  first.value.deployments.forEach((d, i) => {
    if (!d.application || d.deploymentType === "Managed" || apps.has(d.application) || toLoad.includes(d.application)) return;
    const appPath = join(dir, d.application, "app.yaml");
    if (existsSync(appPath)) {
      toLoad.push(d.application);
      return;
    }
    const node = first.doc.getIn(["deployments", i, "application"], true) as { range?: [number, number, number] } | undefined;
    const { line, column } = linePos(text, node?.range?.[0] ?? 0);
    missing.push({
      file: label(path),
      line,
      column,
      code: "missing-app",
      message: `deployment "${d.name}": application folder "${d.application}" has no app.yaml (${label(appPath)})`,
      remedy: "create the folder with its app.yaml next to quix.yaml, fix application:, or use image: for a prebuilt image",
      path: `deployments[${i}].application`,
    });
  });
  const loadedApps: [string, readonly DescriptorError[]][] = [];
  for (const application of toLoad) {
    const appPath = join(dir, application, "app.yaml");
    const app = loadAppDescriptor(await readDescriptorText(appPath), label(appPath), resolve);
    apps.set(application, app.value);
    loadedApps.push([label(appPath), withUnresolved(app, label(appPath), lookup)]);
  }
  const full = loadDescriptor(text, label(path), { apps: (a) => apps.get(a), ...resolve });
  add(label(path), "quix.yaml", [...withUnresolved(full, label(path), lookup), ...missing]);
  for (const [file, errs] of loadedApps) add(file, "app.yaml", errs);
  return report(files, errors, lookup);
}

function report(files: ProjectFile[], errors: DescriptorError[], lookup: PlaceholderLookup | undefined): ProjectReport {
  const unresolved = lookup ? [...new Set(errors.filter((e) => e.code === "unresolved-placeholder").flatMap((e) => [...e.message.matchAll(/\{\{([^}]+)\}\}/g)].map((m) => m[1]!)))] : [];
  return { ok: errors.length === 0, files, errors, syntax: isSyntaxFailure(errors), unresolved };
}

/**
 * The loader's errors plus one for each placeholder without a value that no checked field reported (placeholders
 * in keys quixlab does not read, such as `publicAccess.urlPrefix`), so every unresolved name is listed.
 */
function withUnresolved(loaded: { errors: readonly DescriptorError[]; placeholders: readonly Placeholder[] }, file: string, lookup: PlaceholderLookup | undefined): DescriptorError[] {
  const out = [...loaded.errors];
  if (!lookup) return out;
  for (const p of loaded.placeholders) {
    if (lookup(p.name) !== undefined) continue;
    if (out.some((e) => e.code === "unresolved-placeholder" && e.line === p.line && e.message.includes(`{{${p.name}}}`))) continue;
    out.push({
      file,
      line: p.line,
      column: p.column,
      code: "unresolved-placeholder",
      message: `{{${p.name}}} has no value`,
      remedy: `set ${p.name}=... in .quix.yaml.variables, the environment, or with --var ${p.name}=...`,
      path: "",
    });
  }
  return out;
}

function linePos(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  return { line, column: offset - before.lastIndexOf("\n") };
}
