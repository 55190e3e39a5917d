/**
 * Where the running quixlab came from, which decides how a project or an app folder depends on it: a registry
 * install can be named by version (`^0.1.0`); a checkout or a vendored tarball cannot, since no registry serves
 * quixlab, so its tarball travels with the project.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { packageRoot } from "../util/paths.js";

export type OriginKind = "registry" | "checkout" | "tarball";

export interface QuixlabOrigin {
  readonly kind: OriginKind;
  readonly version: string;
  /** The package folder of the running quixlab. */
  readonly root: string;
  /** Why this kind (for messages and --json). */
  readonly reason: string;
}

/** What npm's lockfile says of one installed package (`packages["node_modules/quixlab"]`). */
export interface LockEntry {
  readonly resolved?: string;
  readonly integrity?: string;
  readonly link?: boolean;
  readonly version?: string;
}

/**
 * Decide the origin from facts read off disk. Pure.
 * - not under a `node_modules` folder: a checkout (the git clone, or a folder linked with `npm link`/`file:`);
 * - installed, with a lockfile entry from a `file:` tarball or a link: a tarball;
 * - installed, with an entry that names a registry address or carries only an integrity (npm leaves
 *   `resolved` out with omit-lockfile-registry-resolved): a registry;
 * - installed with no entry at all: a tarball, the safe guess (vendoring always installs; a wrong `^version`
 *   never does).
 */
export function originOf(facts: { root: string; version: string; installed: boolean; entry?: LockEntry }): QuixlabOrigin {
  const { root, version } = facts;
  if (!facts.installed) return { kind: "checkout", version, root, reason: `running from the folder ${root}, not an install` };
  const e = facts.entry;
  if (!e) return { kind: "tarball", version, root, reason: "installed, and no lockfile says from where" };
  if (e.link || e.resolved?.startsWith("file:")) return { kind: "tarball", version, root, reason: `installed from ${e.resolved ?? "a linked folder"}` };
  if (/^https?:/.test(e.resolved ?? "") || (e.resolved === undefined && e.integrity)) {
    return { kind: "registry", version, root, reason: "installed from a package registry" };
  }
  return { kind: "tarball", version, root, reason: `installed from ${e.resolved}` };
}

/** The lockfile entry npm wrote for the package installed at `root` (hidden lockfile first, then the project's). */
export function lockEntryFor(root: string): LockEntry | undefined {
  const parts = root.split(sep);
  const at = parts.lastIndexOf("node_modules");
  if (at < 0) return undefined;
  const project = parts.slice(0, at).join(sep) || sep;
  const key = relative(project, root).split(sep).join("/");
  for (const file of [join(project, "node_modules", ".package-lock.json"), join(project, "package-lock.json")]) {
    if (!existsSync(file)) continue;
    try {
      const lock = JSON.parse(readFileSync(file, "utf8")) as { packages?: Record<string, LockEntry> };
      const entry = lock.packages?.[key];
      if (entry) return entry;
    } catch {
      // An unreadable lockfile says nothing; the next one may.
    }
  }
  return undefined;
}

/** The origin of the quixlab running this code. */
export function quixlabOrigin(root: string = packageRoot()): QuixlabOrigin {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
  const installed = root.split(sep).includes("node_modules") && !existsSync(join(root, ".git"));
  return originOf({ root, version: pkg.version, installed, entry: installed ? lockEntryFor(root) : undefined });
}

/** `quixlab-<version>.tgz`, the name `npm pack` gives. */
export function tarballName(version: string): string {
  return `quixlab-${version}.tgz`;
}

/** The version in a vendored tarball's name (`file:vendor/quixlab-0.1.0.tgz` → `0.1.0`), or undefined. */
export function vendoredVersion(spec: string): string | undefined {
  return /^file:(?:.*\/)?quixlab-(\d+\.\d+\.\d+(?:-[\w.]+)?)\.tgz$/.exec(spec)?.[1];
}

/** Compare two semver versions (prereleases before their release); negative when a < b. */
export function compareVersions(a: string, b: string): number {
  const split = (v: string) => {
    const [core = "", pre] = v.split("-", 2);
    return { nums: core.split(".").map((n) => Number(n) || 0), pre };
  };
  const x = split(a);
  const y = split(b);
  for (let i = 0; i < 3; i++) {
    const d = (x.nums[i] ?? 0) - (y.nums[i] ?? 0);
    if (d !== 0) return d;
  }
  if (x.pre === y.pre) return 0;
  if (x.pre === undefined) return 1;
  if (y.pre === undefined) return -1;
  return x.pre < y.pre ? -1 : 1;
}

