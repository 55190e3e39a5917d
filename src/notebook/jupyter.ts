/** The thin edge to Jupyter: find its programs and run them. Everything else in src/notebook is pure. */
import { spawn } from "node:child_process";
import { EnvironmentError } from "../errors/index.js";
import { requireProgram, which } from "../infra/process.js";

export const JUPYTER_REMEDY = "install Jupyter: pip install jupyter (or apt-get install -y jupyter-notebook)";

export interface ExecResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run a program to completion and capture its output (no shell). Rejects only when it cannot start. */
export function exec(
  program: string,
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; signal?: AbortSignal } = {},
): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      signal: opts.signal,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.once("error", reject);
    child.once("close", (code, signal) =>
      resolve({ code, signal, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") }),
    );
  });
}

/** Absolute path of `jupyter`, or an EnvironmentError that says how to install it. */
export function requireJupyter(env: NodeJS.ProcessEnv = process.env): string {
  return requireProgram("jupyter", JUPYTER_REMEDY, env);
}

/** Jupyter's per-user data directory (honours JUPYTER_DATA_DIR); kernel specs live in its `kernels/`. */
export async function jupyterDataDir(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const res = await exec(requireJupyter(env), ["--data-dir"], { env });
  const dir = res.stdout.trim();
  if (res.code !== 0 || !dir) {
    throw new EnvironmentError(`'jupyter --data-dir' failed: ${res.stderr.trim() || `exit ${res.code}`}`, { remedy: JUPYTER_REMEDY });
  }
  return dir;
}

export interface KernelSpecEntry {
  readonly resourceDir: string;
  readonly argv: readonly string[];
  readonly displayName: string;
}

/** The kernel specs Jupyter itself resolves (`jupyter kernelspec list --json`), by name. */
export async function listKernelSpecs(env: NodeJS.ProcessEnv = process.env): Promise<Map<string, KernelSpecEntry>> {
  const res = await exec(requireJupyter(env), ["kernelspec", "list", "--json"], { env });
  if (res.code !== 0) {
    throw new EnvironmentError(`'jupyter kernelspec list' failed: ${res.stderr.trim() || `exit ${res.code}`}`, { remedy: JUPYTER_REMEDY });
  }
  const parsed = JSON.parse(res.stdout) as {
    kernelspecs?: Record<string, { resource_dir: string; spec: { argv: string[]; display_name: string } }>;
  };
  const out = new Map<string, KernelSpecEntry>();
  for (const [name, k] of Object.entries(parsed.kernelspecs ?? {})) {
    out.set(name, { resourceDir: k.resource_dir, argv: k.spec.argv, displayName: k.spec.display_name });
  }
  return out;
}

/**
 * A Python that can import nbclient (the library behind `jupyter nbconvert --execute`): $QUIXLAB_PYTHON, then
 * python3, then python. Jupyter is a Python program, so the one that installed it normally has nbclient too.
 */
export async function findNbclientPython(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const candidates = [env.QUIXLAB_PYTHON, "python3", "python"].filter((c): c is string => Boolean(c));
  for (const c of candidates) {
    const path = c.includes("/") ? c : which(c, env);
    if (!path) continue;
    const res = await exec(path, ["-c", "import nbclient, nbformat"], { env }).catch(() => undefined);
    if (res?.code === 0) return path;
  }
  requireJupyter(env);
  throw new EnvironmentError(`no Python on PATH can import nbclient (tried ${candidates.join(", ")})`, {
    remedy: "pip install nbclient nbformat (or apt-get install -y python3-nbclient), or set QUIXLAB_PYTHON to Jupyter's python",
  });
}
