/**
 * The app folder's npm files when promote vendors quixlab: its package.json's quixlab line and its lockfile's
 * entry follow the tarball promote puts beside them. Pure.
 */
import { createHash } from "node:crypto";

/** A quixlab dependency promote manages: a tarball it vendored beside the app's package.json. */
const VENDORED = /^file:quixlab-[^/]+\.tgz$/;

/**
 * The app's own package.json with its quixlab dependency moved to `spec`, when promote manages that dependency
 * (a vendored `file:quixlab-*.tgz`) and it differs; undefined when there is nothing to change or it is the
 * user's (a registry range or another path stays as they wrote it).
 */
export function withQuixlabDependency(text: string, spec: string): string | undefined {
  let pkg: { dependencies?: Record<string, string> };
  try {
    pkg = JSON.parse(text);
  } catch {
    return undefined;
  }
  const now = pkg.dependencies?.quixlab;
  if (now === undefined || now === spec || !VENDORED.test(now) || !spec) return undefined;
  pkg.dependencies!.quixlab = spec;
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

/**
 * The app's package-lock.json (committed for `npm ci` in the image) with its vendored quixlab entry moved to
 * `vendor`: npm checks a file: tarball's integrity, so a re-vendored tarball with the old lock fails to install.
 * Undefined when the lock does not pin a vendored quixlab, or already pins this one.
 */
export function withVendoredLock(text: string, vendor: { readonly file: string; readonly bytes: Buffer }): string | undefined {
  let lock: { packages?: Record<string, { resolved?: string; integrity?: string; version?: string; dependencies?: Record<string, string> }> };
  try {
    lock = JSON.parse(text);
  } catch {
    return undefined;
  }
  const entry = lock.packages?.["node_modules/quixlab"];
  if (!entry || !VENDORED.test(entry.resolved ?? "")) return undefined;
  const spec = `file:${vendor.file}`;
  const integrity = `sha512-${createHash("sha512").update(vendor.bytes).digest("base64")}`;
  const version = /^quixlab-(.+)\.tgz$/.exec(vendor.file)?.[1] ?? entry.version;
  if (entry.resolved === spec && entry.integrity === integrity && entry.version === version) return undefined;
  Object.assign(entry, { resolved: spec, integrity, version });
  const root = lock.packages?.[""];
  if (root?.dependencies?.quixlab !== undefined) root.dependencies.quixlab = spec;
  return `${JSON.stringify(lock, null, 2)}\n`;
}
