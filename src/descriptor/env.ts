import { effectiveVariables } from "./inherit.js";
import type { AppDescriptor, Deployment } from "./types.js";

/**
 * The environment variables a deployment's step runs with: its effective variables (`effectiveVariables`: under
 * v2.0 the app.yaml defaults merged with the deployment's overrides; under v1.0 the deployment's own entries),
 * each under the variable's own name. Variables given only by a key (a `Secret`'s `secretKey`, a
 * `ProjectVariable`'s `variableKey`) or a `VariableGroup` are left out: the caller resolves them from wherever
 * those values live.
 * @example deploymentEnvironment(d, app) // { input: "ticks", output: "candles-1m", grace_ms: "2000" }
 */
export function deploymentEnvironment(d: Deployment, app?: AppDescriptor): Record<string, string> {
  const env: Record<string, string> = {};
  for (const v of effectiveVariables(d, app)) {
    if (v.value !== undefined && v.inputType !== "ProjectVariable" && v.inputType !== "VariableGroup") env[v.name] = v.value;
  }
  return env;
}
