import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../errors/index.js";
import { loadFeatureRef } from "../feature/ref.js";
import type { Feature } from "../feature/types.js";
import { upstreamOutput } from "./deployment.js";
import { loadValid, promotedSource } from "./plan.js";

/**
 * A feature over another feature reads what the upstream's deployment writes: refuse to promote it when that
 * deployment runs another definition of the upstream feature (another version: a changed grace, say), since the
 * replay checks the chain as the notebook defines it, not as it is deployed. Checked against the feature.ts promote
 * wrote in the deployment's app folder; a deployment quixlab did not write is not checked (`log` says so).
 */
export async function checkUpstream(root: string, descriptorText: string | null, descriptorFile: string, feature: Feature, log: (line: string) => void): Promise<void> {
  if (!feature.input || descriptorText === null) return;
  await checkDeployed(root, descriptorText, descriptorFile, feature.input, `'${feature.name}'`, log);
}

/**
 * The deployment that runs feature `up` runs the same definition of it (same version) as `reader` (a feature over
 * it, or a model reading it from the store) was replayed with. Nothing to check when no deployment runs it.
 */
export async function checkDeployed(root: string, descriptorText: string, descriptorFile: string, up: Feature, reader: string, log: (line: string) => void): Promise<void> {
  const found = upstreamOutput(loadValid(descriptorText, descriptorFile), up.name);
  if (!found?.application) return;
  const file = join(root, found.application, "feature.ts");
  const source = existsSync(file) ? promotedSource(readFileSync(file, "utf8")) : undefined;
  if (!source) {
    log(`promote: deployment ${found.deployment} has no feature.ts written by promote; its definition of '${up.name}' is not checked`);
    return;
  }
  const running = await loadFeatureRef(`${file}#${source.exportName}`, root);
  if (running.version === up.version) return;
  throw new InputError(
    `${reader} reads '${up.name}' version ${up.version}, but deployment ${found.deployment} runs '${running.name}' version ${running.version} (from ${source.source}): another definition`,
    {
      remedy: `define ${reader} over the deployed feature (import it from ${source.notebook}'s definition), or promote ${source.source} again from the same definition`,
      context: { file: descriptorFile, field: "input" },
    },
  );
}
