/**
 * Export convention and extraction (nbdev style). A code cell whose first line is `//| export` holds promotable
 * definitions. `extractFeature` turns one exported name into a standalone module: the declaration that defines
 * it plus every top-level declaration it needs from earlier cells (imports, functions, constants, types),
 * found with the TypeScript compiler's binder, never by matching text. Only declarations are ever copied, so
 * display code (`tslab.display...`, `console.log`, a bare `df.head()`) never reaches a module; a declaration
 * that needs tslab is an error.
 */
import { basename } from "node:path";
import ts from "typescript";
import { InputError } from "../errors/index.js";
import { type Cell, type Notebook, cellLabel } from "./model.js";

export const EXPORT_DIRECTIVE = "//| export";

export type DeclKind = "import" | "variable" | "function" | "class" | "interface" | "type" | "enum" | "namespace";

/** A top-level declaration the extracted module copies from the notebook. */
export interface Dependency {
  readonly name: string;
  readonly kind: DeclKind;
  readonly cell: number;
  readonly cellId: string | undefined;
}

/** Which lines of the generated module came from which cell (to point type errors back at the notebook). */
export interface Segment {
  readonly fromLine: number;
  readonly toLine: number;
  readonly cell: number;
  readonly cellId: string | undefined;
}

export interface Extraction {
  readonly name: string;
  readonly kind: DeclKind;
  /** The cell that defines the export (1-based, counting all cells). */
  readonly cell: number;
  readonly cellId: string | undefined;
  /** The module text, ending in `export { name };`. */
  readonly code: string;
  /** Ids (or `cell-N` when a cell has no id) of the cells the code comes from, in notebook order. */
  readonly cellIds: readonly string[];
  /** Every declaration copied besides the export itself, in notebook order. */
  readonly dependencies: readonly Dependency[];
  /** Module specifiers the code imports (what a generated app must install). */
  readonly modules: readonly string[];
  readonly segments: readonly Segment[];
}

/** An exported name as `check` lists it. */
export interface ExportedName {
  readonly name: string;
  readonly kind: DeclKind;
  readonly cell: number;
  readonly cellId: string | undefined;
}

interface Ref {
  readonly name: string;
  /** Index of the same-cell top-level statement it resolves to; undefined when it is free in the cell. */
  readonly local: number | undefined;
}

interface Stmt {
  readonly cell: Cell;
  readonly index: number;
  readonly node: ts.Statement;
  readonly sf: ts.SourceFile;
  readonly declares: ReadonlyMap<string, DeclKind>;
  readonly refs: readonly Ref[];
}

interface CellInfo {
  readonly cell: Cell;
  readonly exported: boolean;
  readonly statements: readonly Stmt[];
  readonly syntaxError: string | undefined;
}

/** Whether the cell's first line is the `//| export` directive (spacing after `//|` is free). */
export function isExportCell(cell: Cell): boolean {
  if (cell.type !== "code") return false;
  const first = cell.source.split("\n", 1)[0] ?? "";
  return /^\/\/\|\s*export\s*$/.test(first.trim());
}

const cellRef = (c: Cell) => c.id ?? `cell-${c.number}`;

function declaredNames(name: ts.BindingName, out: string[]): void {
  if (ts.isIdentifier(name)) out.push(name.text);
  else for (const el of name.elements) if (!ts.isOmittedExpression(el)) declaredNames(el.name, out);
}

/** Top-level names a statement introduces into the notebook's shared scope. */
function declarationsOf(stmt: ts.Statement): Map<string, DeclKind> {
  const out = new Map<string, DeclKind>();
  const add = (name: ts.Identifier | undefined, kind: DeclKind) => name && out.set(name.text, kind);
  if (ts.isImportDeclaration(stmt)) {
    const clause = stmt.importClause;
    add(clause?.name, "import");
    const b = clause?.namedBindings;
    if (b && ts.isNamespaceImport(b)) add(b.name, "import");
    if (b && ts.isNamedImports(b)) for (const el of b.elements) add(el.name, "import");
  } else if (ts.isImportEqualsDeclaration(stmt)) add(stmt.name, "import");
  else if (ts.isVariableStatement(stmt)) {
    const names: string[] = [];
    for (const d of stmt.declarationList.declarations) declaredNames(d.name, names);
    for (const n of names) out.set(n, "variable");
  } else if (ts.isFunctionDeclaration(stmt)) add(stmt.name, "function");
  else if (ts.isClassDeclaration(stmt)) add(stmt.name, "class");
  else if (ts.isInterfaceDeclaration(stmt)) add(stmt.name, "interface");
  else if (ts.isTypeAliasDeclaration(stmt)) add(stmt.name, "type");
  else if (ts.isEnumDeclaration(stmt)) add(stmt.name, "enum");
  else if (ts.isModuleDeclaration(stmt) && ts.isIdentifier(stmt.name)) add(stmt.name, "namespace");
  return out;
}

