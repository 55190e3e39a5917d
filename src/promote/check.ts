/**
 * `promote --check` (for CI, like nbdev's sync check): does every promoted app's feature.ts still equal what
 * extracting its notebook gives now? The app's header names the notebook (relative to quix.yaml's folder) and
 * the export, so nothing else has to remember where an app came from.
 */
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { readDescriptor } from "../descriptor/index.js";
import { isQuixlabError } from "../errors/index.js";
import { type Notebook, readNotebook } from "../notebook/model.js";
import { compareVersions, quixlabOrigin, vendoredVersion } from "../packaging/index.js";
import { extractForPromote, promotedSource } from "./plan.js";

export type SyncStatus = "ok" | "stale";

export interface AppSync {
  readonly deployment: string;
  readonly application: string;
  /** `notebook#export` from the app's header. */
  readonly source: string;
  readonly status: SyncStatus;
  /** Why it is stale. */
  readonly detail?: string;
}

export interface SyncReport {
  readonly ok: boolean;
  /** Promoted apps (deployments whose feature.ts or model.ts promote wrote), in quix.yaml order. */
  readonly apps: readonly AppSync[];
  /** Deployments skipped because their folder holds no feature.ts or model.ts written by promote. */
  readonly skipped: readonly string[];
}

/** Compare a promoted feature.ts with what extracting the notebook its header names gives now. Pure. */
export function compareWithNotebook(featureCode: string, notebook: Notebook, file = "feature.ts"): { status: SyncStatus; detail?: string } {
  const src = promotedSource(featureCode);
  if (!src) return { status: "stale", detail: `${file} has no quixlab header` };
  let now: string;
  try {
    now = extractForPromote(notebook, src.notebook, src.exportName).code;
  } catch (e) {
    if (!isQuixlabError(e)) throw e;
    return { status: "stale", detail: `the notebook no longer yields the ${file === "model.ts" ? "model" : "feature"}: ${e.message}` };
  }
  if (now === featureCode) return { status: "ok" };
  const a = featureCode.split("\n");
  const b = now.split("\n");
  let line = 0;
  while (line < a.length && a[line] === b[line]) line++;
  return { status: "stale", detail: `${file} differs from the notebook's ${src.exportName} from line ${line + 1}` };
}

/**
 * Whether the quixlab an app's package.json vendors (`file:quixlab-<v>.tgz`) is older than `running`. Pure;
 * a registry range or an unreadable package.json is the user's business and passes.
 */
export function compareVendored(packageJson: string | undefined, running: string): { status: SyncStatus; detail?: string } {
  let spec: unknown;
  try {
    spec = packageJson === undefined ? undefined : (JSON.parse(packageJson) as { dependencies?: Record<string, unknown> }).dependencies?.quixlab;
  } catch {
    return { status: "ok" };
  }
  const vendored = typeof spec === "string" ? vendoredVersion(spec) : undefined;
  if (!vendored || compareVersions(vendored, running) >= 0) return { status: "ok" };
  return { status: "stale", detail: `it vendors quixlab ${vendored}, older than the running ${running}: promote it again to vendor ${running}` };
}

/**
 * Check every deployment of `descriptorFile` whose application folder holds a feature.ts (or, for a model, a
 * model.ts) written by promote: its code against the notebook, and its vendored quixlab against `running` (default: this quixlab).
 */
export async function checkPromoted(descriptorFile: string, running: string = quixlabOrigin().version): Promise<SyncReport> {
  const root = dirname(descriptorFile);
  const { value } = await readDescriptor(descriptorFile);
  const apps: AppSync[] = [];
  const skipped: string[] = [];
  for (const d of value.deployments) {
    const read = (f: string) => (d.application ? readFile(join(root, d.application, f), "utf8").catch(() => undefined) : Promise.resolve(undefined));
    const featureCode = await read("feature.ts");
    const file = featureCode === undefined ? "model.ts" : "feature.ts";
    const code = featureCode ?? (await read("model.ts"));
    const src = code === undefined ? undefined : promotedSource(code);
    if (!d.application || code === undefined || !src) {
      skipped.push(d.name);
      continue;
    }
    const app = { deployment: d.name, application: d.application, source: src.source };
    let nb: Notebook;
    try {
      nb = readNotebook(join(root, src.notebook));
    } catch (e) {
      if (!isQuixlabError(e)) throw e;
      apps.push({ ...app, status: "stale", detail: `cannot read notebook ${src.notebook}: ${e.message}` });
      continue;
    }
    const feature = compareWithNotebook(code, nb, file);
    const vendor = compareVendored(await readFile(join(root, d.application, "package.json"), "utf8").catch(() => undefined), running);
    apps.push({ ...app, ...(feature.status === "stale" ? feature : vendor) });
  }
  return { ok: apps.every((a) => a.status === "ok"), apps, skipped };
}
