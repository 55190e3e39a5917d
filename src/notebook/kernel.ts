/** The tslab kernel spec quixlab installs into the user's Jupyter, pointing at this project's own tslab. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { EnvironmentError } from "../errors/index.js";
import { packageRoot } from "../util/paths.js";
import { jupyterDataDir, listKernelSpecs } from "./jupyter.js";

export const KERNEL_NAME = "tslab";
export const KERNEL_DISPLAY_NAME = "TypeScript (quixlab)";

/** kernel.json as Jupyter reads it. */
export interface KernelSpecJson {
  readonly argv: readonly string[];
  readonly display_name: string;
  readonly language: string;
  readonly metadata: { readonly quixlab: { readonly root: string } };
}

/** Absolute path of the project's tslab binary (node_modules/.bin/tslab, else wherever node resolves tslab). */
export function tslabBinary(root: string = packageRoot()): string {
  const bin = join(root, "node_modules", ".bin", "tslab");
  if (existsSync(bin)) return bin;
  try {
    return join(dirname(createRequire(join(root, "package.json")).resolve("tslab/package.json")), "bin", "tslab");
  } catch (e) {
    throw new EnvironmentError(`tslab is not installed under ${root}`, { remedy: "run npm install in the project", cause: e });
  }
}

/**
 * The spec: tslab's own argv (`tslab kernel --config-path {connection_file}`, split as its install.py does),
 * run by this node binary, because Jupyter started from a desktop launcher often has no node on its PATH.
 */
export function kernelSpec(root: string = packageRoot(), node: string = process.execPath): KernelSpecJson {
  return {
    argv: [node, tslabBinary(root), "kernel", "--config-path", "{connection_file}"],
    display_name: KERNEL_DISPLAY_NAME,
    language: "typescript",
    metadata: { quixlab: { root } },
  };
}

export interface KernelInstallResult {
  /** The kernel.json written (or found up to date). */
  readonly file: string;
  readonly changed: boolean;
  readonly spec: KernelSpecJson;
}

export interface KernelOptions {
  env?: NodeJS.ProcessEnv;
  root?: string;
}

/** Install (or refresh) the `tslab` kernel spec in `jupyter --data-dir`/kernels. Idempotent. */
export async function installKernel(opts: KernelOptions = {}): Promise<KernelInstallResult> {
  const spec = kernelSpec(opts.root);
  const dir = join(await jupyterDataDir(opts.env), "kernels", KERNEL_NAME);
  const file = join(dir, "kernel.json");
  const text = `${JSON.stringify(spec, null, 2)}\n`;
  const current = existsSync(file) ? readFileSync(file, "utf8") : undefined;
  if (current === text) return { file, changed: false, spec };
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, text);
  return { file, changed: true, spec };
}

export interface KernelStatus {
  /** Jupyter resolves a kernel named `tslab`. */
  readonly installed: boolean;
  /** ...and it runs exactly this project's tslab with this node. */
  readonly current: boolean;
  readonly resourceDir?: string;
  readonly argv?: readonly string[];
  readonly expectedArgv: readonly string[];
  /** A sentence saying what is wrong, when not current. */
  readonly problem?: string;
}

/** What Jupyter will start for kernel `tslab`, compared with what `installKernel` would write. */
export async function kernelStatus(opts: KernelOptions = {}): Promise<KernelStatus> {
  const expectedArgv = kernelSpec(opts.root).argv;
  const found = (await listKernelSpecs(opts.env)).get(KERNEL_NAME);
  if (!found) return { installed: false, current: false, expectedArgv, problem: `Jupyter has no '${KERNEL_NAME}' kernel` };
  const current = found.argv.length === expectedArgv.length && found.argv.every((a, i) => a === expectedArgv[i]);
  const base = { installed: true, current, resourceDir: found.resourceDir, argv: found.argv, expectedArgv };
  if (current) return base;
  const missing = found.argv.find((a, i) => i < 2 && a.startsWith("/") && !existsSync(a));
  const problem = missing
    ? `its program ${missing} does not exist`
    : `it runs '${found.argv.slice(0, 2).join(" ")}', not this project's tslab`;
  return { ...base, problem: `the '${KERNEL_NAME}' kernel in ${found.resourceDir} is stale: ${problem}` };
}