/** Identifiers in name slots (`a.b`, `{ b: 1 }`, `import { b as c }`, labels) are not references. */
function isNameSlot(id: ts.Identifier): boolean {
  const p = id.parent;
  if (ts.isQualifiedName(p)) return p.right === id;
  if (ts.isShorthandPropertyAssignment(p)) return false;
  if ("name" in p && p.name === id) return true;
  if ("propertyName" in p && p.propertyName === id) return true;
  return ts.isLabeledStatement(p) || ts.isBreakOrContinueStatement(p);
}

function topLevelIndex(node: ts.Node, sf: ts.SourceFile): number | undefined {
  let n: ts.Node = node;
  while (n.parent && n.parent !== sf) n = n.parent;
  return n.parent === sf ? sf.statements.indexOf(n as ts.Statement) : undefined;
}

/**
 * Bind every code cell as its own module (so names never leak between cells in the compiler's eyes), then
 * record for each top-level statement what it declares and which names it uses: resolved to another
 * statement of the same cell, or free (to be looked up in earlier cells, as tslab's shared scope does).
 */
function analyze(nb: Notebook): CellInfo[] {
  const code = nb.cells.filter((c) => c.type === "code");
  const files = new Map<string, ts.SourceFile>();
  for (const c of code) {
    const name = `/cell-${c.number}.ts`;
    // The trailing `export {}` makes each cell a module: its names stay local, cross-cell uses stay unresolved.
    files.set(name, ts.createSourceFile(name, `${c.source}\nexport {};\n`, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS));
  }
  const host: ts.CompilerHost = {
    getSourceFile: (f) => files.get(f),
    getDefaultLibFileName: () => "/lib.d.ts",
    writeFile: () => {},
    getCurrentDirectory: () => "/",
    getCanonicalFileName: (f) => f,
    useCaseSensitiveFileNames: () => true,
    getNewLine: () => "\n",
    fileExists: (f) => files.has(f),
    readFile: () => undefined,
  };
  const program = ts.createProgram({
    rootNames: [...files.keys()],
    options: { noLib: true, noResolve: true, types: [], target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
    host,
  });
  const checker = program.getTypeChecker();
  return code.map((cell) => {
    const sf = files.get(`/cell-${cell.number}.ts`)!;
    const diag = program.getSyntacticDiagnostics(sf)[0];
    const syntaxError = diag
      ? `line ${sf.getLineAndCharacterOfPosition(diag.start ?? 0).line + 1}: ${ts.flattenDiagnosticMessageText(diag.messageText, " ")}`
      : undefined;
    // The synthetic `export {}` is the last statement; it is ours, not the cell's.
    const statements = sf.statements.slice(0, -1).map((node, index): Stmt => {
      const refs = new Map<string, Ref>();
      const visit = (n: ts.Node): void => {
        if (ts.isIdentifier(n)) {
          const sym = ts.isShorthandPropertyAssignment(n.parent)
            ? checker.getShorthandAssignmentValueSymbol(n.parent)
            : checker.getSymbolAtLocation(n);
          const decl = sym?.declarations?.[0];
          if (decl) {
            const at = decl.getSourceFile() === sf ? topLevelIndex(decl, sf) : undefined;
            if (at !== undefined && at !== index) refs.set(`${n.text}@${at}`, { name: n.text, local: at });
          } else if (!isNameSlot(n)) refs.set(n.text, { name: n.text, local: undefined });
        }
        ts.forEachChild(n, visit);
      };
      visit(node);
      return { cell, index, node, sf, declares: declarationsOf(node), refs: [...refs.values()] };
    });
    return { cell, exported: isExportCell(cell), statements, syntaxError };
  });
}

/** Every name the notebook exports: variables, functions and classes declared in `//| export` cells. */
export function listExports(nb: Notebook): ExportedName[] {
  const out = new Map<string, ExportedName>();
  for (const info of analyze(nb)) {
    if (!info.exported) continue;
    for (const s of info.statements) {
      for (const [name, kind] of s.declares) {
        if (kind === "variable" || kind === "function" || kind === "class") {
          // A later export cell redefining a name wins, as it does when the notebook runs.
          out.delete(name);
          out.set(name, { name, kind, cell: info.cell.number, cellId: info.cell.id });
        }
      }
    }
  }
  return [...out.values()];
}

export interface ExtractOptions {
  /** How the header names the notebook (default: its file name). */
  sourceLabel?: string;
}

/** The module for one exported name: its defining declaration plus everything it needs from earlier cells. */
export function extractFeature(nb: Notebook, exportName: string, opts: ExtractOptions = {}): Extraction {
  const cells = analyze(nb);
  const defining = [...cells].reverse().find((c) => c.statements.some((s) => s.declares.has(exportName)));
  const where = { file: nb.file, field: exportName };
  if (!defining) {
    const known = listExports(nb).map((e) => e.name);
    throw new InputError(`the notebook defines no '${exportName}'`, {
      remedy: known.length ? `export one of: ${known.join(", ")}` : `mark the cell that defines it with '${EXPORT_DIRECTIVE}' as its first line`,
      context: where,
    });
  }
  const exportCell = [...cells].reverse().find((c) => c.exported && c.statements.some((s) => s.declares.has(exportName)));
  if (!exportCell) {
    throw new InputError(`'${exportName}' is defined in ${cellLabel(defining.cell)}, which is not marked for export`, {
      remedy: `add '${EXPORT_DIRECTIVE}' as the first line of that cell`,
      context: where,
    });
  }

  // A cell that does not parse may hide the very declaration we need (and the notebook cannot run past it).
  const broken = cells.find((c) => c.syntaxError && c.cell.number <= exportCell.cell.number);
  if (broken) {
    throw new InputError(`${cellLabel(broken.cell)} has a syntax error at ${broken.syntaxError}`, {
      remedy: "fix the cell and run the notebook, then extract again",
      context: where,
    });
  }

  const pos = new Map(cells.map((c, i) => [c.cell.number, i]));
  /** The statements of the latest cell before `before` that declare `name` (tslab's shared scope). */
  const lookup = (name: string, before: Cell): Stmt[] => {
    for (let i = pos.get(before.number)! - 1; i >= 0; i--) {
      const found = cells[i]!.statements.filter((s) => s.declares.has(name));
      if (found.length) return found;
    }
    return [];
  };

  const needed = new Map<Stmt, Set<string>>();
  const queue: Stmt[] = [];
  const need = (s: Stmt, name: string) => {
    const used = needed.get(s);
    if (used) used.add(name);
    else {
      needed.set(s, new Set([name]));
      queue.push(s);
    }
  };
  for (const s of exportCell.statements) if (s.declares.has(exportName)) need(s, exportName);
  for (let s = queue.shift(); s; s = queue.shift()) {
    const info = cells[pos.get(s.cell.number)!]!;
    for (const ref of s.refs) {
      // A function body may use a name defined in a later cell (it runs after that cell did), hence the second
      // lookup. Globals (Math, console, Map...) resolve nowhere in the notebook and are left alone.
      let targets = ref.local !== undefined ? [info.statements[ref.local]!] : lookup(ref.name, s.cell);
      if (targets.length === 0) targets = lookup(ref.name, exportCell.cell);
      for (const t of targets) need(t, ref.name);
    }
  }

  const chosen = [...needed.keys()].sort((a, b) => a.cell.number - b.cell.number || a.index - b.index);
  /** What a statement brings into the module: an import only the bindings used, anything else all it declares. */
  const brings = (st: Stmt) => (isImport(st.node) ? [...needed.get(st)!] : [...st.declares.keys()]);
  refuseDisplay(chosen, exportName, where);
  refuseRedeclarations(chosen, brings, exportName, where);

  // Re-imports in later cells are common in notebooks; each binding is imported once.
  const imported = new Set<string>();
  const importTexts = new Map<Stmt, string>();
  for (const st of chosen.filter((c) => isImport(c.node))) {
    const used = new Set(brings(st).filter((n) => !imported.has(n)));
    for (const n of used) imported.add(n);
    if (used.size) importTexts.set(st, importText(st, used));
  }
  const body = chosen.filter((c) => !isImport(c.node));
  const emitted = [...importTexts.keys(), ...body];

  const label = opts.sourceLabel ?? basename(nb.file);
  const cellIds = [...new Map(emitted.map((st) => [st.cell.number, st.cell])).entries()].sort(([a], [b]) => a - b).map(([, c]) => cellRef(c));
  const lines = [
    `// Generated by quixlab from notebook ${label}, cells ${cellIds.join(", ")}.`,
    `// Do not edit this file: edits belong in the notebook; re-run the extraction (quixlab promote) to update it.`,
  ];
  const segments: Segment[] = [];
  const emit = (text: string, cell: Cell) => {
    const fromLine = lines.length + 1;
    lines.push(...text.split("\n"));
    segments.push({ fromLine, toLine: lines.length, cell: cell.number, cellId: cell.id });
  };
  if (importTexts.size) lines.push("");
  for (const [st, text] of importTexts) emit(text, st.cell);
  let lastCell: number | undefined;
  for (const st of body) {
    if (st.cell.number !== lastCell) lines.push("", `// ${cellLabel(st.cell)}`);
    else lines.push("");
    lastCell = st.cell.number;
    emit(statementText(st), st.cell);
  }
  lines.push("", `export { ${exportName} };`, "");

  const defStmt = body.find((st) => st.cell === exportCell.cell && st.declares.has(exportName))!;
  return {
    name: exportName,
    kind: defStmt.declares.get(exportName)!,
    cell: exportCell.cell.number,
    cellId: exportCell.cell.id,
    code: lines.join("\n"),
    cellIds,
    dependencies: [...emitted]
      .sort((a, b) => a.cell.number - b.cell.number || a.index - b.index)
      .flatMap((st) =>
        [...st.declares.entries()]
          .filter(([n]) => n !== exportName && needed.get(st)!.has(n) && (!isImport(st.node) || importTexts.has(st)))
          .map(([name, kind]) => ({ name, kind, cell: st.cell.number, cellId: st.cell.id })),
      ),
    modules: [...new Set([...importTexts.keys()].map((st) => moduleOf(st.node)).filter((m): m is string => Boolean(m)))],
    segments,
  };
}

const isImport = (node: ts.Statement) => ts.isImportDeclaration(node) || ts.isImportEqualsDeclaration(node);

function moduleOf(node: ts.Statement): string | undefined {
  if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) return node.moduleSpecifier.text;
  if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
    const e = node.moduleReference.expression;
    return ts.isStringLiteral(e) ? e.text : undefined;
  }
  return undefined;
}

