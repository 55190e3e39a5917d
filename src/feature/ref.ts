import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { InputError } from "../errors/index.js";
import { packageRoot } from "../util/paths.js";
import { isFeature } from "./define.js";
import type { Feature } from "./types.js";

/** A reference with its module path made absolute, so it names the same feature from any directory. */
export function resolveFeatureRef(ref: string, cwd: string): string {
  const hash = ref.lastIndexOf("#");
  return hash < 0 ? resolve(cwd, ref) : `${resolve(cwd, ref.slice(0, hash))}${ref.slice(hash)}`;
}

/** quixlab's own modules that moved, by their old path in the package (DESIGN.md still names the first). */
const MOVED: Readonly<Record<string, string>> = { "src/features/ohlc.ts": "src/feature/shipped/ohlc.ts" };

/** A missing module path that is one of quixlab's moved modules: where it lives now. */
function movedTo(path: string): string | undefined {
  const root = packageRoot();
  for (const [old, now] of Object.entries(MOVED)) {
    if (path === join(root, old) && existsSync(join(root, now))) return join(root, now);
  }
  return undefined;
}

/**
 * Load the feature a reference names: `path/to/module.ts#exportName` (export defaults to `default`), resolved from
 * `cwd`. Without `#`, the module's default export must be a feature. TypeScript modules load because
 * bin/quixlab.js registers tsx. `#exportName.input` names the feature that export reads (its `input`), as often as
 * written: how the replay of a chain tells each step which feature of the chain it runs.
 * @example await loadFeatureRef("src/feature/shipped/ohlc.ts#ohlc1m", process.cwd())
 * @example await loadFeatureRef("src/feature/shipped/indicators.ts#rsi14.input", process.cwd()) // ohlc1m
 */
export async function loadFeatureRef(ref: string, cwd: string): Promise<Feature> {
  const hash = ref.lastIndexOf("#");
  if (hash === 0 || !ref.trim()) {
    throw new InputError(`bad feature reference '${ref}'`, { remedy: "write path/to/module.ts#exportName", context: { field: "ref" } });
  }
  const file = hash < 0 ? ref : ref.slice(0, hash);
  const [name = "default", ...links] = (hash < 0 ? "default" : ref.slice(hash + 1) || "default").split(".");
  const asWritten = resolve(cwd, file);
  const path = existsSync(asWritten) ? asWritten : (movedTo(asWritten) ?? asWritten);
  if (!existsSync(path)) {
    throw new InputError(`feature module not found (from reference '${ref}')`, {
      remedy: "write the reference as path/to/module.ts#exportName, relative to the current directory",
      context: { file: path, field: "ref" },
    });
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (e) {
    throw new InputError(`cannot load the feature module: ${(e as Error).message.split("\n")[0]}`, {
      remedy: "fix the module so it imports cleanly (run it with `npx tsx` to see the full error)",
      cause: e,
      context: { file: path },
    });
  }
  const features = Object.keys(mod).filter((k) => isFeature(mod[k]));
  const listed = features.length ? `its features: ${features.map((k) => `${file}#${k}`).join(", ")}` : "it exports no features";
  if (hash < 0 && !isFeature(mod.default)) {
    throw new InputError(`reference '${ref}' has no '#exportName' and the module's default export is not a feature`, {
      remedy: `use one of ${listed}`,
      context: { file: path, field: "ref" },
    });
  }
  if (!(name in mod)) {
    throw new InputError(`the module has no export named '${name}'`, { remedy: `use one of ${listed}`, context: { file: path, field: name } });
  }
  const exported = mod[name];
  if (!isFeature(exported)) {
    throw new InputError(`export '${name}' is not a feature (make it with defineFeature)`, {
      remedy: `use one of ${listed}`,
      context: { file: path, field: name },
    });
  }
  let value: Feature = exported;
  for (const link of links) {
    const next: unknown = link === "input" ? value.input : undefined;
    if (!isFeature(next)) {
      throw new InputError(`reference '${ref}': '${link}' names no input feature of '${value.name}'`, {
        remedy: "follow a feature's input with '.input' (e.g. #rsi14.input), only as far as the chain goes",
        context: { file: path, field: link },
      });
    }
    value = next;
  }
  return value;
}
