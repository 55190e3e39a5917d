import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { InputError } from "../../src/errors/index.js";
import { type Cell, clearOutputs, parseNotebook, serializeNotebook } from "../../src/notebook/model.js";
import { injectParameters } from "../../src/notebook/params.js";
import { describeCellError, sourceNumbers } from "../../src/notebook/run.js";

const FIXTURES = new URL("../fixtures/notebooks/", import.meta.url);

function codeCell(outputs: unknown[]): Cell {
  const json = { nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [{ cell_type: "code", id: "x", metadata: {}, source: "f()", outputs, execution_count: 3 }] };
  return parseNotebook(JSON.stringify(json), "t.ipynb").cells[0]!;
}

describe("parseNotebook", () => {
  it("validates nbformat 4 and joins multi-line text", () => {
    const nb = parseNotebook(readFileSync(new URL("failing.ipynb", FIXTURES), "utf8"), "failing.ipynb");
    assert.equal(nb.cells.length, 5);
    assert.deepEqual(nb.cells.map((c) => `${c.number}:${c.type}:${c.id}`), ["1:markdown:intro", "2:code:setup", "3:markdown:warn", "4:code:boom", "5:code:after"]);
    assert.match(nb.cells[3]!.source, /^function explode\(\): never \{\n {2}throw new RangeError/);
    assert.ok(Object.isFrozen(nb) && Object.isFrozen(nb.cells) && Object.isFrozen(nb.cells[0]));
  });

  it("names the file and field of what is wrong", () => {
    const bad = (doc: unknown) => () => parseNotebook(JSON.stringify(doc), "bad.ipynb");
    assert.throws(() => parseNotebook("{", "bad.ipynb"), (e: unknown) => e instanceof InputError && e.context.file === "bad.ipynb" && /not valid JSON/.test(e.message));
    assert.throws(bad({ nbformat: 3, cells: [] }), (e: unknown) => e instanceof InputError && e.context.field === "nbformat");
    assert.throws(bad({ nbformat: 4, cells: [{ cell_type: "weird", source: "" }] }), (e: unknown) => e instanceof InputError && e.context.field === "cells[0].cell_type");
    assert.throws(
      bad({ nbformat: 4, cells: [{ cell_type: "code", source: "", outputs: [{ output_type: "stream", text: 5 }] }] }),
      (e: unknown) => e instanceof InputError && e.context.field === "cells[0].outputs[0].text",
    );
  });

  it("writes a notebook byte for byte as Jupyter does (sorted keys, one-space indent)", () => {
    for (const name of ["params.ipynb", "failing.ipynb", "../../../notebooks/ohlc.ipynb"]) {
      const text = readFileSync(new URL(name, FIXTURES), "utf8");
      assert.equal(serializeNotebook(parseNotebook(text, name)), text, name);
    }
  });

  it("round-trips through serializeNotebook, keeping outputs, tags and metadata", () => {
    const cell = {
      cell_type: "code",
      id: "a",
      metadata: { tags: ["parameters"], collapsed: true },
      source: ["let x = 1;\n", "x"],
      execution_count: 1,
      outputs: [
        { output_type: "stream", name: "stdout", text: ["one\n", "two\n"] },
        { output_type: "display_data", data: { "image/svg+xml": ["<svg>\n", "</svg>"], "application/json": { a: [1] } }, metadata: {} },
        { output_type: "execute_result", data: { "text/plain": "1" }, metadata: {}, execution_count: 1 },
      ],
    };
    const text = JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: { kernelspec: { name: "tslab" } }, cells: [cell] });
    const nb = parseNotebook(text, "rt.ipynb");
    const again = parseNotebook(serializeNotebook(nb), "rt.ipynb");
    assert.deepEqual(again, nb);
    assert.deepEqual(JSON.parse(serializeNotebook(nb)).cells[0].source, ["let x = 1;\n", "x"], "stored as Jupyter stores it");
    const clean = clearOutputs(nb);
    assert.deepEqual(clean.cells[0]!.outputs, []);
    assert.equal(clean.cells[0]!.executionCount, null);
    assert.deepEqual(clean.cells[0]!.tags, ["parameters"]);
  });
});

describe("describeCellError", () => {
  it("reads a JS error tslab printed to stderr and drops kernel stack frames", () => {
    const err = codeCell([
      {
        output_type: "stream",
        name: "stderr",
        text: "evalmachine.<anonymous>:2\nTypeError: rows.map is not a function\n    at evalmachine.<anonymous>:2:7\n    at Script.runInThisContext (node:vm:135:14)\n    at Object.execute (/p/node_modules/tslab/dist/executor.js:160:38)\n",
      },
    ]);
    const d = describeCellError(err);
    assert.equal(d.ename, "TypeError");
    assert.equal(d.evalue, "rows.map is not a function");
    assert.match(d.text, /at evalmachine/);
    assert.ok(!/node:vm|tslab\/dist/.test(d.text));
  });

  it("reads TypeScript compiler messages as a CompileError", () => {
    const d = describeCellError(codeCell([{ output_type: "stream", name: "stderr", text: "3:7 - Cannot find name 'ohlc2m'.\n" }]));
    assert.deepEqual([d.ename, d.evalue], ["CompileError", "3:7 - Cannot find name 'ohlc2m'."]);
  });

  it("prefers an error output, then the execute reply", () => {
    const withError = codeCell([
      { output_type: "stream", name: "stderr", text: "noise\n" },
      { output_type: "error", ename: "ValueError", evalue: "bad", traceback: ["\u001b[31mValueError\u001b[0m: bad"] },
    ]);
    assert.deepEqual(describeCellError(withError), { ename: "ValueError", evalue: "bad", text: "ValueError: bad" });
    const plain = codeCell([{ output_type: "stream", name: "stderr", text: "something odd\n" }]);
    assert.equal(describeCellError(plain, { ename: "KernelError", evalue: "x" }).ename, "KernelError");
    assert.deepEqual(describeCellError(plain).evalue, "something odd");
  });
});

describe("sourceNumbers", () => {
  it("maps executed cells back to the source notebook's numbers around an injected cell", () => {
    const src = parseNotebook(readFileSync(new URL("params.ipynb", FIXTURES), "utf8"), "params.ipynb");
    const injected = injectParameters(src, { who: "x" });
    assert.deepEqual(sourceNumbers(src, injected, true), [1, 2, undefined, 3]);
    assert.deepEqual(sourceNumbers(src, src, false), [1, 2, 3]);
  });
});
