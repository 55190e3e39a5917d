/**
 * `quixlab add source` as a function: the source's app folder and its quix.yaml entry, written together (all or
 * nothing: a quix.yaml edit that fails puts the app files back), quix.yaml edited under its lock, validated
 * before it is written, atomically. A notebook or a test can call it as the CLI does.
 */
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import { editDescriptor } from "../descriptor/index.js";
import { InputError } from "../errors/index.js";
import { quixlabDependency } from "../packaging/index.js";
import type { SourceType } from "../source/config.js";
import { packageRoot } from "../util/paths.js";
import { writeFileSet } from "./apply.js";
import { cleanHead } from "./git.js";
import { UNCOMMITTED } from "./plan.js";
import { planSourceApp, SOURCE_MAIN_HEADER, type SourceEditOutcome, sourceEdit, ticksName } from "./source-app.js";
import { readTemplate } from "./template.js";

export interface AddSourceOptions {
  readonly cwd: string;
  readonly type: SourceType;
  readonly name: string;
  /** The project folder (default cwd): quix.yaml is there, and so is the app folder. */
  readonly dir?: string;
  /** Default "ticks". */
  readonly topic?: string;
  readonly products?: readonly string[];
  readonly endpoint?: string;
  /** replay: the recording (relative to cwd), copied into the app folder. */
  readonly ticks?: string;
  readonly speed?: string;
  readonly loop?: boolean;
  log?(line: string): void;
}

export interface AddSourceResult {
  /** The app folder, relative to the project. */
  readonly appDir: string;
  /** Files written, relative to the project (quix.yaml last, when it changed). */
  readonly written: readonly string[];
  readonly version: string;
  readonly deploymentType: "Service" | "Job";
  readonly outcome: SourceEditOutcome;
}

const posix = (p: string) => p.split(sep).join("/");

/** Versions the app's package.json pins, from quixlab's own package.json. */
export function sourceAppVersions(quixlab: string): Record<string, string> {
  const pkg = JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as Record<string, Record<string, string> | undefined>;
  const all = { ...pkg.devDependencies, ...pkg.peerDependencies, ...pkg.dependencies };
  return { quixlab, tsx: all.tsx ?? "^4.20.0", typescript: all.typescript ?? "~5.8.3", "@types/node": all["@types/node"] ?? "^20.19.0" };
}

async function readIf(path: string): Promise<Buffer | undefined> {
  return readFile(path).catch((e: NodeJS.ErrnoException) => {
    if (e.code === "ENOENT" || e.code === "ENOTDIR") return undefined;
    throw new InputError(`cannot read ${path} (${e.code})`, { remedy: "check its permissions", cause: e, context: { file: path } });
  });
}

/**
 * Write the app folder `<dir>/<name>/` and the deployment `name` in `<dir>/quix.yaml` (created when missing).
 * A folder that holds something other than a source app this wrote is refused.
 * @example await addSource({ cwd, type: "coinbase", name: "coinbase", products: ["BTC-USD", "ETH-USD"] })
 */
export async function addSource(o: AddSourceOptions): Promise<AddSourceResult> {
  const root = resolve(o.cwd, o.dir ?? ".");
  const descriptorFile = join(root, "quix.yaml");
  const appAbs = join(root, o.name);
  const appDir = posix(relative(root, appAbs));
  if (appDir.startsWith("..") || isAbsolute(appDir) || appDir.includes("/")) {
    throw new InputError(`bad --name '${o.name}'`, { remedy: "give a deployment name (letters, digits, '.', '_' or '-'), not a path", context: { field: "--name" } });
  }
  const template = readTemplate("source");
  const existing: Record<string, string | Buffer> = {};
  for (const name of ["main.ts", "package.json", "package-lock.json"]) {
    const b = await readIf(join(appAbs, name));
    if (b) existing[name] = b.toString("utf8");
  }
  const present = Object.keys(existing);
  const main = existing["main.ts"];
  if (present.length > 0 && !(typeof main === "string" && main.startsWith(SOURCE_MAIN_HEADER))) {
    throw new InputError(`the folder ${appDir}/ already holds files quixlab add source did not write (${present.join(", ")})`, {
      remedy: `pass another --name, or delete ${appDir}/ to replace it`,
      context: { file: appDir },
    });
  }
  let ticks: { name: string; bytes: Buffer } | undefined;
  if (o.type === "replay") {
    if (!o.ticks) throw new InputError("missing --ticks", { remedy: "pass the recording to replay, e.g. --ticks data/ticks.jsonl", context: { field: "--ticks" } });
    const file = resolve(o.cwd, o.ticks);
    const bytes = await readIf(file);
    if (!bytes) throw new InputError(`${o.ticks} not found`, { remedy: "pass an existing recording (quixlab record makes one)", context: { field: "--ticks", file: o.ticks } });
    ticks = { name: ticksName(file), bytes };
  }
  const dependency = await quixlabDependency({ dir: "", log: o.log });
  const vendored = dependency.vendored;
  const topic = o.topic ?? "ticks";
  const app = planSourceApp({
    type: o.type,
    deployment: o.name,
    topic,
    products: o.products,
    endpoint: o.endpoint,
    ticks,
    speed: o.speed,
    loop: o.loop,
    template,
    versions: sourceAppVersions(dependency.spec),
    vendor: vendored ? { file: vendored.file, bytes: vendored.tarball.bytes } : undefined,
    existingFiles: existing,
  });
  const version = (await cleanHead(root, descriptorFile)) ?? UNCOMMITTED;
  let outcome!: SourceEditOutcome;
  let changed = false;
  await writeFileSet(
    [...app.files].map(([name, content]) => ({ path: join(appAbs, name), content })),
    async () => {
      const r = await editDescriptor(descriptorFile, (doc) => {
        outcome = sourceEdit(doc, app, { deployment: o.name, appDir, topic, version });
      }, { create: true });
      changed = r.changed;
    },
  );
  const written = [...[...app.files.keys()].map((n) => `${appDir}/${n}`).sort(), ...(changed ? [posix(relative(root, descriptorFile))] : [])];
  return { appDir, written, version, deploymentType: app.deploymentType, outcome };
}

