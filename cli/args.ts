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
