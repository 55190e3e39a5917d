import type { AppDescriptor, Deployment } from "./types.js";

/**
 * The environment variables a deployment's step runs with: its app.yaml defaults, overridden by the
 * deployment's values, each under the variable's own name. Secrets given only as `secretKey` are left out
 * (the caller resolves them from wherever secrets live).
 * @example deploymentEnvironment(d, app) // { input: "ticks", output: "candles-1m", grace_ms: "2000" }
 */
export function deploymentEnvironment(d: Deployment, app?: AppDescriptor): Record<string, string> {
  const env: Record<string, string> = {};
  for (const v of app?.variables ?? []) if (v.defaultValue !== undefined) env[v.name] = v.defaultValue;
  for (const v of d.variables) if (v.value !== undefined) env[v.name] = v.value;
  return env;
}
