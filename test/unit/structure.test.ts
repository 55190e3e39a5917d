import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { checkStructure, cyclePath, findCycles, formatReport, importSpecifiers, isClean, MAX_LINES } from "../../scripts/structure.js";

const root = fileURLToPath(new URL("../..", import.meta.url));

describe("structure check: the pieces", () => {
  test("findCycles: strongly connected components with a cycle, self-imports included, acyclic parts left out", () => {
    const graph = new Map([
      ["a", ["b"]],
      ["b", ["c"]],
      ["c", ["a", "d"]],
      ["d", ["d", "e"]],
      ["e", ["f"]],
      ["f", []],
      ["x", ["y"]],
      ["y", ["x", "a"]],
    ]);
    assert.deepEqual(findCycles(graph), [["a", "b", "c"], ["d"], ["x", "y"]]);
    assert.deepEqual(cyclePath(graph, ["a", "b", "c"]), ["a", "b", "c", "a"]);
    assert.deepEqual(cyclePath(graph, ["d"]), ["d", "d"]);
    assert.deepEqual(findCycles(new Map([["a", ["b", "c"]], ["b", ["c"]], ["c", []]])), [], "a diamond is no cycle");
  });

  test("importSpecifiers: static, type-only, re-exports, side effects, dynamic import and require; not comments or strings", () => {
    const source = [
      '// import { gone } from "./commented.js";',
      '/** @example await import("./doc.js") */',
      'import type { A } from "./a.js";',
      'import b, { c } from "../b.js";',
      'export { d } from "./d.js";',
      'export type { E } from "./e.js";',
      'export * from "./f.js";',
      'import "./side.js";',
      'const g = await import("./g.js");',
      'const s = "import(\\"./in-a-string.js\\")";',
      'const k = require("kafkajs/src/network/connection");',
    ].join("\n");
    assert.deepEqual(importSpecifiers(source), ["./a.js", "../b.js", "./d.js", "./e.js", "./f.js", "./side.js", "./g.js", "kafkajs/src/network/connection"]);
  });

  describe("checkStructure on a small tree made to fail", () => {
    const dir = mkdtempSync(join(tmpdir(), "quixlab-structure-"));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const write = (path: string, text: string) => {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    };
    write("src/a/one.ts", 'import type { Two } from "../b/two.js";\nexport type One = { two?: Two };\n');
    write("src/b/two.ts", 'import { three } from "./index.js";\nexport type Two = { n: number };\nexport const two = three;\n');
    write("src/b/index.ts", 'export const three = 3;\nexport const one = () => import("../a/one.js");\n');
    write("src/b/view.tsx", 'import { two } from "./two.js";\nexport const v = two;\n');
    write("src/kafka/client.ts", 'import { Kafka } from "kafkajs";\nexport const k = Kafka;\n');
    write("src/stream/step.ts", `import type { Producer } from "kafkajs";\nexport type P = Producer;\n${"//\n".repeat(MAX_LINES)}`);
    const r = checkStructure(dir);

    test("a type-only import and a dynamic one close a circle; it is found, with a loop to show", () => {
      assert.equal(r.files, 6);
      assert.deepEqual(r.cycles, [{ files: ["src/a/one.ts", "src/b/index.ts", "src/b/two.ts"], path: ["src/a/one.ts", "src/b/two.ts", "src/b/index.ts", "src/a/one.ts"] }]);
    });

    test("long files and kafkajs outside src/kafka/ are listed; src/kafka/ may import it", () => {
      assert.deepEqual(r.long, [{ file: "src/stream/step.ts", lines: MAX_LINES + 2 }]);
      assert.deepEqual(r.kafkajs, [{ file: "src/stream/step.ts", imports: ["kafkajs"] }]);
      assert.equal(isClean(r), false);
      const text = formatReport(r);
      assert.match(text, /import circles: 1\n {2}3 files: src\/a\/one\.ts, src\/b\/index\.ts, src\/b\/two\.ts\n/);
      assert.match(text, /src\/stream\/step\.ts {2}452 lines/);
      assert.match(text, /kafkajs imported outside src\/kafka\/: 1\n {2}src\/stream\/step\.ts {2}\(kafkajs\)/);
    });
  });
});

describe("structure of src/ (issue #13)", () => {
  const report = checkStructure(root);
  const list = (items: string[]) => `\n  ${items.join("\n  ")}\n(run \`npm run structure\` for the whole report)`;

  test("no import circles", () => {
    assert.ok(report.files > 50, "it read the tree");
    assert.deepEqual(report.cycles, [], `import circles in src/:${list(report.cycles.map((c) => c.path.join(" -> ")))}`);
  });

  test(`no file over ${MAX_LINES} lines`, () => {
    assert.deepEqual(report.long, [], `src/ files over ${MAX_LINES} lines:${list(report.long.map((l) => `${l.file}  ${l.lines} lines`))}`);
  });

  test("kafkajs is imported only under src/kafka/", () => {
    assert.deepEqual(report.kafkajs, [], `kafkajs imported outside src/kafka/:${list(report.kafkajs.map((k) => k.file))}`);
  });
});
