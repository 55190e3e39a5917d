import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { DescriptorInvalidError, readDescriptor, readDescriptorText } from "../descriptor/file.js";
import { loadAppDescriptor } from "../descriptor/load.js";
import type { PlaceholderLookup } from "../descriptor/placeholders.js";
import { projectPlaceholders } from "../descriptor/project.js";
import type { AppDescriptor, Deployment, Descriptor, DescriptorError } from "../descriptor/types.js";
import { InputError } from "../errors/index.js";
import { type AppFiles, dockerfileBase, isNodeApp } from "./runtime.js";

export interface LoadedPipeline {
  /** Absolute path of quix.yaml. */
  readonly file: string;
  /** Its directory: application folders are relative to it. */
  readonly dir: string;
  readonly descriptor: Descriptor;
  readonly apps: ReadonlyMap<string, AppDescriptor>;
  /** What each application folder holds besides app.yaml (entry point, Dockerfile), keyed like `apps`. */
  readonly files: ReadonlyMap<string, AppFiles>;
}

/** Deployments `quixlab up` would start: not Stopped, not disabled. */
export function wanted(d: Deployment): boolean {
  return d.desiredStatus !== "Stopped" && !d.disabled;
}

export interface LoadPipelineOptions {
  /** `--var NAME=VALUE`: placeholder values that win over `.quix.yaml.variables` and the environment. */
  readonly vars?: Readonly<Record<string, string>>;
  /** The environment placeholders fall back to (default: this process's). */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Read and validate quix.yaml and the app.yaml of every application a wanted deployment uses; any problem in
 * either is an error listing every location (nothing starts from a descriptor that does not validate). `{{NAME}}`
 * placeholders are filled, as Quix fills them from project variables, from `--var`, the project's
 * `.quix.yaml.variables` and the environment; one without a value is an error at its line naming it. A Node app
 * whose runEntryPoint is missing and that has no Dockerfile is an error too (an app that needs a Dockerfile it
 * lacks is skipped by the plan, with the reason).
 * @example const { descriptor, apps } = await loadPipeline("quix.yaml", process.cwd(), { vars: { CPU: "200" } })
 */
export async function loadPipeline(file: string, cwd: string, opts: LoadPipelineOptions = {}): Promise<LoadedPipeline> {
  const path = resolve(cwd, file);
  const label = relative(cwd, path) || path;
  const resolveWith = await lookup(dirname(path), opts);
  const loaded = await readDescriptor(path, { resolve: resolveWith });
  if (loaded.errors.length > 0) {
    throw new DescriptorInvalidError(`${label} is not a valid descriptor`, relabel(loaded.errors, path, label), "fix it ('quixlab descriptor validate' lists the same problems)");
  }
  const dir = dirname(path);
  const apps = new Map<string, AppDescriptor>();
  const files = new Map<string, AppFiles>();
  for (const d of loaded.value.deployments) {
    if (!d.application || apps.has(d.application) || !wanted(d) || d.deploymentType === "Managed") continue;
    const appFile = resolve(dir, d.application, "app.yaml");
    const appLabel = relative(cwd, appFile) || appFile;
    if (!existsSync(appFile)) {
      throw new InputError(`deployment "${d.name}": ${appLabel} not found`, {
        remedy: "create the application folder with its app.yaml (runEntryPoint names the file to run), or fix application:",
        context: { file: label, field: `deployments.${d.name}.application` },
      });
    }
    const app = loadAppDescriptor(await readDescriptorText(appFile), appLabel, { resolve: resolveWith });
    if (app.errors.length > 0) throw new DescriptorInvalidError(`${appLabel} is not a valid app.yaml`, app.errors, "fix it ('quixlab descriptor validate' checks it too)");
    const found = appFiles(resolve(dir, d.application), app.value);
    if (isNodeApp(app.value) && !found.entryExists && !found.dockerfile) {
      const entry = resolve(dir, d.application, app.value.runEntryPoint!);
      throw new InputError(`runEntryPoint ${app.value.runEntryPoint} not found (${relative(cwd, entry) || entry})`, {
        remedy: "create that file (it starts the step, e.g. with runStep) or fix runEntryPoint:",
        context: { file: appLabel, field: "runEntryPoint" },
      });
    }
    apps.set(d.application, app.value);
    files.set(d.application, found);
  }
  return { file: path, dir, descriptor: loaded.value, apps, files };
}

/** The placeholder values of a project; a line of `.quix.yaml.variables` that is no `NAME=VALUE` is an error. */
async function lookup(dir: string, opts: LoadPipelineOptions): Promise<PlaceholderLookup> {
  const { lookup, local } = await projectPlaceholders(dir, { vars: opts.vars, env: (opts.env ?? process.env) as Record<string, string | undefined> });
  if (local && local.bad.length > 0) {
    throw new InputError(`${local.file}:${local.bad[0]} is not a NAME=VALUE line`, {
      remedy: "write one NAME=VALUE per line (# starts a comment)",
      context: { file: local.file, line: local.bad[0] },
    });
  }
  return lookup;
}

/** The entry point and Dockerfile of an application folder. Quix's templates name it `dockerfile`; either case is found. */
function appFiles(appDir: string, app: AppDescriptor): AppFiles {
  const isFile = (p: string) => existsSync(p) && statSync(p).isFile();
  const entryExists = !!app.runEntryPoint && isFile(resolve(appDir, app.runEntryPoint));
  const named = app.dockerfile?.trim() || "dockerfile";
  const candidates = named.toLowerCase() === "dockerfile" ? [named, "dockerfile", "Dockerfile"] : [named];
  for (const name of candidates) {
    const p = resolve(appDir, name);
    if (!isFile(p)) continue;
    const text = readFileSync(p, "utf8");
    return { entryExists, dockerfile: { path: p, from: dockerfileBase(text), text } };
  }
  return { entryExists };
}

function relabel(errors: readonly DescriptorError[], path: string, label: string): DescriptorError[] {
  return errors.map((e) => (e.file === path ? { ...e, file: label } : e));
}
