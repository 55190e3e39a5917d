/**
 * Headless notebook runs through Jupyter's own executor (nbclient, the engine of `jupyter nbconvert --execute`)
 * with the tslab kernel. We drive nbclient from a tiny Python script rather than the nbconvert CLI because
 * tslab reports a failed cell only in the execute reply (its message goes to stderr, with no `error` output), and
 * nbconvert either stops without writing the notebook or, with --allow-errors, hides which cell failed.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { spawn } from "node:child_process";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { EnvironmentError, ServiceError } from "../errors/index.js";
import { stateDir } from "../util/paths.js";
import { findNbclientPython } from "./jupyter.js";
import { KERNEL_NAME } from "./kernel.js";
import { type Cell, type Notebook, readNotebook, streamText, writeNotebook } from "./model.js";
import { INJECTED_TAG, type ParamValue, injectParameters } from "./params.js";

const DRIVER = `
import json, sys
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from jupyter_client.kernelspec import NoSuchKernel

src, out, kernel, timeout, startup, cwd = sys.argv[1:7]
nb = nbformat.read(src, as_version=4)
state = {"cell": None, "reply": None}

def emit(obj):
    print(json.dumps(obj), flush=True)

def on_start(cell, cell_index, **_):
    state["cell"] = cell_index
    emit({"event": "start", "cell": cell_index})

def on_error(cell, cell_index, execute_reply, **_):
    state["reply"] = execute_reply.get("content", {})

client = NotebookClient(nb, kernel_name=kernel, timeout=int(timeout), startup_timeout=int(startup),
                        resources={"metadata": {"path": cwd}}, on_cell_start=on_start, on_cell_error=on_error)
result = {"status": "ok"}
try:
    client.execute()
except NoSuchKernel as e:
    emit({"event": "done", "status": "no_kernel", "message": str(e)})
    sys.exit(0)
except CellTimeoutError as e:
    result = {"status": "timeout", "message": str(e).strip().splitlines()[0]}
except CellExecutionError:
    result = {"status": "error"}
except DeadKernelError as e:
    result = {"status": "dead", "message": str(e)}
nbformat.write(nb, out)
emit({"event": "done", "cell": state["cell"], "reply": state["reply"], **result})
`;

export interface RunOptions {
  /** The notebook to run. */
  notebook: string;
  /** Values for the names declared in the `parameters` cell (see params.ts). */
  params?: Readonly<Record<string, ParamValue>>;
  /** Where to write the executed copy; default `.quixlab/notebooks/<name>` under `cwd`. */
  out?: string;
  /** Per-cell timeout in seconds (default 600). */
  timeoutSec?: number;
  kernel?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Called as each code cell starts (1-based numbers, counting all cells of the source notebook). */
  onCell?: (cell: number | undefined, of: number) => void;
}

/** The first failed cell. `cell` counts ALL cells (markdown too) of the source notebook, 1-based. */
export interface CellFailure {
  /** Undefined when the failing cell is the injected-parameters cell. */
  readonly cell: number | undefined;
  /** 1-based among code cells of the executed notebook (what Jupyter's run order shows). */
  readonly codeCell: number;
  readonly id: string | undefined;
  readonly ename: string;
  readonly evalue: string;
  /** The error text the cell printed (traceback or compiler messages), without colour codes. */
  readonly text: string;
}

export interface RunReport {
  readonly ok: boolean;
  readonly notebook: string;
  readonly out: string;
  readonly params: Readonly<Record<string, ParamValue>>;
  readonly cells: number;
  readonly codeCells: number;
  /** Code cells that ran (including a failed one). */
  readonly executed: number;
  readonly durationMs: number;
  readonly failure?: CellFailure;
}

interface DriverDone {
  event: "done";
  status: "ok" | "error" | "timeout" | "dead" | "no_kernel";
  cell?: number | null;
  reply?: { ename?: string; evalue?: string; traceback?: string[] } | null;
  message?: string;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes start with the ESC control character.
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;
/** Stack frames inside tslab and node:vm say nothing about the notebook; they are dropped from messages. */
const KERNEL_FRAME = /^\s+at .*(node:vm|[/\\]tslab[/\\]dist[/\\]|sigintHandlersWrap)/;

/**
 * What went wrong in a failed cell, from (in order) an `error` output, the execute reply, or the stderr text
 * tslab prints: a JS error line (`TypeError: x is not a function`) or compiler lines (`3:7 - Type ...`).
 */
export function describeCellError(
  cell: Cell,
  reply?: { ename?: string; evalue?: string; traceback?: readonly string[] } | null,
): { ename: string; evalue: string; text: string } {
  const errorOut = cell.outputs.find((o) => o.output_type === "error");
  if (errorOut && errorOut.output_type === "error") {
    return { ename: errorOut.ename, evalue: errorOut.evalue, text: errorOut.traceback.join("\n").replace(ANSI, "") };
  }
  const stderr = streamText(cell, "stderr")
    .replace(ANSI, "")
    .split("\n")
    .filter((l) => !KERNEL_FRAME.test(l))
    .join("\n")
    .trim();
  if (reply?.ename) {
    const text = (reply.traceback ?? []).join("\n").replace(ANSI, "") || stderr;
    return { ename: reply.ename, evalue: reply.evalue ?? "", text };
  }
  const thrown = /^(?:Uncaught )?([A-Za-z_$][\w$]*(?:Error|Exception))(?: \[[^\]]*\])?: ?(.*)$/m.exec(stderr);
  if (thrown) return { ename: thrown[1]!, evalue: thrown[2]!, text: stderr };
  const compiler = /^\d+:\d+ - .*$/m.exec(stderr);
  if (compiler) return { ename: "CompileError", evalue: compiler[0], text: stderr };
  const firstLine = stderr.split("\n").find((l) => l.trim()) ?? "the cell failed without printing an error";
  return { ename: "Error", evalue: firstLine, text: stderr };
}

