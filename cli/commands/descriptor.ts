import { existsSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import {
  type DescriptorError,
  formatDescriptorError,
  isSyntaxFailure,
  loadAppDescriptor,
  loadDescriptor,
  pipelineGraph,
  readDescriptorText,
  renderGraphText,
  renderMermaid,
} from "../../src/descriptor/index.js";
import { InputError } from "../../src/errors/index.js";
import { parse } from "../args.js";
import type { Command, CommandIO } from "../io.js";
import { paint, useColor } from "../io.js";

const usage = "quixlab descriptor validate [file] [--json] | quixlab descriptor graph [file] [--mermaid] [--json]";

const command: Command = {
  summary: "check quix.yaml (and its apps' app.yaml) and draw its pipeline",
  help: `usage:
  quixlab descriptor validate [file] [--json]
  quixlab descriptor graph [file] [--mermaid] [--json]

validate  Checks a Quix-style project descriptor (default ./quix.yaml) against the documented format:
          metadata.version; deployments with name, application, version, deploymentType (Service|Job),
          resources (cpu millicores, memory MB, replicas; flat or under resources.limits), desiredStatus,
          variables (inputType InputTopic|OutputTopic|FreeText|HiddenText|Secret); topics with partitions,
          replicationFactor, retentionInMinutes, retentionInBytes. Every deployment reading a topic must have
          a writer or a topics: entry. The app.yaml of each application folder next to it is checked too.
          A file named app.yaml is checked as an application descriptor.
          Prints every problem as 'file:line:col message — remedy', one per line.

graph     Draws the pipeline: deployments linked by the topics they read and write, as a text tree
          (default) or a Mermaid 'flowchart LR' (--mermaid). Lists cycles and dangling topics.

options:
  --json      print the result as one JSON object
  --mermaid   (graph) print Mermaid instead of text

exit codes: 0 valid, 1 invalid (every error listed), 2 file missing, unreadable or not YAML`,
  async run(argv, io) {
    // biome-ignore lint/correctness/useHookAtTopLevel: useColor is a plain function, not a React hook.
    const color = useColor(io.stdout, io.env);
    const { values, positionals } = parse(argv, { json: { type: "boolean" }, mermaid: { type: "boolean" } }, usage);
    const [sub, fileArg, ...extra] = positionals;
    if (extra.length > 0) throw new InputError(`unexpected argument '${extra[0]}'`, { remedy: `usage: ${usage}` });
    const file = fileArg ?? "quix.yaml";
    if (sub === "validate") return validate(file, Boolean(values.json), color, io);
    if (sub === "graph") return graph(file, Boolean(values.json), Boolean(values.mermaid), io);
    throw new InputError(sub ? `unknown descriptor command '${sub}'` : "missing descriptor command", { remedy: `usage: ${usage}` });
  },
};

export default command;

async function validate(file: string, json: boolean, color: boolean, io: CommandIO): Promise<number> {
  const path = resolve(io.cwd, file);
  const text = await readDescriptorText(path).catch((e: InputError) => {
    throw relabel(e, file);
  });
  const isApp = /(^|[\\/])app\.ya?ml$/.test(file);
  const errors: DescriptorError[] = [];
  const apps: { file: string; errors: number }[] = [];
  if (isApp) errors.push(...loadAppDescriptor(text, file).errors);
  else {
    const loaded = loadDescriptor(text, file);
    errors.push(...loaded.errors);
    // Application folders sit next to quix.yaml; deployments of prebuilt images or library items have none.
    const seen = new Set<string>();
    for (const d of loaded.value.deployments) {
      if (!d.application || seen.has(d.application)) continue;
      seen.add(d.application);
      const appPath = join(dirname(path), d.application, "app.yaml");
      if (!existsSync(appPath)) continue;
      const label = relative(io.cwd, appPath) || appPath;
      const app = loadAppDescriptor(await readDescriptorText(appPath), label);
      apps.push({ file: label, errors: app.errors.length });
      errors.push(...app.errors);
    }
  }
  const code = errors.length === 0 ? 0 : isSyntaxFailure(errors) ? 2 : 1;
  if (json) {
    io.stdout.write(`${JSON.stringify({ file, valid: errors.length === 0, errors, apps })}\n`);
    return code;
  }
  if (errors.length === 0) {
    const what = isApp ? "application descriptor" : `descriptor${apps.length ? ` and ${apps.length} app.yaml` : ""}`;
    io.stdout.write(`${file}: valid ${what}\n`);
    return 0;
  }
  for (const e of errors) io.stdout.write(`${paint(color, 31, formatDescriptorError(e))}\n`);
  io.stderr.write(`${errors.length} problem${errors.length === 1 ? "" : "s"} in ${file}\n`);
  return code;
}

async function graph(file: string, json: boolean, mermaid: boolean, io: CommandIO): Promise<number> {
  const path = resolve(io.cwd, file);
  const text = await readDescriptorText(path).catch((e: InputError) => {
    throw relabel(e, file);
  });
  const loaded = loadDescriptor(text, file);
  if (isSyntaxFailure(loaded.errors)) {
    for (const e of loaded.errors) io.stderr.write(`${formatDescriptorError(e)}\n`);
    return 2;
  }
  const g = pipelineGraph(loaded.value);
  if (json) io.stdout.write(`${JSON.stringify({ file, valid: loaded.errors.length === 0, ...g, errors: loaded.errors })}\n`);
  else io.stdout.write(mermaid ? renderMermaid(g) : renderGraphText(g));
  // Still draw an invalid file (the picture often shows what is wrong), but say so and fail.
  if (loaded.errors.length > 0 && !json) {
    for (const e of loaded.errors) io.stderr.write(`${formatDescriptorError(e)}\n`);
  }
  return loaded.errors.length === 0 ? 0 : 1;
}

/** Errors name the file as the user typed it, not its absolute path. */
function relabel(e: unknown, file: string): unknown {
  if (e instanceof InputError) return new InputError(e.message, { remedy: e.remedy, cause: e.cause, context: { ...e.context, file } });
  return e;
}
