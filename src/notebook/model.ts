import { readFileSync, writeFileSync } from "node:fs";
import { InputError } from "../errors/index.js";

/** One output of a code cell (nbformat 4), with multi-line strings joined. */
export type Output =
  | { readonly output_type: "stream"; readonly name: string; readonly text: string }
  | {
      readonly output_type: "display_data" | "execute_result";
      readonly data: Readonly<Record<string, unknown>>;
      readonly metadata: Readonly<Record<string, unknown>>;
      readonly execution_count?: number | null;
    }
  | {
      readonly output_type: "error";
      readonly ename: string;
      readonly evalue: string;
      readonly traceback: readonly string[];
    };

export type CellType = "code" | "markdown" | "raw";

/** A validated notebook cell. `number` is its 1-based position among ALL cells (what error messages print). */
export interface Cell {
  readonly number: number;
  readonly id: string | undefined;
  readonly type: CellType;
  readonly source: string;
  readonly tags: readonly string[];
  readonly metadata: Readonly<Record<string, unknown>>;
  /** Code cells only; [] for markdown and raw cells. */
  readonly outputs: readonly Output[];
  readonly executionCount: number | null;
  /** Markdown/raw cell attachments, kept opaque so a round trip does not lose them. */
  readonly attachments?: unknown;
}

/** A validated nbformat 4 notebook. `file` is the path it was read from (used in messages). */
export interface Notebook {
  readonly file: string;
  readonly nbformatMinor: number;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly cells: readonly Cell[];
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** nbformat allows a string or a list of lines for any multi-line text. */
function multiline(v: unknown, file: string, field: string): string {
  if (typeof v === "string") return v;
  if (Array.isArray(v) && v.every((s) => typeof s === "string")) return v.join("");
  throw invalid(file, field, "a string or a list of strings");
}

function invalid(file: string, field: string, expected: string): InputError {
  return new InputError(`not a valid nbformat 4 notebook: '${field}' must be ${expected}`, {
    remedy: "open it in Jupyter and save it again, or restore it from git",
    context: { file, field },
  });
}

function parseOutput(raw: unknown, file: string, field: string): Output {
  if (!isObject(raw)) throw invalid(file, field, "an object");
  const type = raw.output_type;
  if (type === "stream") {
    return Object.freeze({ output_type: type, name: String(raw.name ?? "stdout"), text: multiline(raw.text, file, `${field}.text`) });
  }
  if (type === "display_data" || type === "execute_result") {
    if (!isObject(raw.data)) throw invalid(file, `${field}.data`, "an object");
    const data: Json = {};
    for (const [mime, value] of Object.entries(raw.data)) {
      // JSON mime types hold objects; every other mime type is (multi-line) text.
      data[mime] = mime.endsWith("json") ? value : multiline(value, file, `${field}.data.${mime}`);
    }
    const out: Output = {
      output_type: type,
      data: Object.freeze(data),
      metadata: Object.freeze(isObject(raw.metadata) ? { ...raw.metadata } : {}),
      ...(type === "execute_result" ? { execution_count: typeof raw.execution_count === "number" ? raw.execution_count : null } : {}),
    };
    return Object.freeze(out);
  }
  if (type === "error") {
    const tb = Array.isArray(raw.traceback) ? raw.traceback.map(String) : [];
    return Object.freeze({ output_type: type, ename: String(raw.ename ?? ""), evalue: String(raw.evalue ?? ""), traceback: Object.freeze(tb) });
  }
  throw invalid(file, `${field}.output_type`, "one of stream, display_data, execute_result, error");
}

function parseCell(raw: unknown, index: number, file: string): Cell {
  const field = `cells[${index}]`;
  if (!isObject(raw)) throw invalid(file, field, "an object");
  const type = raw.cell_type;
  if (type !== "code" && type !== "markdown" && type !== "raw") {
    throw invalid(file, `${field}.cell_type`, "one of code, markdown, raw");
  }
  const metadata = isObject(raw.metadata) ? raw.metadata : {};
  const tags = metadata.tags;
  if (tags !== undefined && !(Array.isArray(tags) && tags.every((t) => typeof t === "string"))) {
    throw invalid(file, `${field}.metadata.tags`, "a list of strings");
  }
  const id = raw.id;
  if (id !== undefined && typeof id !== "string") throw invalid(file, `${field}.id`, "a string");
  let outputs: Output[] = [];
  if (type === "code") {
    if (raw.outputs !== undefined && !Array.isArray(raw.outputs)) throw invalid(file, `${field}.outputs`, "a list");
    outputs = (raw.outputs ?? []).map((o: unknown, j: number) => parseOutput(o, file, `${field}.outputs[${j}]`));
  }
  return Object.freeze({
    number: index + 1,
    id,
    type,
    source: multiline(raw.source ?? "", file, `${field}.source`),
    tags: Object.freeze([...((tags as string[] | undefined) ?? [])]),
    metadata: Object.freeze({ ...metadata }),
    outputs: Object.freeze(outputs),
    executionCount: typeof raw.execution_count === "number" ? raw.execution_count : null,
    ...(raw.attachments === undefined ? {} : { attachments: raw.attachments }),
  });
}

/** Parse notebook JSON text into a frozen, validated value; `file` names it in errors. */
export function parseNotebook(text: string, file: string): Notebook {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new InputError(`not valid JSON: ${(e as Error).message}`, {
      remedy: "open it in Jupyter and save it again, or restore it from git",
      context: { file },
      cause: e,
    });
  }
  if (!isObject(raw)) throw invalid(file, "(top level)", "an object");
  if (raw.nbformat !== 4) throw invalid(file, "nbformat", "4 (convert older notebooks with `jupyter nbconvert --to notebook`)");
  if (!Array.isArray(raw.cells)) throw invalid(file, "cells", "a list");
  return Object.freeze({
    file,
    nbformatMinor: typeof raw.nbformat_minor === "number" ? raw.nbformat_minor : 0,
    metadata: Object.freeze(isObject(raw.metadata) ? { ...raw.metadata } : {}),
    cells: Object.freeze(raw.cells.map((c, i) => parseCell(c, i, file))),
  });
}

