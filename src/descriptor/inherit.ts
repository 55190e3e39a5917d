/**
 * Quix's variable inheritance (quix-docs projects/yaml-2-0.md): from `metadata.version: 2.0`, a deployment that
 * names both `application` and `version` and is not `Managed` inherits every variable of its app.yaml; its own
 * entries are overrides, matched to the app's variables by name case-insensitively, each property it sets
 * winning over the app's. Under 1.0 (or a version that does not read as a number) nothing is inherited.
 */
import type { AppDescriptor, AppVariable, Deployment, EffectiveVariable, Variable } from "./types.js";

/** `metadata.version` as a number (`"2.0"` → 2); 1 when it does not read as one, as Quix treats it. */
export function descriptorVersion(version: string): number {
  const n = Number(version.trim());
  return Number.isFinite(n) && version.trim() !== "" ? n : 1;
}

/** True when the deployment inherits its variables from app.yaml (v2.0, application + version, not Managed). */
export function inheritsVariables(d: Pick<Deployment, "application" | "version" | "deploymentType">, version: string): boolean {
  return descriptorVersion(version) >= 2 && d.deploymentType !== "Managed" && d.application !== undefined && d.version !== undefined;
}

/** The app.yaml variable a deployment entry overrides (names match case-insensitively). */
export function matchAppVariable(app: AppDescriptor | undefined, name: string): AppVariable | undefined {
  const key = name.toLowerCase();
  return app?.variables.find((v) => v.name.toLowerCase() === key);
}

/**
 * The variables a deployment runs with, in app.yaml order then the deployment's extra ones. For an inheriting
 * deployment (`d.inherits`, set by the loader from `metadata.version`), each app.yaml variable merged with its
 * override; otherwise the deployment's own entries as written (v1.0 repeats every variable in full). An app.yaml `defaultValue` is the variable's value,
 * or for a `ProjectVariable` the project variable's key (`variableKey`), or for a legacy `Secret` its `secretKey`.
 * @example effectiveVariables(d, app) // [{ name: "input", inputType: "InputTopic", value: "orders", ... }]
 */
export function effectiveVariables(d: Deployment, app: AppDescriptor | undefined): EffectiveVariable[] {
  const own = (v: Variable): EffectiveVariable => ({ ...v, inputType: v.inputType ?? "FreeText", required: v.required ?? false, source: hasValue(v) ? "deployment" : "none" });
  if (!app || !d.inherits) return d.variables.map(own);
  const used = new Set<Variable>();
  const out: EffectiveVariable[] = app.variables.map((a) => {
    const o = d.variables.find((v) => v.name.toLowerCase() === a.name.toLowerCase());
    if (o) used.add(o);
    return merge(a, o);
  });
  for (const v of d.variables) if (!used.has(v)) out.push(own(v));
  return out;
}

function merge(a: AppVariable, o: Variable | undefined): EffectiveVariable {
  const inputType = o?.inputType ?? a.inputType;
  const fromApp: Pick<Variable, "value" | "variableKey" | "secretKey"> =
    inputType === "ProjectVariable"
      ? pick({ variableKey: a.defaultValue })
      : inputType === "Secret"
        ? pick({ secretKey: a.secretKey ?? a.defaultValue })
        : pick({ value: a.defaultValue, secretKey: a.secretKey });
  const overrides = o !== undefined && hasValue(o);
  const valueOrKey = overrides ? pick({ value: o.value, variableKey: o.variableKey, secretKey: o.secretKey }) : fromApp;
  return {
    name: a.name,
    inputType,
    ...pick({
      description: o?.description ?? a.description,
      secret: o?.secret ?? a.secret,
      multiline: o?.multiline ?? a.multiline,
      variableGroupId: o?.variableGroupId ?? a.variableGroupId,
      variableGroupName: o?.variableGroupName ?? a.variableGroupName,
      variableGroupDescription: o?.variableGroupDescription ?? a.variableGroupDescription,
    }),
    required: o?.required ?? a.required,
    ...valueOrKey,
    source: overrides ? "deployment" : Object.keys(fromApp).length > 0 ? "app" : "none",
  };
}

function hasValue(v: Variable): boolean {
  return v.value !== undefined || v.variableKey !== undefined || v.secretKey !== undefined;
}

/** The object without its undefined fields (the typed view never holds `key: undefined`). */
function pick<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
