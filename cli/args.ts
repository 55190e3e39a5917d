import { type ParseArgsConfig, parseArgs } from "node:util";
import { InputError } from "../src/errors/index.js";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** node:util parseArgs with `--help` built in and errors turned into usage errors (exit 2). */
export function parse<O extends Options>(
  argv: string[],
  options: O,
  usage: string,
): ReturnType<typeof parseArgs<{ args: string[]; options: O & { help: { type: "boolean"; short: "h" } }; allowPositionals: true; strict: true }>> {
  try {
    return parseArgs({
      args: argv,
      options: { help: { type: "boolean", short: "h" }, ...options },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    throw new InputError((e as Error).message.split("\n")[0] ?? "bad arguments", { remedy: `usage: ${usage}` });
  }
}

/**
 * Repeated `--var NAME=VALUE` flags as a map (undefined when none): values for a descriptor's `{{NAME}}` placeholders.
 * @example parseVarFlags(["CPU=200", "HOST=db:5432"]) // { CPU: "200", HOST: "db:5432" }
 */
export function parseVarFlags(list: readonly string[]): Record<string, string> | undefined {
  if (list.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf("=");
    if (eq <= 0) throw new InputError(`bad --var '${item}'`, { remedy: "write --var NAME=VALUE (e.g. --var CPU=200)" });
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}
