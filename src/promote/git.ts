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

/** The top folder of the git work tree holding `cwd`, or undefined outside one (or without git). */
async function topLevel(cwd: string): Promise<string | undefined> {
  return git(cwd, ["rev-parse", "--show-toplevel"]).catch(() => undefined);
}

/**
 * HEAD's full SHA when `cwd` is in a git work tree with a commit and nothing uncommitted, and `tracked` (if
 * given) is in it: a project in an ignored folder of another repository has a clean tree, but HEAD does not
 * hold it. Else undefined.
 */
export async function cleanHead(cwd: string, tracked?: string): Promise<string | undefined> {
  const top = await topLevel(cwd);
  if (!top) return undefined;
  const head = await git(top, ["rev-parse", "--verify", "--quiet", "HEAD"]).catch(() => undefined);
  if (!head) return undefined;
  const status = await git(top, ["status", "--porcelain", "--untracked-files=normal"]);
  if (status !== "") return undefined;
  if (tracked && !(await git(top, ["ls-files", "--error-unmatch", "--", relative(top, tracked)]).then(() => true, () => false))) return undefined;
  return head;
}

/** `<deployment>-v<N>` for the first N above every existing tag of that form (and above `atLeast`). */
export function nextDeploymentTag(deployment: string, tags: readonly string[], atLeast = 0): string {
  const prefix = `${deployment}-v`;
  let max = atLeast;
  for (const t of tags) {
    if (!t.startsWith(prefix)) continue;
    const n = /^\d+$/.test(t.slice(prefix.length)) ? Number(t.slice(prefix.length)) : 0;
    if (n > max) max = n;
  }
  return `${prefix}${max + 1}`;
}

/** The tag `promote --commit` will create for `deployment` in the repository holding `cwd`. */
export async function plannedTag(cwd: string, deployment: string, currentVersion?: string): Promise<string> {
  const top = await topLevel(cwd);
  if (!top) throw new InputError(`--commit needs a git repository, and ${cwd} is not inside one`, { remedy: "run 'git init' first, or promote without --commit" });
  const tags = (await git(top, ["tag", "--list", `${deployment}-v*`])).split("\n").filter(Boolean);
  const m = currentVersion && new RegExp(`^${deployment.replace(/[.]/g, "\\.")}-v(\\d+)$`).exec(currentVersion);
  return nextDeploymentTag(deployment, tags, m ? Number(m[1]) : 0);
}

/** Create the lightweight tag `name` at `commit`; refuses to move an existing tag. */
export async function createTag(cwd: string, name: string, commit: string): Promise<void> {
  const top = (await topLevel(cwd)) ?? cwd;
  await git(top, ["tag", name, commit]);
}
