/**
 * The reader of an application's app.yaml (quix-cli docs yaml-reference/app-descriptor.md): `name`, `language`
 * (any text: `python`, `nodejs`, `docker`, ...), `variables` with their defaults, `dockerfile`, and the optional
 * `runEntryPoint`, `defaultFile` and `includedFolders`. Other keys are ignored, never an error.
 */
import type { Node } from "yaml";
import type { Checker } from "./fields.js";
import type { AppDescriptor, AppVariable } from "./types.js";
import { readAppVariable } from "./variables.js";

/** app.yaml's contents, undefined (after reporting) when its root is not a mapping. */
export function readApp(root: Node | null, c: Checker): AppDescriptor | undefined {
  const top = c.mapping(root, "", "app.yaml", "write app.yaml as a mapping with name:, language:, variables: and dockerfile:");
  if (!top) return undefined;
  top.label = "app.yaml";
  const name = top.string("name", { required: true, remedy: "set name: to the application's name" }) ?? "";
  const language = top.text("language") ?? "";
  const dockerfile = top.string("dockerfile", { required: true, remedy: "set dockerfile: to the Dockerfile's path in the app folder (e.g. dockerfile or build/dockerfile)" }) ?? "";
  const runEntryPoint = top.string("runEntryPoint");
  const defaultFile = top.string("defaultFile");
  const folders: string[] = [];
  top.list("includedFolders", (s) => folders.push(s));
  const variables: AppVariable[] = [];
  const seen = new Set<string>();
  top.items("variables", (v) => {
    const variable = readAppVariable(v);
    if (!variable) return;
    // Quix matches a deployment's overrides to these names case-insensitively, so two may not differ only in case.
    const key = variable.name.toLowerCase();
    if (seen.has(key)) v.report("name", "duplicate-variable", `app.yaml declares variable "${variable.name}" twice (names match case-insensitively)`, "keep one entry per variable name");
    seen.add(key);
    variables.push(variable);
  });
  return {
    name,
    language,
    variables,
    dockerfile,
    ...(runEntryPoint !== undefined && { runEntryPoint }),
    ...(defaultFile !== undefined && { defaultFile }),
    ...(top.has("includedFolders") && { includedFolders: folders }),
  };
}
