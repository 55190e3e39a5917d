import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { checkNotebook } from "../../src/notebook/check.js";
import { parseNotebook } from "../../src/notebook/model.js";
import { repoRoot, runCli } from "../helpers/cli.js";

const FIXTURES = fileURLToPath(new URL("../fixtures/notebooks/", import.meta.url));

/** An in-memory notebook that "lives" in the fixtures folder, so packages resolve from the project. */
function nb(name: string, ...sources: string[]) {
  const cells = sources.map((source, i) => ({ cell_type: "code", id: `c${i + 1}`, metadata: {}, source, outputs: [], execution_count: null }));
  return parseNotebook(JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells }), `${FIXTURES}${name}.ipynb`);
}

describe("checkNotebook", () => {
  it("passes exports whose extracted module type-checks, importing packages from the notebook's folder", () => {
    const report = checkNotebook(
      nb("virtual-ok", 'import { join } from "node:path";', "const base = (f: string) => join('data', f);", "//| export\nconst dataFile = (name: string): string => base(name + '.jsonl');"),
    );
    assert.equal(report.ok, true, JSON.stringify(report.exports, null, 2));
    assert.deepEqual(report.exports.map((e) => [e.name, e.ok, e.cellIds]), [["dataFile", true, ["c1", "c2", "c3"]]]);
    assert.deepEqual(report.exports[0]!.modules, ["node:path"]);
  });

  it("fails an export whose module does not type-check under the project's strict options, naming the cell", () => {
    // tslab runs this happily (it is not strict); the project's tsconfig is, so a deployed step would not compile.
    const report = checkNotebook(nb("virtual-bad", "function twice(x) { return x * 2; }", "//| export\nconst four = twice(2);", "//| export\nconst fine = 1;"));
    assert.equal(report.ok, false);
    const four = report.exports.find((e) => e.name === "four")!;
    assert.equal(four.ok, false);
    assert.ok(four.diagnostics.some((d) => /\(cell 1 id c1\): TS7006: Parameter 'x' implicitly has an 'any' type/.test(d)), four.diagnostics.join("\n"));
    assert.equal(report.exports.find((e) => e.name === "fine")!.ok, true);
  });

  it("reports an export that cannot be extracted instead of throwing", () => {
    const report = checkNotebook(nb("virtual-display", 'import * as tslab from "tslab";', "//| export\nconst show = () => tslab.display.text('x');"));
    assert.equal(report.ok, false);
    assert.match(report.exports[0]!.diagnostics[0]!, /depends on display code/);
  });

  it("is not ok when nothing is exported", () => {
    assert.equal(checkNotebook(nb("virtual-none", "const a = 1;")).ok, false);
  });
});

describe("quixlab notebook check", () => {
  it("lists the fixture's export and exits 0; --json prints the report", async () => {
    const r = await runCli(repoRoot, "notebook", "check", "test/fixtures/notebooks/export.ipynb");
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /✓ realisedVol {2}\(function, defined in cell 5 id realised; uses cells helpers, realised\)/);
    const json = await runCli(repoRoot, "notebook", "check", "test/fixtures/notebooks/export.ipynb", "--json");
    assert.equal(json.code, 0, json.err);
    const report = JSON.parse(json.out) as { ok: boolean; exports: { name: string }[] };
    assert.equal(report.ok, true);
    assert.deepEqual(report.exports.map((e) => e.name), ["realisedVol"]);
  });

  it("exits 2 naming the file when the notebook is not JSON", async () => {
    const r = await runCli(repoRoot, "notebook", "check", "package.json.missing.ipynb");
    assert.equal(r.code, 2);
    assert.match(r.err, /package\.json\.missing\.ipynb: cannot read notebook: ENOENT/);
  });
});
