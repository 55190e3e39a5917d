/**
 * Follow a promoted app's Dockerfile by hand, without Docker: the build context is the app folder alone, so a
 * copy of it is all there is. Only the instructions the app template uses are understood (FROM, ENV, WORKDIR,
 * COPY, RUN, USER, CMD); anything else fails the test, so a template change cannot slip past unread.
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export interface FollowedDockerfile {
  /** Where the image's WORKDIR was built (a folder of its own). */
  readonly workdir: string;
  /** ENV instructions, in order. */
  readonly env: Record<string, string>;
  /** CMD as an argv. */
  readonly cmd: string[];
  /** The instructions as followed, one line each. */
  readonly steps: string[];
}

/** Each instruction of `text` as [keyword, rest], with line continuations joined and comments dropped. */
export function dockerInstructions(text: string): [string, string][] {
  const out: [string, string][] = [];
  for (const line of text.replace(/\\\n/g, " ").split("\n")) {
    const t = line.trim();
    if (!t || t.startsWith("#")) continue;
    const m = /^(\w+)\s+(.*)$/.exec(t);
    if (!m) throw new Error(`Dockerfile line not understood: ${t}`);
    out.push([m[1]!.toUpperCase(), m[2]!]);
  }
  return out;
}

/** Names in `dir` matching a one-level pattern with `*` and `?` (node 20 has no fs.globSync). */
function glob(dir: string, pattern: string): string[] {
  if (pattern.includes("/")) throw new Error(`COPY source ${pattern}: only files of the context's top folder are supported`);
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*").replace(/\?/g, "[^/]")}$`);
  return readdirSync(dir).filter((n) => re.test(n));
}

/**
 * Build `context`'s Dockerfile into `workdir` by hand: COPY takes files from the context by glob (a pattern
 * matching nothing is skipped, as Docker does when another source matches), RUN runs with sh in `workdir`.
 */
export function followDockerfile(context: string, workdir: string, env: NodeJS.ProcessEnv = process.env): FollowedDockerfile {
  mkdirSync(workdir, { recursive: true });
  const imageEnv: Record<string, string> = {};
  const steps: string[] = [];
  let cmd: string[] | undefined;
  for (const [kw, rest] of dockerInstructions(readFileSync(join(context, "Dockerfile"), "utf8"))) {
    steps.push(`${kw} ${rest}`);
    switch (kw) {
      case "FROM":
      case "WORKDIR":
      case "USER":
        break;
      case "ENV": {
        const m = /^(\w+)[= ](.*)$/.exec(rest);
        if (!m) throw new Error(`ENV not understood: ${rest}`);
        imageEnv[m[1]!] = m[2]!;
        break;
      }
      case "COPY": {
        const parts = rest.split(/\s+/);
        const dest = parts.pop();
        if (dest !== "./" && dest !== ".") throw new Error(`COPY to ${dest}: only the WORKDIR is supported`);
        let matched = 0;
        for (const pattern of parts) {
          const files = pattern === "." ? ["."] : glob(context, pattern);
          for (const f of files) cpSync(join(context, f), f === "." ? workdir : join(workdir, f), { recursive: true });
          matched += files.length;
        }
        if (matched === 0) throw new Error(`COPY ${rest}: no source file matched (docker build fails the same way)`);
        break;
      }
      case "RUN":
        execFileSync("sh", ["-c", rest], { cwd: workdir, env: { ...env, ...imageEnv }, stdio: ["ignore", "pipe", "pipe"] });
        break;
      case "CMD":
        cmd = JSON.parse(rest) as string[];
        break;
      default:
        throw new Error(`Dockerfile instruction ${kw} is not followed by this helper`);
    }
  }
  if (!cmd) throw new Error("the Dockerfile has no CMD");
  return { workdir, env: imageEnv, cmd, steps };
}
