/**
 * How `quixlab up` runs one deployment: as a Node process (a Node app with a `runEntryPoint`, the quick way), in a
 * container built from the app's Dockerfile, or not at all, with the reason. Pure: `load.ts` reads the files and
 * `up.ts` asks the engine; this only decides.
 *
 *   auto     Node apps as processes; every other app (Python, a Dockerfile that is not Node's, no runEntryPoint)
 *            in Docker when an engine answers, else skipped with the reason (the default)
 *   process  only Node processes; the others are skipped
 *   docker   every app with a Dockerfile in a container (an engine must answer)
 */
import { createHash } from "node:crypto";
import { extname } from "node:path";
import type { AppDescriptor, Deployment } from "../descriptor/types.js";

export const RUNTIMES = ["auto", "process", "docker"] as const;
export type Runtime = (typeof RUNTIMES)[number];

/** What load.ts found in an application folder besides its app.yaml. */
export interface AppFiles {
  /** The runEntryPoint exists as a file. */
  readonly entryExists: boolean;
  /** The Dockerfile app.yaml names (default `dockerfile`/`Dockerfile`), when it exists: its path and the image of its first FROM. */
  readonly dockerfile?: { readonly path: string; readonly from: string | undefined; readonly text: string };
}

/** An image to build before the step starts. */
export interface ImageBuild {
  /** `quixlab-local/<deployment>:<hash of the Dockerfile>`: rebuilt when the Dockerfile changes (the build cache does the rest). */
  readonly tag: string;
  readonly context: string;
  readonly dockerfile: string;
}

export type RunDecision =
  | { readonly how: "process" }
  | { readonly how: "docker"; readonly build?: ImageBuild; readonly image: string }
  | { readonly how: "skip"; readonly reason: string };

const NODE_LANGUAGES = new Set(["nodejs", "node", "typescript", "javascript", "ts", "js"]);
const NODE_ENTRY = new Set([".ts", ".mts", ".cts", ".js", ".mjs", ".cjs"]);
const NO_ENGINE = "no Docker engine answers (start dockerd, or point DOCKER_HOST at one)";

/** Whether an app is a Node app quixlab can run as a process: a Node language (or none) and a JS/TS entry point. */
export function isNodeApp(app: AppDescriptor): boolean {
  const lang = app.language?.trim().toLowerCase();
  return (!lang || NODE_LANGUAGES.has(lang)) && !!app.runEntryPoint && NODE_ENTRY.has(extname(app.runEntryPoint).toLowerCase());
}

/** A Dockerfile whose base image is Node's (so a Node app's container is what its process run approximates). */
function nodeBase(from: string | undefined): boolean {
  return !!from && /(^|\/)node(:|$)/.test(from);
}

/** What kind of app it is, for reasons: "a python app (runEntryPoint main.py)". */
function describeApp(app: AppDescriptor): string {
  const lang = app.language?.trim() || "an";
  const entry = app.runEntryPoint ? ` (runEntryPoint ${app.runEntryPoint})` : " (no runEntryPoint)";
  return `${lang === "an" ? "an" : /^[aeiou]/i.test(lang) ? `an ${lang}` : `a ${lang}`} app${entry}`;
}

export interface DecideInput {
  readonly runtime: Runtime;
  /** A Docker engine answers. */
  readonly docker: boolean;
  /** Images the engine has, for deployments that name a prebuilt `image` (undefined: not asked, no engine). */
  readonly hasImage?: (image: string) => boolean;
}

