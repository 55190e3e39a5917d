import { effectiveVariables } from "./inherit.js";
import type { AppDescriptor, Deployment } from "./types.js";

/**
 * The environment variables a deployment's step runs with: its effective variables (`effectiveVariables`: under
 * v2.0 the app.yaml defaults merged with the deployment's overrides), each under the variable's own name.
 * For a deployment that does not inherit (v1.0), quixlab also fills in the app.yaml defaults of variables the
 * deployment does not list, as it always has for local runs (Quix itself inherits nothing under 1.0).
 * Variables given only by a key (a `Secret`'s `secretKey`, a `ProjectVariable`'s `variableKey`) or a
 * `VariableGroup` are left out: the caller resolves them from wherever those values live.
 * @example deploymentEnvironment(d, app) // { input: "ticks", output: "candles-1m", grace_ms: "2000" }
 */
export function deploymentEnvironment(d: Deployment, app?: AppDescriptor): Record<string, string> {
  const env: Record<string, string> = {};
  const plain = (type: string) => type !== "ProjectVariable" && type !== "VariableGroup" && type !== "Secret";
  if (!d.inherits) for (const v of app?.variables ?? []) if (v.defaultValue !== undefined && plain(v.inputType)) env[v.name] = v.defaultValue;
  // A Secret's app.yaml default is the secret's key, not its value; a value the deployment writes is used.
  for (const v of effectiveVariables(d, app)) if (v.value !== undefined && (plain(v.inputType) || (v.inputType === "Secret" && v.source === "deployment"))) env[v.name] = v.value;
  return env;
}
