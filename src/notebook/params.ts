/**
 * Parameter injection for TypeScript notebooks (papermill's idea; papermill has no TypeScript translator).
 *
 * Convention: the cell tagged `parameters` declares defaults with `let` (e.g. `let ticksFile = "../data/x.jsonl";`).
 * A run inserts a cell tagged `injected-parameters` right after it that ASSIGNS the new values
 * (`ticksFile = "/tmp/y.jsonl";`). tslab cells share one scope, so re-declaring would fail; assignment does not,
 * and the notebook still runs unchanged (defaults) when opened by hand.
 */
import ts from "typescript";
import { InputError } from "../errors/index.js";
import { type Cell, type Notebook, cellLabel, withCells } from "./model.js";

export type ParamValue = string | number | boolean;

/** What the parameters cell says a parameter is, from its type annotation or its initial literal. */
export type ParamKind = "string" | "number" | "boolean" | "unknown";

export interface ParameterDecl {
  readonly name: string;
  readonly keyword: "let" | "var" | "const";
  readonly kind: ParamKind;
}

export const PARAMETERS_TAG = "parameters";
export const INJECTED_TAG = "injected-parameters";

/** Split a CLI `name=value` argument. */
export function parseParamArg(arg: string): { name: string; raw: string } {
  const eq = arg.indexOf("=");
  const name = eq < 0 ? "" : arg.slice(0, eq).trim();
  if (!/^[A-Za-z_$][\w$]*$/.test(name)) {
    throw new InputError(`--param '${arg}' is not name=value with a TypeScript identifier as the name`, {
      remedy: "pass e.g. --param ticksFile=data/ticks.jsonl --param limit=100",
      context: { field: "--param" },
    });
  }
  return { name, raw: arg.slice(eq + 1) };
}

/**
 * A TypeScript literal for a value: strings JSON-quoted, finite numbers as written, booleans as keywords.
 * @example renderLiteral('a "b"') === '"a \\"b\\""'
 */
export function renderLiteral(value: ParamValue): string {
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new InputError(`parameter value ${value} is not a finite number`, { remedy: "pass a finite number" });
    // String(-0) is "0"; keep the sign so the notebook sees exactly what was passed.
    return Object.is(value, -0) ? "-0" : String(value);
  }
  if (typeof value === "boolean") return value ? "true" : "false";
  return JSON.stringify(value);
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** Turn a value (CLI text or typed) into the declared kind; undeclared kinds infer number/boolean/string from text. */
export function coerceParam(name: string, value: ParamValue, kind: ParamKind): ParamValue {
  const text = String(value);
  const fail = (what: string) =>
    new InputError(`parameter '${name}' must be ${what}, got ${JSON.stringify(text)}`, {
      remedy: `pass --param ${name}=<${what}>, or change the default's type in the parameters cell`,
      context: { field: name },
    });
  switch (kind) {
    case "string":
      return text;
    case "number":
      if (typeof value === "number" || NUMBER.test(text.trim())) return Number(text);
      throw fail("a number");
    case "boolean":
      if (text === "true" || text === "false") return text === "true";
      throw fail("true or false");
    default:
      if (typeof value !== "string") return value;
      if (NUMBER.test(text.trim())) return Number(text);
      if (text === "true" || text === "false") return text === "true";
      return text;
  }
}

function kindOf(decl: ts.VariableDeclaration): ParamKind {
  const t = decl.type;
  if (t) {
    if (t.kind === ts.SyntaxKind.StringKeyword) return "string";
    if (t.kind === ts.SyntaxKind.NumberKeyword) return "number";
    if (t.kind === ts.SyntaxKind.BooleanKeyword) return "boolean";
    return "unknown";
  }
  const init = decl.initializer;
  if (!init) return "unknown";
  if (ts.isStringLiteral(init) || ts.isNoSubstitutionTemplateLiteral(init)) return "string";
  if (ts.isNumericLiteral(init)) return "number";
  if (ts.isPrefixUnaryExpression(init) && ts.isNumericLiteral(init.operand)) return "number";
  if (init.kind === ts.SyntaxKind.TrueKeyword || init.kind === ts.SyntaxKind.FalseKeyword) return "boolean";
  return "unknown";
}

/** The simple top-level variables a parameters cell declares. */
export function declaredParameters(source: string): ParameterDecl[] {
  const sf = ts.createSourceFile("parameters.ts", source, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const out: ParameterDecl[] = [];
  for (const stmt of sf.statements) {
    if (!ts.isVariableStatement(stmt)) continue;
    const flags = stmt.declarationList.flags;
    const keyword = flags & ts.NodeFlags.Const ? "const" : flags & ts.NodeFlags.Let ? "let" : "var";
    for (const d of stmt.declarationList.declarations) {
      if (ts.isIdentifier(d.name)) out.push({ name: d.name.text, keyword, kind: kindOf(d) });
    }
  }
  return out;
}

/** The first cell tagged `parameters`, if any. */
export function parametersCell(nb: Notebook): Cell | undefined {
  return nb.cells.find((c) => c.type === "code" && c.tags.includes(PARAMETERS_TAG));
}

/**
 * A copy of `nb` with an `injected-parameters` cell (replacing any earlier one) right after the parameters cell.
 * Every name must be declared with `let` or `var` in that cell; values are coerced to the declared kind.
 */
export function injectParameters(nb: Notebook, params: Readonly<Record<string, ParamValue>>): Notebook {
  const names = Object.keys(params);
  if (names.length === 0) return nb;
  const target = parametersCell(nb);
  if (!target) {
    throw new InputError(`cannot set ${names.join(", ")}: no code cell is tagged '${PARAMETERS_TAG}'`, {
      remedy: `tag the cell that sets the defaults with '${PARAMETERS_TAG}' (cell toolbar → tags) and declare them with let`,
      context: { file: nb.file },
    });
  }
  const declared = new Map(declaredParameters(target.source).map((d) => [d.name, d]));
  const assignments: string[] = [];
  for (const name of names) {
    const decl = declared.get(name);
    if (!decl) {
      const known = [...declared.keys()].join(", ") || "nothing";
      throw new InputError(`the notebook has no parameter '${name}'; its parameters ${cellLabel(target)} declares ${known}`, {
        remedy: `declare it there (let ${name} = <default>;) or fix the name`,
        context: { file: nb.file, field: name },
      });
    }
    if (decl.keyword === "const") {
      throw new InputError(`parameter '${name}' is declared with const in ${cellLabel(target)}, so a run cannot change it`, {
        remedy: `declare it with let: let ${name} = ...;`,
        context: { file: nb.file, field: name },
      });
    }
    assignments.push(`${name} = ${renderLiteral(coerceParam(name, params[name]!, decl.kind))};`);
  }
  const injected: Omit<Cell, "number"> = {
    id: INJECTED_TAG,
    type: "code",
    // tslab echoes a cell's last expression value; `void 0` keeps the injected cell's output empty.
    source: `// Parameters injected by \`quixlab notebook run\`.\n${assignments.join("\n")}\nvoid 0;`,
    tags: [INJECTED_TAG],
    metadata: {},
    outputs: [],
    executionCount: null,
  };
  const cells: Omit<Cell, "number">[] = [];
  for (const c of nb.cells) {
    if (c.tags.includes(INJECTED_TAG)) continue;
    cells.push(c);
    if (c === target) cells.push(injected);
  }
  return withCells(nb, cells);
}
