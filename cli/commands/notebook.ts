import { writeFileSync } from "node:fs";
import { relative, resolve } from "node:path";
import { parse } from "../args.js";
import type { Command, CommandIO } from "../io.js";
// Aliased: biome's React hook rule flags any call to a `use*` function outside components.
import { paint, useColor as colorEnabled } from "../io.js";
import { InputError } from "../../src/errors/index.js";
import { checkNotebook } from "../../src/notebook/check.js";
import { extractFeature } from "../../src/notebook/extract.js";
import { readNotebook } from "../../src/notebook/model.js";
import { type ParamValue, parseParamArg } from "../../src/notebook/params.js";
import { type RunReport, runNotebook } from "../../src/notebook/run.js";

const usage =
  "quixlab notebook run <nb> [--param name=value ...] [--out executed.ipynb] [--timeout s] [--json]\n" +
  "       quixlab notebook check <nb> [--json]\n" +
  "       quixlab notebook extract <nb> --export <name> [--out module.ts]";

const command: Command = {
  summary: "run a notebook headless, check its exported features, or extract one as a module",
  help: `usage: ${usage}

run      Execute the notebook with the tslab kernel through Jupyter (nbclient) and write the executed copy
         (default .quixlab/notebooks/<name>). Stops at the first failing cell and exits 1 naming it: "cell N"
         counts ALL cells of the notebook, markdown included, from 1; its id is printed too.
         --param name=value sets a parameter: the notebook's cell tagged 'parameters' declares defaults with let
         (let ticksFile = "../data/x.jsonl";) and the run inserts a cell tagged 'injected-parameters' after it that
         assigns the values (ticksFile = "...";). Values take the type of the default (string, number, boolean).
         --timeout is per cell, in seconds (default 600).
check    List the features the notebook exports (cells whose first line is //| export) and whether each one,
         extracted with the cells it depends on, type-checks as a module outside the notebook. Exit 1 if not.
extract  Print (or --out) the module for one exported name: the cells it depends on, minus display code.

Needs Jupyter and the kernel: quixlab kernel install.

exit codes: 0 ok, 1 a cell failed / a feature does not type-check, 2 bad usage, bad notebook, Jupyter missing`,
  async run(argv, io) {
    const { values, positionals } = parse(
      argv,
      {
        param: { type: "string", short: "p", multiple: true },
        out: { type: "string", short: "o" },
        timeout: { type: "string" },
        export: { type: "string" },
        json: { type: "boolean" },
      },
      usage,
    );
    const [action, nb, ...extra] = positionals;
    if (action !== "run" && action !== "check" && action !== "extract") {
      throw new InputError(action ? `unknown notebook action '${action}'` : "missing action (run, check or extract)", { remedy: `usage: ${usage}` });
    }
    if (!nb || extra.length > 0) throw new InputError(nb ? `unexpected '${extra.join(" ")}'` : "missing notebook", { remedy: `usage: ${usage}` });
    if (action === "run") return run(nb, values, io);
    if (action === "check") return check(nb, Boolean(values.json), io);
    if (!values.export) throw new InputError("missing --export <name>", { remedy: `usage: ${usage}` });
    const file = resolve(io.cwd, nb);
    const res = extractFeature(readNotebook(file), values.export, { sourceLabel: relative(io.cwd, file) });
    if (values.out) {
      writeFileSync(resolve(io.cwd, values.out), res.code);
      io.stderr.write(`wrote ${values.out} (${values.export} from cells ${res.cellIds.join(", ")})\n`);
    } else io.stdout.write(res.code);
    return 0;
  },
};

async function run(
  nb: string,
  values: { param?: string[]; out?: string; timeout?: string; json?: boolean },
  io: CommandIO,
): Promise<number> {
  const params: Record<string, ParamValue> = {};
  for (const p of values.param ?? []) {
    const { name, raw } = parseParamArg(p);
    params[name] = raw;
  }
  let timeoutSec: number | undefined;
  if (values.timeout !== undefined) {
    timeoutSec = Number(values.timeout);
    if (!Number.isInteger(timeoutSec) || timeoutSec <= 0) {
      throw new InputError(`--timeout '${values.timeout}' is not a positive whole number of seconds`, { remedy: "e.g. --timeout 300" });
    }
  }
  const tty = Boolean(io.stderr.isTTY) && !values.json;
  const report = await runNotebook({
    notebook: nb,
    params,
    out: values.out,
    timeoutSec,
    cwd: io.cwd,
    env: io.env,
    onCell: tty ? (cell, of) => io.stderr.write(`\r\u001b[2Krunning ${nb}: cell ${cell ?? "(parameters)"} (${of} code cells)`) : undefined,
  });
  if (tty) io.stderr.write("\r\u001b[2K");
  if (values.json) io.stdout.write(`${JSON.stringify(report)}\n`);
  else printRun(report, io);
  return report.ok ? 0 : 1;
}

function printRun(r: RunReport, io: CommandIO): void {
  const color = colorEnabled(io.stdout, io.env);
  const rel = relative(io.cwd, r.out);
  const out = rel.startsWith("..") ? r.out : rel;
  const secs = (r.durationMs / 1000).toFixed(1);
  if (r.ok) {
    io.stdout.write(`${paint(color, 32, "✓")} ${r.notebook}: ${r.executed} code cells ran in ${secs} s → ${out}\n`);
    return;
  }
  const f = r.failure!;
  const where = f.cell === undefined ? "the injected-parameters cell" : `cell ${f.cell}`;
  const id = f.id ? `, id ${f.id}` : "";
  io.stdout.write(`${paint(color, 31, "✗")} ${r.notebook}: ${where} (code cell ${f.codeCell}${id}) failed: ${f.ename}: ${f.evalue}\n`);
  if (f.text) io.stdout.write(`${f.text.split("\n").slice(0, 20).map((l) => `    ${l}`).join("\n")}\n`);
  io.stdout.write(`  executed copy (up to the failure): ${out}\n`);
}

async function check(nb: string, json: boolean, io: CommandIO): Promise<number> {
  const color = colorEnabled(io.stdout, io.env);
  const file = resolve(io.cwd, nb);
  const report = checkNotebook(readNotebook(file), { sourceLabel: relative(io.cwd, file) });
  if (json) {
    io.stdout.write(`${JSON.stringify(report)}\n`);
    return report.ok ? 0 : 1;
  }
  if (report.exports.length === 0) {
    io.stdout.write(`${nb}: no exported features (mark a cell with //| export on its first line)\n`);
    return 1;
  }
  io.stdout.write(`${nb}: ${report.exports.length} exported\n`);
  for (const e of report.exports) {
    const mark = e.ok ? paint(color, 32, "✓") : paint(color, 31, "✗");
    const from = `cells ${e.cellIds.join(", ")}`;
    io.stdout.write(`  ${mark} ${e.name}  (${e.kind}, defined in cell ${e.cell}${e.cellId ? ` id ${e.cellId}` : ""}; uses ${from})\n`);
    for (const d of e.diagnostics) io.stdout.write(`      ${d}\n`);
  }
  return report.ok ? 0 : 1;
}

export default command;
