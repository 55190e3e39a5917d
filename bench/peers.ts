/**
 * What the peer benches share: a pinned Python package in a venv of its own, made on first use under
 * ~/.cache/quixlab-bench/ (never the project's or the system's Python), and the row a suite writes when a peer
 * cannot be had here, so a missing peer is said, not faked.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Row } from "./types.js";

const exec = promisify(execFile);

/** Where the bench keeps its venvs: `$XDG_CACHE_HOME/quixlab-bench`, else `~/.cache/quixlab-bench`. */
export const PEER_CACHE = join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "quixlab-bench");

/** A venv's python, or why there is none. */
export type Venv = { python: string } | { skipped: string };

function lastLines(text: string, n = 3): string {
  return text.trim().split("\n").slice(-n).join(" | ");
}

async function installed(python: string, module: string, version: string): Promise<boolean> {
  if (!existsSync(python)) return false;
  try {
    const { stdout } = await exec(python, ["-c", `import ${module}; print(${module}.__version__)`], { timeout: 60_000 });
    return stdout.trim() === version;
  } catch {
    return false;
  }
}

/**
 * A venv at PEER_CACHE/`dir` with `pkg==version` importable as `module`, made with python3 -m venv and pip on first
 * use. It is built beside its place and renamed into it, so a failed or interrupted install never leaves a venv that
 * looks ready. Returns `{ skipped }` with pip's own words when the package cannot be installed here.
 * @example await pythonPackage("qs-3.28.1", "quixstreams", "3.28.1")
 */
export async function pythonPackage(dir: string, pkg: string, version: string, module = pkg, log: (line: string) => void = () => {}): Promise<Venv> {
  const home = join(PEER_CACHE, dir);
  const python = join(home, "bin", "python");
  if (await installed(python, module, version)) return { python };
  const building = `${home}.building-${process.pid}`;
  rmSync(building, { recursive: true, force: true });
  mkdirSync(PEER_CACHE, { recursive: true });
  try {
    log(`installing ${pkg}==${version} into ${home} (first use)…`);
    await exec("python3", ["-m", "venv", building], { timeout: 120_000 });
    await exec(join(building, "bin", "python"), ["-m", "pip", "install", "--quiet", `${pkg}==${version}`], { timeout: 600_000, maxBuffer: 16 << 20 });
    rmSync(home, { recursive: true, force: true });
    renameSync(building, home);
  } catch (e) {
    rmSync(building, { recursive: true, force: true });
    const err = e as Error & { stderr?: string; killed?: boolean };
    const why = err.killed ? "timed out" : lastLines(err.stderr || err.message);
    return { skipped: `could not install ${pkg}==${version} (python3 -m venv, then pip): ${why}` };
  }
  if (await installed(python, module, version)) return { python };
  return { skipped: `${pkg}==${version} installed into ${home} but \`import ${module}\` does not report ${version}` };
}

/** The row of a peer that could not run: value 0 and no ratio, so no figure is invented and no target is judged. */
export function skippedRow(suite: string, name: string, unit: string, reason: string): Row {
  return { suite, name: `${name} (skipped)`, value: 0, unit, note: `skipped: ${reason}` };
}