function refuseDisplay(chosen: readonly Stmt[], exportName: string, where: { file: string; field: string }): void {
  const display = chosen.find((s) => moduleOf(s.node) === "tslab");
  if (!display) return;
  throw new InputError(`'${exportName}' depends on display code: it needs the tslab import of ${cellLabel(display.cell)}`, {
    remedy: "keep tslab.display calls in cells of their own and out of the functions and constants a feature uses",
    context: where,
  });
}

function refuseRedeclarations(
  chosen: readonly Stmt[],
  brings: (s: Stmt) => string[],
  exportName: string,
  where: { file: string; field: string },
): void {
  const first = new Map<string, Stmt>();
  for (const s of chosen) {
    for (const name of brings(s)) {
      const prev = first.get(name);
      // Same cell: overloads and declaration merging. Same import again: harmless, imported once.
      const sameImport = prev && isImport(prev.node) && isImport(s.node) && moduleOf(prev.node) === moduleOf(s.node);
      if (prev && prev.cell.number !== s.cell.number && !sameImport) {
        throw new InputError(
          `'${exportName}' needs two different definitions of '${name}' (${cellLabel(prev.cell)} and ${cellLabel(s.cell)})`,
          { remedy: "rename one of them so the module can hold both", context: where },
        );
      }
      if (!prev) first.set(name, s);
    }
  }
}