/** How to run `d` (whose desiredStatus/disabled were already checked), given its app.yaml and folder. */
export function decideRun(d: Deployment, app: AppDescriptor | undefined, files: AppFiles | undefined, appDir: string | undefined, o: DecideInput): RunDecision {
  if (d.deploymentType === "Managed") {
    return { how: "skip", reason: "a Managed deployment: Quix Cloud runs it from its own service image, which does not exist outside Quix" };
  }
  if (!d.application || !app || !appDir) {
    if (!d.image) {
      const item = d.extra.libraryItemId;
      return { how: "skip", reason: item === undefined ? "it names neither an application folder nor an image" : `a Quix library item (libraryItemId ${String(item)}): Quix builds it from its library, which is not here` };
    }
    if (o.runtime === "process") return { how: "skip", reason: `it runs the prebuilt image ${d.image}, and --runtime process runs no containers` };
    if (!o.docker) return { how: "skip", reason: `it runs the prebuilt image ${d.image}, and ${NO_ENGINE}` };
    if (o.hasImage && !o.hasImage(d.image)) return { how: "skip", reason: `it runs the prebuilt image ${d.image}, which the local Docker engine does not have (docker pull or docker build it first)` };
    return { how: "docker", image: d.image };
  }
  const node = isNodeApp(app) && files?.entryExists === true;
  if (o.runtime !== "docker" && node && (o.runtime === "process" || !files?.dockerfile || nodeBase(files.dockerfile.from) || !o.docker)) {
    return { how: "process" };
  }
  if (o.runtime === "process") {
    return { how: "skip", reason: `${describeApp(app)} runs only in its Docker image, and --runtime process runs no containers` };
  }
  const dockerfile = files?.dockerfile;
  if (!dockerfile) {
    const named = app.dockerfile || "dockerfile";
    return { how: "skip", reason: `${describeApp(app)} runs in its Docker image, but ${named} is not in ${d.application}` };
  }
  if (!o.docker) {
    const base = dockerfile.from ? `; its Dockerfile builds FROM ${dockerfile.from}` : "";
    return { how: "skip", reason: `${describeApp(app)} runs only in its Docker image${base}, and ${NO_ENGINE}` };
  }
  const hash = createHash("sha256").update(dockerfile.text).digest("hex").slice(0, 12);
  const tag = `quixlab-local/${d.name.toLowerCase().replace(/[^a-z0-9._-]/g, "-")}:${hash}`;
  return { how: "docker", image: tag, build: { tag, context: appDir, dockerfile: dockerfile.path } };
}

/**
 * The image the container runs: the last stage's FROM (`FROM node:20 AS build` … `FROM python:3.11-slim` →
 * `python:3.11-slim`), flags skipped, `${ARG}` filled from ARG defaults before the first FROM; a stage that builds
 * on an earlier one (`FROM build`) stands for that one's base.
 */
export function dockerfileBase(text: string): string | undefined {
  const args = new Map<string, string>();
  const stages = new Map<string, string>();
  let base: string | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    const arg = /^ARG\s+([A-Za-z_][A-Za-z0-9_]*)=(\S+)/i.exec(line);
    if (arg && base === undefined) args.set(arg[1]!, arg[2]!.replace(/^["']|["']$/g, ""));
    const m = /^FROM\s+(.+)$/i.exec(line);
    if (!m) continue;
    const words = m[1]!.split(/\s+/).filter((w) => !w.startsWith("--"));
    const image = words[0]?.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (whole, name: string) => args.get(name) ?? whole);
    base = image && stages.has(image) ? stages.get(image) : image;
    if (words[1]?.toLowerCase() === "as" && words[2] && base) stages.set(words[2], base);
  }
  return base;
}

/**
 * argv of one replica's container: removed when it ends, on the host's network (the broker and Redis are on
 * the loopback), labelled with the pipeline's directory so `down` can find leftovers, and given exactly the
 * step's variables (`-e NAME` takes each value from the docker client's environment, which the supervisor sets).
 */
export function dockerRunCommand(image: string, envNames: readonly string[], label: string, docker = "docker"): string[] {
  const names = [...new Set([...envNames, "QUIXLAB_REPLICA", "QUIXLAB_REPLICA_ID"])].sort();
  return [docker, "run", "--rm", "--init", "--network", "host", "--label", `quixlab.pipeline=${label}`, ...names.flatMap((n) => ["-e", n]), image];
}

/** The label value of a pipeline directory (short and stable). */
export function pipelineLabel(dir: string): string {
  return createHash("sha256").update(dir).digest("hex").slice(0, 16);
}
