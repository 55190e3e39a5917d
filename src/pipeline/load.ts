import { existsSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { DescriptorInvalidError, readDescriptor, readDescriptorText } from "../descriptor/file.js";
import { loadAppDescriptor } from "../descriptor/load.js";
import type { AppDescriptor, Descriptor, DescriptorError } from "../descriptor/types.js";
import { InputError } from "../errors/index.js";

export interface LoadedPipeline {
  /** Absolute path of quix.yaml. */
  readonly file: string;
  /** Its directory: application folders are relative to it. */
  readonly dir: string;
  readonly descriptor: Descriptor;
  readonly apps: ReadonlyMap<string, AppDescriptor>;
}

/**
 * Read and validate quix.yaml and the app.yaml of every application a runnable deployment uses; any problem
 * in either is an error listing every location (nothing starts from a descriptor that does not validate).
 * @example const { descriptor, apps } = await loadPipeline("quix.yaml", process.cwd())
 */
export async function loadPipeline(file: string, cwd: string): Promise<LoadedPipeline> {
  const path = resolve(cwd, file);
  const label = relative(cwd, path) || path;
  const loaded = await readDescriptor(path);
  if (loaded.errors.length > 0) {
    throw new DescriptorInvalidError(`${label} is not a valid descriptor`, relabel(loaded.errors, path, label), "fix it ('quixlab descriptor validate' lists the same problems)");
  }
  const dir = dirname(path);
  const apps = new Map<string, AppDescriptor>();
  for (const d of loaded.value.deployments) {
    if (!d.application || apps.has(d.application) || d.desiredStatus === "Stopped") continue;
    const appFile = resolve(dir, d.application, "app.yaml");
    const appLabel = relative(cwd, appFile) || appFile;
    if (!existsSync(appFile)) {
      throw new InputError(`deployment "${d.name}": ${appLabel} not found`, {
        remedy: "create the application folder with its app.yaml (runEntryPoint names the file to run), or fix application:",
        context: { file: label, field: `deployments.${d.name}.application` },
      });
    }
    const app = loadAppDescriptor(await readDescriptorText(appFile), appLabel);
    if (app.errors.length > 0) throw new DescriptorInvalidError(`${appLabel} is not a valid app.yaml`, app.errors, "fix it ('quixlab descriptor validate' checks it too)");
    if (!app.value.runEntryPoint) {
      throw new InputError(`${appLabel} has no runEntryPoint`, { remedy: "set runEntryPoint: to the file the step runs, e.g. main.ts", context: { file: appLabel, field: "runEntryPoint" } });
    }
    const entry = resolve(dir, d.application, app.value.runEntryPoint);
    if (!existsSync(entry)) {
      throw new InputError(`runEntryPoint ${app.value.runEntryPoint} not found (${relative(cwd, entry) || entry})`, {
        remedy: "create that file (it starts the step, e.g. with runStep) or fix runEntryPoint:",
        context: { file: appLabel, field: "runEntryPoint" },
      });
    }
    apps.set(d.application, app.value);
  }
  return { file: path, dir, descriptor: loaded.value, apps };
}

function relabel(errors: readonly DescriptorError[], path: string, label: string): DescriptorError[] {
  return errors.map((e) => (e.file === path ? { ...e, file: label } : e));
}
