/** A small line diff in unified format, for `promote --dry-run` (quix.yaml and app files are small texts). */

type Op = { kind: " " | "-" | "+"; line: string };

function splitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

/** Edit script of two line arrays: common prefix and suffix trimmed, the middle by longest common subsequence. */
function lineOps(a: readonly string[], b: readonly string[]): Op[] {
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  const x = a.slice(pre, a.length - suf);
  const y = b.slice(pre, b.length - suf);
  const w = y.length + 1;
  // lcs[i*w+j] = LCS length of x[i..] and y[j..]
  const lcs = new Uint32Array((x.length + 1) * w);
  for (let i = x.length - 1; i >= 0; i--) {
    for (let j = y.length - 1; j >= 0; j--) {
      lcs[i * w + j] = x[i] === y[j] ? lcs[(i + 1) * w + j + 1]! + 1 : Math.max(lcs[(i + 1) * w + j]!, lcs[i * w + j + 1]!);
    }
  }
  const ops: Op[] = a.slice(0, pre).map((line) => ({ kind: " ", line }));
  let i = 0;
  let j = 0;
  while (i < x.length || j < y.length) {
    if (i < x.length && j < y.length && x[i] === y[j]) {
      ops.push({ kind: " ", line: x[i]! });
      i++;
      j++;
    } else if (j < y.length && (i === x.length || lcs[i * w + j + 1]! > lcs[(i + 1) * w + j]!)) {
      // Ties remove first, so a changed line reads "-old" then "+new", as diff -u prints it.
      ops.push({ kind: "+", line: y[j++]! });
    } else {
      ops.push({ kind: "-", line: x[i++]! });
    }
  }
  for (const line of a.slice(a.length - suf)) ops.push({ kind: " ", line });
  return slideDown(ops);
}

/**
 * Move each run of only-added (or only-removed) lines as far down as equal lines allow. Where repeated lines make
 * the match ambiguous (a new YAML entry shaped like the one above it), the run then holds the new entry whole
 * instead of straddling two, as git's diff also prefers.
 */
function slideDown(ops: Op[]): Op[] {
  for (let s = 0; s < ops.length; ) {
    const kind = ops[s]!.kind;
    let e = s;
    while (e < ops.length && ops[e]!.kind === kind) e++;
    if (kind !== " ") {
      while (e < ops.length && ops[e]!.kind === " " && ops[e]!.line === ops[s]!.line) {
        ops[s]!.kind = " ";
        ops[e]!.kind = kind;
        s++;
        e++;
      }
    }
    s = e;
  }
  return ops;
}

/**
 * `before` → `after` as a unified diff (`---`/`+++` headers, `@@` hunks with `context` lines around changes);
 * "" when the texts are equal. Pass `null` for a file that does not exist yet.
 * @example unifiedDiff("a\nb\n", "a\nc\n", "quix.yaml")
 */
export function unifiedDiff(before: string | null, after: string | null, label: string, context = 3): string {
  if (before === after) return "";
  const ops = lineOps(splitLines(before ?? ""), splitLines(after ?? ""));
  const out = [`--- ${before === null ? "/dev/null" : `a/${label}`}`, `+++ ${after === null ? "/dev/null" : `b/${label}`}`];
  const changed = ops.map((o, k) => (o.kind !== " " ? k : -1)).filter((k) => k >= 0);
  let k = 0;
  while (k < changed.length) {
    // Grow a hunk while the next change is close enough that the contexts would touch.
    let end = k;
    while (end + 1 < changed.length && changed[end + 1]! - changed[end]! <= 2 * context + 1) end++;
    const from = Math.max(0, changed[k]! - context);
    const to = Math.min(ops.length, changed[end]! + context + 1);
    let aStart = 1;
    let bStart = 1;
    for (const o of ops.slice(0, from)) {
      if (o.kind !== "+") aStart++;
      if (o.kind !== "-") bStart++;
    }
    const hunk = ops.slice(from, to);
    const aLen = hunk.filter((o) => o.kind !== "+").length;
    const bLen = hunk.filter((o) => o.kind !== "-").length;
    // Unified diff convention: an empty range starts at the line before it.
    out.push(`@@ -${aLen ? aStart : aStart - 1},${aLen} +${bLen ? bStart : bStart - 1},${bLen} @@`);
    for (const o of hunk) out.push(`${o.kind}${o.line}`);
    k = end + 1;
  }
  return `${out.join("\n")}\n`;
}
