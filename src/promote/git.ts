import { execFile } from "node:child_process";
import { relative, sep } from "node:path";
import { promisify } from "node:util";
import { EnvironmentError, InputError } from "../errors/index.js";

const run = promisify(execFile);

async function git(cwd: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await run("git", args, { cwd, maxBuffer: 16 * 1024 * 1024 });
    return stdout.trim();
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === "ENOENT") {
      throw new EnvironmentError("git is not installed", { remedy: "install git, or promote without --commit", cause: e });
    }
    const detail = (err.stderr ?? err.message).trim().split("\n").at(-1);
    throw new InputError(`git ${args[0]} failed: ${detail}`, { remedy: "fix the repository state (see git's message), or promote without --commit", cause: e });
  }
}

/**
 * Commit exactly `files` (absolute paths) with `message`: `git add` them, then `git commit --only`, so changes
 * the user had already staged for other files stay staged and out of this commit. Returns the new commit's hash.
 */
export async function commitFiles(cwd: string, files: readonly string[], message: string): Promise<string> {
  const top = await git(cwd, ["rev-parse", "--show-toplevel"]).catch((e) => {
    throw new InputError(`--commit needs a git repository, and ${cwd} is not inside one`, { remedy: "run 'git init' first, or promote without --commit", cause: e });
  });
  const paths = files.map((f) => relative(top, f).split(sep).join("/"));
  await git(top, ["add", "--", ...paths]);
  await git(top, ["commit", "--quiet", "--only", "-m", message, "--", ...paths]);
  return git(top, ["rev-parse", "HEAD"]);
}
