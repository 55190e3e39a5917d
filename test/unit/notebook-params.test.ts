import assert from "node:assert/strict";
import { describe, it } from "node:test";
import ts from "typescript";
import { InputError } from "../../src/errors/index.js";
import { parseNotebook } from "../../src/notebook/model.js";
import {
  INJECTED_TAG,
  coerceParam,
  declaredParameters,
  injectParameters,
  parseParamArg,
  renderLiteral,
} from "../../src/notebook/params.js";

/** The value TypeScript reads back from a rendered literal (so the test does not trust our own rendering). */
function readBack(literal: string): unknown {
  const source = `x = ${literal};`;
  const diags = ts.transpileModule(source, { reportDiagnostics: true }).diagnostics ?? [];
  assert.equal(diags.length, 0, `not valid TypeScript: ${literal}`);
  const sf = ts.createSourceFile("x.ts", source, ts.ScriptTarget.ES2022, true);
  const expr = ((sf.statements[0] as ts.ExpressionStatement).expression as ts.BinaryExpression).right;
  if (ts.isStringLiteral(expr)) return expr.text;
  if (ts.isNumericLiteral(expr)) return Number(expr.text);
  if (ts.isPrefixUnaryExpression(expr) && ts.isNumericLiteral(expr.operand)) return -Number(expr.operand.text);
  if (expr.kind === ts.SyntaxKind.TrueKeyword) return true;
  if (expr.kind === ts.SyntaxKind.FalseKeyword) return false;
  throw new Error(`unexpected literal ${literal}`);
}

describe("renderLiteral", () => {
  it("renders strings that TypeScript reads back unchanged", () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a string that merely looks like a template must stay text.
    for (const s of ["plain", 'quote " and \\ backslash', "new\nline\ttab", "ünïcödé €", "${notATemplate}", "", "'single'"]) {
      assert.equal(readBack(renderLiteral(s)), s);
    }
  });

  it("renders numbers and booleans as literals", () => {
    assert.equal(renderLiteral(42), "42");
    assert.equal(renderLiteral(-1.5), "-1.5");
    assert.equal(renderLiteral(1e21), "1e+21");
    assert.equal(readBack(renderLiteral(1e21)), 1e21);
    assert.ok(Object.is(readBack(renderLiteral(-0)), -0));
    assert.equal(renderLiteral(true), "true");
    assert.equal(renderLiteral(false), "false");
  });

  it("refuses non-finite numbers", () => {
    assert.throws(() => renderLiteral(Number.NaN), InputError);
    assert.throws(() => renderLiteral(Number.POSITIVE_INFINITY), InputError);
  });
});

describe("parameter values", () => {
  it("splits name=value at the first '=' and checks the name", () => {
    assert.deepEqual(parseParamArg("q=a=b"), { name: "q", raw: "a=b" });
    assert.deepEqual(parseParamArg("empty="), { name: "empty", raw: "" });
    assert.throws(() => parseParamArg("novalue"), InputError);
    assert.throws(() => parseParamArg("2bad=1"), InputError);
  });

  it("coerces to the declared kind and infers when unknown", () => {
    assert.equal(coerceParam("n", "5", "number"), 5);
    assert.equal(coerceParam("n", "-2.5e3", "number"), -2500);
    assert.equal(coerceParam("s", "5", "string"), "5");
    assert.equal(coerceParam("b", "true", "boolean"), true);
    assert.equal(coerceParam("u", "7", "unknown"), 7);
    assert.equal(coerceParam("u", "false", "unknown"), false);
    assert.equal(coerceParam("u", "data/x.jsonl", "unknown"), "data/x.jsonl");
    assert.throws(() => coerceParam("n", "five", "number"), (e: unknown) => e instanceof InputError && /'n' must be a number/.test(e.message));
    assert.throws(() => coerceParam("b", "yes", "boolean"), InputError);
  });

  it("reads declared parameters, their keyword and kind, with the compiler", () => {
    const decls = declaredParameters(
      'let file = "a.jsonl";\nlet n = 10, neg = -1;\nvar on = true;\nconst fixed = 1;\nlet typed: number;\nlet t = `x`;\nlet expr = [1];\nconsole.log(file);',
    );
    assert.deepEqual(
      decls.map((d) => `${d.keyword} ${d.name}:${d.kind}`),
      ["let file:string", "let n:number", "let neg:number", "var on:boolean", "const fixed:number", "let typed:number", "let t:string", "let expr:unknown"],
    );
  });
});

describe("injectParameters", () => {
  const book = parseNotebook(
    JSON.stringify({
      nbformat: 4,
      nbformat_minor: 5,
      metadata: {},
      cells: [
        { cell_type: "markdown", id: "m", metadata: {}, source: "# t" },
        { cell_type: "code", id: "p", metadata: { tags: ["parameters"] }, source: 'let ticksFile = "a.jsonl";\nlet limit = 3;\nconst frozen = 1;', outputs: [], execution_count: null },
        { cell_type: "code", id: "old", metadata: { tags: [INJECTED_TAG] }, source: "limit = 1;", outputs: [], execution_count: null },
        { cell_type: "code", id: "use", metadata: {}, source: "console.log(ticksFile, limit);", outputs: [], execution_count: null },
      ],
    }),
    "nb.ipynb",
  );

  it("inserts one injected cell after the parameters cell, assigning typed literals, replacing an old one", () => {
    const out = injectParameters(book, { ticksFile: 'b "c".jsonl', limit: "20" });
    assert.deepEqual(out.cells.map((c) => c.id), ["m", "p", INJECTED_TAG, "use"]);
    assert.deepEqual(out.cells.map((c) => c.number), [1, 2, 3, 4]);
    const injected = out.cells[2]!;
    assert.deepEqual(injected.tags, [INJECTED_TAG]);
    assert.match(injected.source, /^ticksFile = "b \\"c\\"\.jsonl";$/m);
    assert.match(injected.source, /^limit = 20;$/m);
    assert.ok(!/\b(let|const|var)\b/.test(injected.source), "assigns, never redeclares");
    assert.equal(book.cells.length, 4, "the input notebook is not modified");
  });

  it("returns the notebook unchanged when there is nothing to inject", () => {
    assert.equal(injectParameters(book, {}), book);
  });

  it("refuses undeclared names, const parameters and a notebook without a parameters cell", () => {
    assert.throws(() => injectParameters(book, { nope: 1 }), (e: unknown) => e instanceof InputError && /no parameter 'nope'/.test(e.message) && /ticksFile, limit, frozen/.test(e.message));
    assert.throws(() => injectParameters(book, { frozen: 2 }), (e: unknown) => e instanceof InputError && /declared with const/.test(e.message) && /let frozen/.test(e.remedy ?? ""));
    assert.throws(() => injectParameters(book, { limit: "many" }), (e: unknown) => e instanceof InputError && /must be a number/.test(e.message));
    const plain = parseNotebook(JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [] }), "plain.ipynb");
    assert.throws(() => injectParameters(plain, { a: 1 }), (e: unknown) => e instanceof InputError && /no code cell is tagged 'parameters'/.test(e.message));
  });
});
