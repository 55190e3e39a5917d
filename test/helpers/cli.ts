/** Running the CLI from tests: in-process through `main`, or as a user runs it (`node bin/quixlab.js`). */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { main } from "../../cli/main.js";

/** The repository root. */
export const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
/** The CLI's entry script. */
export const bin = join(repoRoot, "bin", "quixlab.js");

/** What a finished run printed; `code` is null when a signal ended the process. */
export interface Run {
  code: number | null;
  out: string;
  err: string;
}

/** A stdout/stderr stand-in for `main` that keeps what is written; `isTTY` as given (colour is off unless true). */
export function captureStream(isTTY = false): NodeJS.WriteStream & { text(): string } {
  const chunks: string[] = [];
  const w = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return Object.assign(w, { isTTY, text: () => chunks.join("") }) as unknown as NodeJS.WriteStream & { text(): string };
}

/** Run the CLI in-process in `cwd` with captured output (not a TTY, NO_COLOR set). */
export async function runCli(cwd: string, ...argv: string[]): Promise<Run & { code: number }> {
  const stdout = captureStream();
  const stderr = captureStream();
  const code = await main(argv, { cwd, stdout, stderr, env: { NO_COLOR: "1" } });
  return { code, out: stdout.text(), err: stderr.text() };
}

export interface ExecOptions {
  cwd?: string;
  /** Added to this process's environment (with NO_COLOR=1); a variable set to undefined is removed. */
  env?: NodeJS.ProcessEnv;
  /** SIGTERM the program after this long (its code is then null). */
  timeoutMs?: number;
}

/**
 * Run a program to its end with captured output; resolves whatever the exit code, rejects only when it cannot
 * be started. Example: `const r = await exec("git", ["status"], { cwd: dir })`.
 */
export async function exec(cmd: string, args: readonly string[], o: ExecOptions = {}): Promise<Run> {
  const child = spawn(cmd, args, {
    cwd: o.cwd,
    env: { ...process.env, NO_COLOR: "1", ...o.env },
    stdio: ["ignore", "pipe", "pipe"],
    timeout: o.timeoutMs,
  });
  let out = "";
  let err = "";
  // Decoded as a stream, so a character split across two chunks is not garbled.
  child.stdout.setEncoding("utf8").on("data", (s: string) => (out += s));
  child.stderr.setEncoding("utf8").on("data", (s: string) => (err += s));
  const [code] = (await once(child, "close")) as [number | null];
  return { code, out, err };
}

/** `node bin/quixlab.js ...args` as a user runs it, in `cwd` (default: the repository root). */
export function quixlab(args: readonly string[], o: ExecOptions = {}): Promise<Run> {
  return exec(process.execPath, [bin, ...args], { cwd: repoRoot, ...o });
}
