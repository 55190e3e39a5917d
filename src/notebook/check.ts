/**
 * `notebook check`: does each exported feature, extracted as a module, type-check outside the notebook?
 * tslab compiles cells loosely (no strict mode) and with the notebook's whole scope in view; the extracted module
 * is compiled here the way the project compiles its own code (the nearest tsconfig.json), resolving packages from
 * the notebook's folder, so `import { ... } from "quixlab"` is checked against the built package like a deployed step.
 */
import { dirname, join, resolve } from "node:path";
import ts from "typescript";
import { isQuixlabError } from "../errors/index.js";
import { type Extraction, type ExportedName, extractFeature, listExports } from "./extract.js";
import type { Notebook } from "./model.js";

export interface ExportCheck extends ExportedName {
  readonly ok: boolean;
  /** Compiler (or extraction) messages, each naming the module line and the notebook cell it came from. */
  readonly diagnostics: readonly string[];
  readonly cellIds: readonly string[];
  readonly modules: readonly string[];
}

export interface CheckReport {
  readonly notebook: string;
  /** True when the notebook exports at least one name and every one type-checks. */
  readonly ok: boolean;
  readonly exports: readonly ExportCheck[];
}

export interface CheckOptions {
  sourceLabel?: string;
  /** Compiler options to check with; default: the nearest tsconfig.json above the notebook, else strict NodeNext. */
  compilerOptions?: ts.CompilerOptions;
}

const FALLBACK: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  strict: true,
  skipLibCheck: true,
};

/** The project's compiler options for checking a module that is never emitted. */
export function projectCompilerOptions(fromDir: string): ts.CompilerOptions {
  const path = ts.findConfigFile(fromDir, ts.sys.fileExists);
  if (!path) return FALLBACK;
  const read = ts.readConfigFile(path, ts.sys.readFile);
  if (read.error) return FALLBACK;
  const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, dirname(path));
  return {
    ...parsed.options,
    noEmit: true,
    declaration: false,
    declarationMap: false,
    sourceMap: false,
    composite: false,
    incremental: false,
    rootDir: undefined,
    outDir: undefined,
    tsBuildInfoFile: undefined,
  };
}

function located(x: Extraction, line: number): string {
  const seg = x.segments.find((s) => line >= s.fromLine && line <= s.toLine);
  if (!seg) return `module line ${line}`;
  return `module line ${line} (cell ${seg.cell}${seg.cellId ? ` id ${seg.cellId}` : ""})`;
}

/** List the notebook's exports and type-check each extracted module (one compiler program for all of them). */
export function checkNotebook(nb: Notebook, opts: CheckOptions = {}): CheckReport {
  const dir = dirname(resolve(nb.file));
  const exported = listExports(nb);
  const extractions = new Map<string, Extraction>();
  const failures = new Map<string, string>();
  for (const e of exported) {
    try {
      extractions.set(e.name, extractFeature(nb, e.name, { sourceLabel: opts.sourceLabel }));
    } catch (err) {
      if (!isQuixlabError(err)) throw err;
      failures.set(e.name, err.oneLine());
    }
  }

  // Virtual files beside the notebook: package resolution then starts where the notebook's own imports start.
  const virtual = new Map([...extractions].map(([name, x]) => [join(dir, `__quixlab_check_${name}.ts`), x]));
  const options = opts.compilerOptions ?? projectCompilerOptions(dir);
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (file, lang, ...rest) => {
    const x = virtual.get(file);
    return x ? ts.createSourceFile(file, x.code, lang, true, ts.ScriptKind.TS) : getSourceFile(file, lang, ...rest);
  };
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (f) => virtual.has(f) || fileExists(f);
  const readFile = host.readFile.bind(host);
  host.readFile = (f) => virtual.get(f)?.code ?? readFile(f);
  const program = virtual.size ? ts.createProgram({ rootNames: [...virtual.keys()], options, host }) : undefined;
  const global = program ? [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()] : [];

  const byName = new Map([...virtual].map(([file, x]) => [x.name, file]));
  const results = exported.map((e): ExportCheck => {
    const failure = failures.get(e.name);
    const x = extractions.get(e.name);
    if (failure || !x || !program) return { ...e, ok: false, diagnostics: [failure ?? "not extracted"], cellIds: [], modules: [] };
    const sf = program.getSourceFile(byName.get(e.name)!)!;
    const diags = [...global, ...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)];
    const diagnostics = diags.map((d) => {
      const text = ts.flattenDiagnosticMessageText(d.messageText, "\n  ");
      if (d.file !== sf || d.start === undefined) return `TS${d.code}: ${text}`;
      const line = sf.getLineAndCharacterOfPosition(d.start).line + 1;
      return `${located(x, line)}: TS${d.code}: ${text}`;
    });
    return { ...e, ok: diagnostics.length === 0, diagnostics, cellIds: x.cellIds, modules: x.modules };
  });
  return { notebook: opts.sourceLabel ?? nb.file, ok: results.length > 0 && results.every((r) => r.ok), exports: results };
}