/**
 * For each executed cell, its 1-based number in the source notebook (undefined for a freshly injected cell).
 * Injection only adds or moves cells tagged `injected-parameters`, so the other cells keep their order.
 */
export function sourceNumbers(source: Notebook, executed: Notebook, injected: boolean): (number | undefined)[] {
  const isInjected = (c: Cell) => c.tags.includes(INJECTED_TAG);
  const regular = source.cells.filter((c) => !isInjected(c));
  const old = source.cells.filter(isInjected);
  let r = 0;
  let k = 0;
  return executed.cells.map((c) => (isInjected(c) ? (injected ? undefined : old[k++]?.number) : regular[r++]?.number));
}

function defaultOut(notebook: string, cwd: string): string {
  return join(stateDir(cwd), "notebooks", basename(notebook));
}

/** Execute a notebook headless with the tslab kernel; writes the executed copy and reports the first failure. */
export async function runNotebook(opts: RunOptions): Promise<RunReport> {
  const cwd = opts.cwd ?? process.cwd();
  const env = opts.env ?? process.env;
  const file = resolve(cwd, opts.notebook);
  const out = resolve(cwd, opts.out ?? defaultOut(opts.notebook, cwd));
  const params = opts.params ?? {};
  const source = readNotebook(file);
  const injected = Object.keys(params).length > 0;
  const prepared = injectParameters(source, params);
  const python = await findNbclientPython(env);
  const started = Date.now();
  const work = mkdtempSync(join(tmpdir(), "quixlab-nb-"));
  try {
    const input = join(work, basename(file));
    writeNotebook(input, prepared);
    mkdirSync(dirname(out), { recursive: true });
    const codeTotal = prepared.cells.filter((c) => c.type === "code").length;
    const numbers = sourceNumbers(source, prepared, injected);
    const args = [
      "-c",
      DRIVER,
      input,
      out,
      opts.kernel ?? KERNEL_NAME,
      String(opts.timeoutSec ?? 600),
      String(Math.max(120, opts.timeoutSec ?? 0)),
      dirname(file),
    ];
    const done = await drive(python, args, env, (index) => opts.onCell?.(numbers[index], codeTotal));
    if (done.status === "no_kernel") {
      throw new EnvironmentError(`Jupyter has no '${opts.kernel ?? KERNEL_NAME}' kernel: ${done.message ?? ""}`.trim(), {
        remedy: "run `quixlab kernel install` (npm run kernel:install)",
        context: { file: opts.notebook },
      });
    }
    const executed = readNotebook(out);
    const cellIndex = done.cell ?? undefined;
    const executedCode = executed.cells.filter((c) => c.type === "code");
    const ranUpTo = cellIndex === undefined ? 0 : executedCode.findIndex((c) => c.number === cellIndex + 1) + 1;
    const base = {
      notebook: opts.notebook,
      out,
      params,
      cells: source.cells.length,
      codeCells: source.cells.filter((c) => c.type === "code").length,
      executed: done.status === "ok" ? executedCode.length : ranUpTo,
      durationMs: Date.now() - started,
    };
    if (done.status === "ok") return { ok: true, ...base };
    const failed = cellIndex === undefined ? undefined : executed.cells[cellIndex];
    if (!failed) {
      throw new ServiceError(`the tslab kernel stopped before running a cell: ${done.message ?? done.status}`, {
        remedy: "check `quixlab kernel status`; run the notebook in Jupyter to see the kernel's log",
        context: { file: opts.notebook },
      });
    }
    const why =
      done.status === "error"
        ? describeCellError(failed, done.reply)
        : {
            ename: done.status === "timeout" ? "CellTimeoutError" : "DeadKernelError",
            evalue: done.message ?? done.status,
            text: streamText(failed).replace(ANSI, "").trim(),
          };
    return {
      ok: false,
      ...base,
      failure: { cell: numbers[cellIndex!], codeCell: ranUpTo, id: failed.id, ...why },
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Run the driver, forwarding its per-cell events, and return its final event. */
function drive(python: string, args: string[], env: NodeJS.ProcessEnv, onStart: (cell: number) => void): Promise<DriverDone> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(python, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let done: DriverDone | undefined;
    let pending = "";
    let stderr = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      pending += chunk;
      let nl = pending.indexOf("\n");
      while (nl >= 0) {
        const line = pending.slice(0, nl).trim();
        pending = pending.slice(nl + 1);
        nl = pending.indexOf("\n");
        if (!line.startsWith("{")) continue;
        const ev = JSON.parse(line) as { event: "start"; cell: number } | DriverDone;
        if (ev.event === "start") onStart(ev.cell);
        else done = ev;
      }
    });
    child.stderr.setEncoding("utf8");
    // Keep only the tail: nbclient can be chatty, and the end is what explains a crash.
    child.stderr.on("data", (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    child.once("error", (e) => reject(new EnvironmentError(`cannot start ${python}: ${e.message}`, { cause: e })));
    child.once("close", (code, signal) => {
      if (done) return resolvePromise(done);
      const last = stderr.trim().split("\n").at(-1) ?? "";
      reject(
        new ServiceError(`the notebook executor (nbclient) exited with ${signal ?? `code ${code}`}: ${last}`, {
          remedy: "check `quixlab kernel status` and that nbclient works (python3 -m nbclient --help)",
          context: { stderr: stderr.trim() },
        }),
      );
    });
  });
}
