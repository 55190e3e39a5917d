import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import {
  type AppDescriptor,
  type AppLookup,
  type Deployment,
  formatDescriptorError,
  isSyntaxFailure,
  loadAppDescriptor,
  loadDescriptor,
  pipelineGraph,
  readDescriptorText,
  renderGraphText,
  renderMermaid,
  validateProject,
} from "../../src/descriptor/index.js";
import { InputError } from "../../src/errors/index.js";
import { parse, parseVarFlags } from "../args.js";
import type { Command, CommandIO } from "../io.js";
import { paint, useColor } from "../io.js";

const usage = "quixlab descriptor validate [file|dir] [--json] [--resolve] [--var NAME=VALUE]... | quixlab descriptor graph [file] [--mermaid] [--json]";

const command: Command = {
  summary: "check a Quix project (quix.yaml and every app.yaml) and draw its pipeline",
  help: `usage:
  quixlab descriptor validate [file|dir] [--json] [--resolve] [--var NAME=VALUE]...
  quixlab descriptor graph [file] [--mermaid] [--json]

validate  Checks a Quix project against Quix's documented format: quix.yaml (default ./quix.yaml; a folder
          means its quix.yaml) and the app.yaml of every application folder its deployments use. A file
          named app.yaml is checked on its own.
          quix.yaml: metadata.version (1.0, or 2.0 where deployments inherit their variables from app.yaml and
          list only name + value overrides, names matched case-insensitively); deployments with name,
          application (or image, or libraryItemId), version, deploymentType (Service|Job|Managed; Managed
          ones are set up by configuration:), optional resources (cpu millicores, memory MB, replicas; flat or under
          resources.limits; Quix's defaults when absent), desiredStatus (Running|Stopped), disabled
          (true|false), variables (inputType InputTopic|OutputTopic|FreeText|HiddenText|Secret|Options|
          ProjectVariable|VariableGroup); topics with partitions, replicationFactor, retentionInMinutes,
          retentionInBytes and cleanupPolicy (Delete|Compact|DeleteAndCompact). Keys quixlab does not use are accepted.
          app.yaml: name, language (any), dockerfile, variables with defaultValue (an Options variable lists
          its options:, and its default must be one of them), optional runEntryPoint and defaultFile.
          Across files: every topic a deployment reads (app.yaml defaults included) has a writer or a topics:
          entry; an Options value is one of its app.yaml options; each application folder has an app.yaml.
          {{NAME}} placeholders may stand anywhere and count as "a value known later".
          Prints every problem as 'file:line:col  message — remedy', one per line.

graph     Draws the pipeline: deployments linked by the topics they read and write, as a text tree
          (default) or a Mermaid 'flowchart LR' (--mermaid). Lists cycles and dangling topics.

options:
  --json            print the result as one JSON object: {"ok", "files": [{"file","kind","errors"}],
                    "errors": [{"file","line","column","code","message","remedy","path"}]}
                    (with --resolve also "unresolved": [names])
  --resolve         (validate) fill the {{NAME}} placeholders and check the filled values' types; a name
                    without a value is an error naming it. Values come from --var, then the project's
                    .quix.yaml.variables (NAME=value lines next to quix.yaml), then the environment
  --var NAME=VALUE  (validate) a placeholder value; repeatable; implies --resolve
  --mermaid         (graph) print Mermaid instead of text

exit codes: 0 valid, 1 invalid (every error listed), 2 usage error, or a file missing, unreadable or not YAML`,
  async run(argv, io) {
    // biome-ignore lint/correctness/useHookAtTopLevel: useColor is a plain function, not a React hook.
    const color = useColor(io.stdout, io.env);
    const { values, positionals } = parse(
      argv,
      { json: { type: "boolean" }, mermaid: { type: "boolean" }, resolve: { type: "boolean" }, var: { type: "string", multiple: true } },
      usage,
    );
    const [sub, fileArg, ...extra] = positionals;
    if (extra.length > 0) throw new InputError(`unexpected argument '${extra[0]}'`, { remedy: `usage: ${usage}` });
    const file = fileArg ?? "quix.yaml";
    if (sub === "validate") {
      const vars = parseVarFlags(values.var ?? []);
      return validate(file, { json: Boolean(values.json), resolve: Boolean(values.resolve) || vars !== undefined, vars }, color, io);
    }
    if (sub === "graph") return graph(file, Boolean(values.json), Boolean(values.mermaid), io);
    throw new InputError(sub ? `unknown descriptor command '${sub}'` : "missing descriptor command", { remedy: `usage: ${usage}` });
  },
};

export default command;

interface ValidateFlags {
  readonly json: boolean;
  readonly resolve: boolean;
  readonly vars: Record<string, string> | undefined;
}

async function validate(file: string, flags: ValidateFlags, color: boolean, io: CommandIO): Promise<number> {
  const report = await validateProject(file, { cwd: io.cwd, resolve: flags.resolve, ...(flags.vars && { vars: flags.vars }), env: io.env }).catch((e: unknown) => {
    throw relabel(e, file);
  });
  const code = report.ok ? 0 : report.syntax ? 2 : 1;
  if (flags.json) {
    const { ok, files, errors } = report;
    io.stdout.write(`${JSON.stringify({ ok, files, errors, ...(flags.resolve && { unresolved: report.unresolved }) })}\n`);
    return code;
  }
  if (report.ok) {
    const apps = report.files.filter((f) => f.kind === "app.yaml").length;
    const isApp = report.files.length > 0 && report.files.every((f) => f.kind !== "quix.yaml");
    const what = isApp ? "application descriptor" : `descriptor${apps ? ` and ${apps} app.yaml` : ""}`;
    io.stdout.write(`${file}: valid ${what}\n`);
    return 0;
  }
  for (const e of report.errors) io.stdout.write(`${paint(color, 31, formatDescriptorError(e))}\n`);
  const unresolved = report.unresolved.length > 0 ? ` (unresolved placeholders: ${report.unresolved.join(", ")})` : "";
  io.stderr.write(`${report.errors.length} problem${report.errors.length === 1 ? "" : "s"} in ${file}${unresolved}\n`);
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
  const g = pipelineGraph(loaded.value, await appsNextTo(path, loaded.value.deployments));
  if (json) io.stdout.write(`${JSON.stringify({ file, valid: loaded.errors.length === 0, ...g, errors: loaded.errors })}\n`);
  else io.stdout.write(mermaid ? renderMermaid(g) : renderGraphText(g));
  // Still draw an invalid file (the picture often shows what is wrong), but say so and fail.
  if (loaded.errors.length > 0 && !json) {
    for (const e of loaded.errors) io.stderr.write(`${formatDescriptorError(e)}\n`);
  }
  return loaded.errors.length === 0 ? 0 : 1;
}

/** The app.yaml files of the deployments that inherit from them (v2.0), read when present. */
async function appsNextTo(path: string, deployments: readonly Deployment[]): Promise<AppLookup> {
  const apps = new Map<string, AppDescriptor>();
  for (const d of deployments) {
    if (!d.inherits || !d.application || apps.has(d.application)) continue;
    const text = await readFile(join(dirname(path), d.application, "app.yaml"), "utf8").catch(() => undefined);
    if (text !== undefined) apps.set(d.application, loadAppDescriptor(text).value);
  }
  return (a) => apps.get(a);
}

/** Errors name the file as the user typed it, not its absolute path. */
function relabel(e: unknown, file: string): unknown {
  if (e instanceof InputError) return new InputError(e.message, { remedy: e.remedy, cause: e.cause, context: { ...e.context, file } });
  return e;
}
