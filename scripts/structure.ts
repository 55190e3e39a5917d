/**
 * The structure check (issue #13): import circles among src/ files, src/ files over MAX_LINES lines, and kafkajs
 * imported outside src/kafka/. `test/unit/structure.test.ts` asserts all three are empty.
 *
 *   node --import tsx scripts/structure.ts [--json]     (npm run structure)   exit 1 when anything is found
 *
 * Imports are read with TypeScript's pre-processor (`ts.preProcessFile`), which skips comments and strings and sees
 * `import … from`, `import type`, `export … from`, `import "x"`, `import("x")` and `require("x")`. Type-only
 * imports count: a circle of types is still a circle to read and to move.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

/** Longest a src/ file may be (issue #13 asks for "about 400"). */
export const MAX_LINES = 450;

/** Module graph: file → the files it imports (paths relative to the root, `/`-separated). */
export type Graph = ReadonlyMap<string, readonly string[]>;

export interface StructureReport {
  files: number;
  /** Each a strongly connected component of two or more files (or one importing itself), members sorted. */
  cycles: { files: string[]; path: string[] }[];
  long: { file: string; lines: number }[];
  kafkajs: { file: string; imports: string[] }[];
}

/** Every module specifier a TypeScript source imports or re-exports, in source order (comments and strings skipped). */
export function importSpecifiers(source: string): string[] {
  return ts.preProcessFile(source, true, true).importedFiles.map((f) => f.fileName);
}

/**
 * The strongly connected components with a cycle (Tarjan's algorithm): groups of nodes each reachable from every
 * other, plus nodes that import themselves. Members sorted, components sorted by their first member.
 * @example findCycles(new Map([["a", ["b"]], ["b", ["a"]]]))  // [["a", "b"]]
 */
export function findCycles(graph: Graph): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const scc: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      scc.push(w);
    } while (w !== v);
    if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(scc.sort());
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return out.sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
}

/** One shortest import loop from the component's first file back to it, e.g. [a, b, a], to show what to cut. */
export function cyclePath(graph: Graph, scc: readonly string[]): string[] {
  const start = scc[0]!;
  const inside = new Set(scc);
  const from = new Map<string, string>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const v = queue[i]!;
    for (const w of graph.get(v) ?? []) {
      if (!inside.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let u: string | undefined = v; u !== undefined && u !== start; u = from.get(u)) path.splice(1, 0, u);
        return [...path, start];
      }
      if (!from.has(w)) {
        from.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start];
}

/** `.ts`/`.tsx` files under `dir` (not declaration files), sorted. */
function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== "node_modules" && !e.name.startsWith(".")) out.push(...sourceFiles(path));
    } else if (/\.tsx?$/.test(e.name) && !e.name.endsWith(".d.ts")) out.push(path);
  }
  return out.sort();
}

/** The file a relative specifier names (NodeNext: "./x.js" is x.ts or x.tsx), if it is one of `files`. */
function resolveRelative(from: string, spec: string, files: ReadonlySet<string>): string | undefined {
  const base = resolve(dirname(from), spec);
  const stem = base.replace(/\.(m|c)?(j|t)sx?$/, "");
  const candidates = [base, `${stem}.ts`, `${stem}.tsx`, join(base, "index.ts"), join(base, "index.tsx")];
  return candidates.find((c) => files.has(c));
}

const isKafkajs = (spec: string) => spec === "kafkajs" || spec.startsWith("kafkajs/");

/** Check the tree under `root` (the repository): src/'s import graph, file lengths and kafkajs imports. */
export function checkStructure(root: string, opts: { maxLines?: number } = {}): StructureReport {
  const maxLines = opts.maxLines ?? MAX_LINES;
  const src = join(root, "src");
  const kafkaDir = join(src, "kafka") + sep;
  const files = sourceFiles(src);
  const known = new Set(files);
  const rel = (f: string) => relative(root, f).split(sep).join("/");
  const graph = new Map<string, string[]>();
  const long: StructureReport["long"] = [];
  const kafkajs: StructureReport["kafkajs"] = [];
  for (const file of files) {
    const text = readFileSync(file, "utf8");
    const lines = text.endsWith("\n") ? text.split("\n").length - 1 : text.split("\n").length;
    if (lines > maxLines) long.push({ file: rel(file), lines });
    const specs = importSpecifiers(text);
    const deps = new Set<string>();
    for (const spec of specs) {
      if (!spec.startsWith(".")) continue;
      const target = resolveRelative(file, spec, known);
      if (target) deps.add(rel(target));
    }
    graph.set(rel(file), [...deps]);
    const kj = specs.filter(isKafkajs);
    if (kj.length && !file.startsWith(kafkaDir)) kafkajs.push({ file: rel(file), imports: [...new Set(kj)] });
  }
  const cycles = findCycles(graph).map((scc) => ({ files: scc, path: cyclePath(graph, scc) }));
  return { files: files.length, cycles, long: long.sort((a, b) => b.lines - a.lines), kafkajs };
}

/** The report as text, one offender a line. */
export function formatReport(r: StructureReport, maxLines = MAX_LINES): string {
  const out = [`structure of src/: ${r.files} files`];
  out.push(`import circles: ${r.cycles.length || "none"}`);
  for (const c of r.cycles) {
    out.push(`  ${c.files.length} files: ${c.files.join(", ")}`);
    out.push(`    e.g. ${c.path.join(" -> ")}`);
  }
  out.push(`files over ${maxLines} lines: ${r.long.length || "none"}`);
  for (const l of r.long) out.push(`  ${l.file}  ${l.lines} lines`);
  out.push(`kafkajs imported outside src/kafka/: ${r.kafkajs.length || "none"}`);
  for (const k of r.kafkajs) out.push(`  ${k.file}  (${k.imports.join(", ")})`);
  return out.join("\n");
}

/** True when the report has nothing to fix. */
export function isClean(r: StructureReport): boolean {
  return r.cycles.length === 0 && r.long.length === 0 && r.kafkajs.length === 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
  const report = checkStructure(root);
  process.stdout.write(process.argv.includes("--json") ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report)}\n`);
  process.exitCode = isClean(report) ? 0 : 1;
}
