import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { unifiedDiff } from "../../src/promote/diff.js";

/** Apply a unified diff to `before` (checking every context and removed line), as `patch` would. */
function applyPatch(before: string, diff: string): string {
  const a = before === "" ? [] : before.replace(/\n$/, "").split("\n");
  const out: string[] = [];
  let at = 0;
  const lines = diff.replace(/\n$/, "").split("\n").slice(2);
  for (let i = 0; i < lines.length; ) {
    const m = /^@@ -(\d+),(\d+) \+(\d+),(\d+) @@$/.exec(lines[i]!);
    assert.ok(m, `hunk header: ${lines[i]}`);
    const start = Number(m[2]) === 0 ? Number(m[1]) : Number(m[1]) - 1;
    while (at < start) out.push(a[at++]!);
    for (i++; i < lines.length && !lines[i]!.startsWith("@@"); i++) {
      const [kind, text] = [lines[i]![0], lines[i]!.slice(1)];
      if (kind === "+") out.push(text);
      else {
        assert.equal(a[at], text, `line ${at + 1} of the original`);
        if (kind === " ") out.push(text);
        at++;
      }
    }
  }
  while (at < a.length) out.push(a[at++]!);
  return out.length ? `${out.join("\n")}\n` : "";
}

describe("unifiedDiff", () => {
  it("is empty for equal texts", () => {
    assert.equal(unifiedDiff("a\nb\n", "a\nb\n", "f"), "");
  });

  it("prints a hunk with three lines of context", () => {
    const before = "1\n2\n3\n4\n5\n6\n7\n8\n";
    const after = "1\n2\n3\n4\nfive\n6\n7\n8\n";
    assert.equal(unifiedDiff(before, after, "f.txt"), "--- a/f.txt\n+++ b/f.txt\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n");
  });

  it("shows a new file against /dev/null", () => {
    assert.equal(unifiedDiff(null, "x\ny\n", "new.ts"), "--- /dev/null\n+++ b/new.ts\n@@ -0,0 +1,2 @@\n+x\n+y\n");
  });

  it("splits distant changes into separate hunks", () => {
    const before = `${Array.from({ length: 30 }, (_, i) => `l${i}`).join("\n")}\n`;
    const after = before.replace("l2\n", "L2\n").replace("l25\n", "l25\nnew\n");
    const d = unifiedDiff(before, after, "f");
    assert.equal(d.match(/^@@/gm)?.length, 2);
    assert.equal(applyPatch(before, d), after);
  });

  it("round-trips arbitrary edits", () => {
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let round = 0; round < 200; round++) {
      const a = Array.from({ length: rnd(25) }, () => `v${rnd(6)}`);
      const b = [...a];
      for (let k = rnd(6); k > 0; k--) {
        const op = rnd(3);
        const at = rnd(b.length + 1);
        if (op === 0) b.splice(at, 0, `n${rnd(6)}`);
        else if (op === 1 && b.length) b.splice(at % b.length, 1);
        else if (b.length) b[at % b.length] = `c${rnd(6)}`;
      }
      const before = a.length ? `${a.join("\n")}\n` : "";
      const after = b.length ? `${b.join("\n")}\n` : "";
      assert.equal(applyPatch(before, unifiedDiff(before, after, "f")), after, `round ${round}`);
    }
  });
});

describe("unifiedDiff on YAML lists", () => {
  it("shows an entry appended after a similar one as one whole block", () => {
    const entry = (n: string) => `  - name: ${n}\n    persisted: false\n    configuration:\n      partitions: 1\n`;
    // An earlier change too, so the common-suffix trim (not the common prefix) meets the repeated lines.
    const before = `deployments: []\ntopics:\n${entry("a")}${entry("b")}# end\n`;
    const after = `deployments: [x]\ntopics:\n${entry("a")}${entry("b")}${entry("c")}# end\n`;
    const d = unifiedDiff(before, after, "quix.yaml");
    const added = d.split("\n").filter((l) => l.startsWith("+") && !l.startsWith("+++"));
    assert.equal(added.slice(1).join("\n"), entry("c").trimEnd().replace(/^/gm, "+"));
    assert.equal(applyPatch(before, d), after);
  });
});
