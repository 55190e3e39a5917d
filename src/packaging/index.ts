/**
 * How a project or an app folder depends on quixlab without a registry serving it (DESIGN.md, "Packaging"):
 * `^<version>` when the running quixlab came from a registry, else its tarball vendored beside the files.
 */
import type { Log } from "../infra/process.js";
import { type QuixlabOrigin, quixlabOrigin, tarballName } from "./origin.js";
import { packQuixlab, type Tarball } from "./pack.js";

export { compareVersions, type QuixlabOrigin, originOf, quixlabOrigin, tarballName, vendoredVersion } from "./origin.js";
export { distStale, packQuixlab, type Tarball } from "./pack.js";

/** The dependency line to write, and the tarball to place at `file` (relative to the package.json) if vendored. */
export interface QuixlabDependency {
  readonly origin: QuixlabOrigin;
  /** The package.json value: `^0.1.0` or `file:vendor/quixlab-0.1.0.tgz`. */
  readonly spec: string;
  readonly vendored?: { readonly file: string; readonly tarball: Tarball };
}

/**
 * Decide and, when vendoring, pack. `dir` is where the tarball goes relative to the package.json ("vendor"
 * for a project, "" for an app folder, which is the Docker build context on its own).
 * @example const dep = await quixlabDependency({ dir: "vendor" }); pkg.dependencies.quixlab = dep.spec
 */
export async function quixlabDependency(opts: { dir: string; origin?: QuixlabOrigin; log?: Log; env?: NodeJS.ProcessEnv }): Promise<QuixlabDependency> {
  const origin = opts.origin ?? quixlabOrigin();
  if (origin.kind === "registry") return { origin, spec: `^${origin.version}` };
  const file = opts.dir ? `${opts.dir.replace(/\/+$/, "")}/${tarballName(origin.version)}` : tarballName(origin.version);
  const tarball = await packQuixlab(origin, { log: opts.log, env: opts.env });
  return { origin, spec: `file:${file}`, vendored: { file, tarball } };
}