/** The statement as written (leading comments kept, the export directive and any `export` keyword dropped). */
function statementText(s: Stmt): string {
  const { node, sf } = s;
  const exportKw = ts.canHaveModifiers(node) ? ts.getModifiers(node)?.find((m) => m.kind === ts.SyntaxKind.ExportKeyword) : undefined;
  let text = exportKw
    ? sf.text.slice(node.getFullStart(), exportKw.getStart(sf)) + sf.text.slice(exportKw.getEnd(), node.getEnd()).trimStart()
    : sf.text.slice(node.getFullStart(), node.getEnd());
  text = text
    .split("\n")
    .filter((l) => !/^\s*\/\/\|/.test(l))
    .join("\n");
  return text.replace(/^\s*\n/, "").trim();
}

/** An import reduced to the bindings the module uses (printed by the compiler when anything was dropped). */
function importText(s: Stmt, used: ReadonlySet<string>): string {
  const node = s.node;
  const all = [...s.declares.keys()];
  if (!ts.isImportDeclaration(node) || all.every((n) => used.has(n))) return statementText(s);
  const clause = node.importClause!;
  const keepName = clause.name && used.has(clause.name.text) ? clause.name : undefined;
  let bindings = clause.namedBindings;
  if (bindings && ts.isNamespaceImport(bindings) && !used.has(bindings.name.text)) bindings = undefined;
  if (bindings && ts.isNamedImports(bindings)) {
    const kept = bindings.elements.filter((el) => used.has(el.name.text));
    bindings = kept.length ? ts.factory.updateNamedImports(bindings, kept) : undefined;
  }
  const pruned = ts.factory.updateImportDeclaration(
    node,
    node.modifiers,
    ts.factory.updateImportClause(clause, clause.isTypeOnly, keepName, bindings),
    node.moduleSpecifier,
    node.attributes,
  );
  return ts.createPrinter().printNode(ts.EmitHint.Unspecified, pruned, s.sf);
}
