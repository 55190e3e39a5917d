/**
 * Writing a deployment's variables in the form its file uses. Under v1.0 every variable is written in full
 * (name, inputType, description, required, value). Under v2.0, for a deployment that inherits from app.yaml,
 * only overrides are written: `name` + `value`, and none at all for a value equal to the app.yaml default
 * (what Quix itself stores when it saves). Scalars holding `{{NAME}}` placeholders are never overwritten.
 */
import { type Document, isMap, isScalar, isSeq, type Node, type Scalar, type YAMLMap, type YAMLSeq } from "yaml";
import { descriptorVersion, matchAppVariable } from "./inherit.js";
import type { AppDescriptor, InputType } from "./types.js";

export interface VariableSpec {
  readonly name: string;
  readonly inputType: InputType;
  readonly description?: string;
  readonly required?: boolean;
  readonly value?: string;
}

/** How a deployment's variables are written: in full (v1.0) or as overrides of `app` (v2.0). */
export interface VariableForm {
  readonly overrides: boolean;
  readonly app?: AppDescriptor;
}

/** The document's `metadata.version` as a number (1 when absent or unreadable). */
export function documentVersion(doc: Document): number {
  const v = doc.getIn(["metadata", "version"], true) as Node | undefined;
  return isScalar(v) ? descriptorVersion(v.source ?? String(v.value)) : 1;
}

export function fullVariable(v: VariableSpec): Record<string, unknown> {
  return {
    name: v.name,
    inputType: v.inputType,
    description: v.description ?? "",
    required: v.required ?? false,
    ...(v.value !== undefined && { value: v.value }),
  };
}

/** The entries a new deployment gets: all of them in full, or only the overrides that differ from app.yaml. */
export function newVariables(specs: readonly VariableSpec[], form: VariableForm): Record<string, unknown>[] {
  if (!form.overrides) return specs.map(fullVariable);
  return specs.filter((v) => v.value !== undefined && !isDefault(v, form.app)).map((v) => ({ name: v.name, value: v.value }));
}

/** Bring the deployment's `variables:` in line with `specs`; true when something changed. */
export function upsertVariables(doc: Document, dep: YAMLMap, specs: readonly VariableSpec[], prune: boolean, form: VariableForm): boolean {
  const node = dep.get("variables", true);
  if (!isSeq(node)) {
    const fresh = newVariables(specs, form);
    if (fresh.length === 0) return false;
    dep.set("variables", doc.createNode(fresh));
    return true;
  }
  let changed = false;
  const same = (a: unknown, b: string) => (form.overrides ? String(a).toLowerCase() === b.toLowerCase() : a === b);
  if (prune) {
    const wanted = specs.map((v) => v.name);
    const before = node.items.length;
    node.items = node.items.filter((it) => !isMap(it) || wanted.some((w) => same(it.get("name"), w)));
    changed = node.items.length !== before;
  }
  for (const v of specs) {
    const i = node.items.findIndex((it) => isMap(it) && same(it.get("name"), v.name));
    const item = i >= 0 ? (node.items[i] as YAMLMap) : undefined;
    if (form.overrides) {
      changed = upsertOverride(doc, node, i, item, v, form.app) || changed;
      continue;
    }
    if (!item) {
      append(node, doc.createNode(fullVariable(v)));
      changed = true;
      continue;
    }
    for (const [k, val] of [
      ["inputType", v.inputType],
      ["description", v.description],
      ["required", v.required],
      ["value", v.value],
    ] as const) {
      changed = setScalar(doc, item, k, val) || changed;
    }
  }
  if (form.overrides && node.items.length === 0) {
    dep.delete("variables");
    changed = true;
  }
  return changed;
}

/** v2.0: the override holds the value unless it equals the default; an entry left with only its name goes. */
function upsertOverride(doc: Document, list: YAMLSeq, i: number, item: YAMLMap | undefined, v: VariableSpec, app: AppDescriptor | undefined): boolean {
  if (v.value === undefined) return false;
  const dflt = isDefault(v, app);
  if (!item) {
    if (dflt) return false;
    append(list, doc.createNode({ name: v.name, value: v.value }));
    return true;
  }
  const cur = item.get("value", true);
  if (isScalar(cur) && holdsPlaceholder(cur)) return false;
  if (!dflt) return setScalar(doc, item, "value", v.value);
  if (!item.has("value")) return false;
  const onlyNameAndValue = item.items.every((p) => isScalar(p.key) && (p.key.value === "name" || p.key.value === "value"));
  if (onlyNameAndValue) list.items.splice(i, 1);
  else item.delete("value");
  return true;
}

function isDefault(v: VariableSpec, app: AppDescriptor | undefined): boolean {
  const a = matchAppVariable(app, v.name);
  return a?.defaultValue !== undefined && a.defaultValue === v.value;
}

/**
 * Set `key` to a scalar, reusing the existing node (so its comment stays); undefined leaves the key alone, and so
 * does a scalar holding a `{{NAME}}` placeholder (it stands for a value given per environment).
 */
export function setScalar(doc: Document, m: YAMLMap, key: string, value: string | number | boolean | undefined): boolean {
  if (value === undefined) return false;
  const cur = m.get(key, true) as Node | undefined;
  if (isScalar(cur) && cur.value !== null) {
    if (holdsPlaceholder(cur) || sameScalar(cur, value)) return false;
    cur.value = value;
    return true;
  }
  if (cur === undefined) m.add(doc.createPair(key, value));
  else m.set(key, doc.createNode(value));
  return true;
}

/** A masked placeholder token (see placeholders.ts) inside a scalar's value. */
function holdsPlaceholder(s: Scalar): boolean {
  return typeof s.value === "string" && /[\uE000-\uE01F]/.test(s.value);
}

/** `version: 1.0` parses as the number 1; it still equals the text "1.0". */
function sameScalar(s: Scalar, value: string | number | boolean): boolean {
  if (s.value === value) return true;
  return typeof value === "string" && typeof s.value !== "string" && (s.source ?? String(s.value)) === value;
}

/** Append in block style (a `[]` placeholder becomes a normal list once it has entries). */
export function append(list: YAMLSeq, node: unknown): void {
  if (list.flow) list.flow = false;
  list.items.push(node);
}
