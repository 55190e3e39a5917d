/**
 * Checks across entries and across files, on the effective variables (v2.0 inheritance applied when the
 * app.yaml files are known): every topic a deployment reads has a writer or a `topics:` entry; an `Options`
 * value is one of the options its app.yaml lists.
 * Placeholder values are skipped (known later).
 */
import type { Node } from "yaml";
import type { Checker } from "./fields.js";
import { effectiveVariables, matchAppVariable } from "./inherit.js";
import { hasPlaceholder } from "./placeholders.js";
import type { AppDescriptor, Descriptor, Variable } from "./types.js";

/** Where a deployment and its variables' values sit in the file (for errors found after reading). */
export interface DeploymentSite {
  readonly nameNode: Node | undefined;
  readonly path: string;
  readonly values: Map<Variable, { node: Node | undefined; path: string }>;
}

interface Reader {
  deployment: string;
  variable: string;
  topic: string;
  node: Node | undefined;
  path: string;
  fromApp: boolean;
}

export function crossCheck(d: Descriptor, sites: readonly DeploymentSite[], c: Checker, apps?: (application: string) => AppDescriptor | undefined): void {
  const readers: Reader[] = [];
  const written = new Set<string>(d.topics.map((t) => t.name));
  let complete = true;
  d.deployments.forEach((dep, i) => {
    const site = sites[i]!;
    if (dep.deploymentType === "Managed") {
      // A managed service is wired through its configuration: a key naming a topic (e.g. `topic:`) is one it writes.
      for (const [k, v] of Object.entries(dep.configuration ?? {})) if (/topic/i.test(k) && typeof v === "string") written.add(v);
      return;
    }
    const app = dep.application ? apps?.(dep.application) : undefined;
    if (dep.inherits && !app) complete = false;
    for (const v of effectiveVariables(dep, app)) {
      const own = dep.variables.find((x) => x.name.toLowerCase() === v.name.toLowerCase());
      const at = own ? site.values.get(own) : undefined;
      const value = v.value;
      if (value !== undefined && value !== "" && !hasPlaceholder(value)) {
        if (v.inputType === "OutputTopic") written.add(value);
        if (v.inputType === "InputTopic") {
          readers.push({ deployment: dep.name, variable: v.name, topic: value, node: at?.node ?? site.nameNode, path: at?.path ?? `${site.path}.name`, fromApp: v.source === "app" });
        }
        const options = matchAppVariable(app, v.name)?.options;
        if (v.inputType === "Options" && v.source === "deployment" && options && options.length > 0 && !options.some((o) => o.value === value)) {
          c.report(at?.node, at?.path ?? site.path, "invalid-option", `deployment "${dep.name}": variable "${v.name}" is "${value}", not one of its options in app.yaml (${options.map((o) => o.value).join(", ")})`, "set value: to the value: of one of the options listed in the application's app.yaml");
        }
      }
    }
  });
  // Without the app.yaml of an inheriting deployment its topics are unknown; saying "no writer" could be wrong.
  if (!complete) return;
  for (const r of readers) {
    if (written.has(r.topic)) continue;
    const how = r.fromApp ? ` (its app.yaml default for "${r.variable}")` : ` (variable "${r.variable}")`;
    c.report(
      r.node,
      r.path,
      "unknown-topic",
      `deployment "${r.deployment}" reads topic "${r.topic}"${how}, which no deployment writes and topics: does not declare`,
      `declare "${r.topic}" under topics:, add the deployment that writes it (an OutputTopic variable), or fix the name`,
    );
  }
}