/** Read and parse a notebook file. */
export function readNotebook(file: string): Notebook {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new InputError(`cannot read notebook: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
      remedy: "check the path (notebooks live in notebooks/ and end in .ipynb)",
      context: { file },
      cause: e,
    });
  }
  return parseNotebook(text, file);
}

/** Jupyter's on-disk form of multi-line text: a list of lines, each keeping its newline. */
function lines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

function outputJson(o: Output): Json {
  if (o.output_type === "stream") return { name: o.name, output_type: o.output_type, text: lines(o.text) };
  if (o.output_type === "error") return { ename: o.ename, evalue: o.evalue, output_type: o.output_type, traceback: [...o.traceback] };
  const data: Json = {};
  for (const [mime, v] of Object.entries(o.data)) data[mime] = typeof v === "string" ? lines(v) : v;
  return o.output_type === "execute_result"
    ? { data, execution_count: o.execution_count ?? null, metadata: o.metadata, output_type: o.output_type }
    : { data, metadata: o.metadata, output_type: o.output_type };
}

function cellJson(c: Cell): Json {
  const metadata: Json = { ...c.metadata };
  if (c.tags.length > 0) metadata.tags = [...c.tags];
  else delete metadata.tags;
  const base: Json = { cell_type: c.type, ...(c.id === undefined ? {} : { id: c.id }), metadata, source: lines(c.source) };
  if (c.attachments !== undefined) base.attachments = c.attachments;
  if (c.type === "code") {
    base.execution_count = c.executionCount;
    base.outputs = c.outputs.map(outputJson);
  }
  return base;
}

/** Notebook JSON as Jupyter writes it (sorted keys, one-space indent, lists of lines), so saved files diff cleanly. */
export function serializeNotebook(nb: Notebook): string {
  const doc = { cells: nb.cells.map(cellJson), metadata: nb.metadata, nbformat: 4, nbformat_minor: nb.nbformatMinor };
  return `${JSON.stringify(doc, sortedKeys, 1)}\n`;
}

function sortedKeys(_key: string, value: unknown): unknown {
  if (!isObject(value)) return value;
  return Object.fromEntries(Object.keys(value).sort().map((k) => [k, value[k]]));
}

/** Write a notebook file. */
export function writeNotebook(file: string, nb: Notebook): void {
  writeFileSync(file, serializeNotebook(nb));
}

/** The same notebook with every output and execution count removed (how notebooks are stored in git). */
export function clearOutputs(nb: Notebook): Notebook {
  return withCells(
    nb,
    nb.cells.map((c) => ({ ...c, outputs: [], executionCount: null })),
  );
}

/** A copy of `nb` with new cells, renumbered. */
export function withCells(nb: Notebook, cells: readonly Omit<Cell, "number">[]): Notebook {
  return Object.freeze({
    ...nb,
    cells: Object.freeze(cells.map((c, i) => Object.freeze({ ...c, number: i + 1 }))),
  });
}

/** "cell 4 (id vwap)" — how messages point at a cell. */
export function cellLabel(cell: Cell): string {
  return cell.id ? `cell ${cell.number} (id ${cell.id})` : `cell ${cell.number}`;
}

/** Concatenated stdout/stderr stream text of a cell. */
export function streamText(cell: Cell, name?: "stdout" | "stderr"): string {
  return cell.outputs
    .filter((o) => o.output_type === "stream" && (name === undefined || o.name === name))
    .map((o) => (o.output_type === "stream" ? o.text : ""))
    .join("");
}
