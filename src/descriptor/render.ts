/**
 * Parsing for editing, and rendering that changes only what was edited.
 *
 * The `yaml` package keeps comments and key order through a round trip, but its stringifier re-flows what it
 * prints: the spacing before a trailing comment, a comment that follows an indented block, blank lines near the
 * end. So a document parsed here renders by splicing: every subtree still equal to what was parsed is copied from
 * the original text byte for byte, and only edited or new nodes are printed by the `yaml` stringifier, indented
 * to where they sit. `String(doc)` on such a document does this. As a last guard the result is re-parsed and
 * must mean exactly what the edited document means; otherwise the plain stringifier's output is used.
 *
 * `{{NAME}}` placeholders are masked before parsing (placeholders.ts) and unmasked in whatever is rendered, so
 * they come back byte for byte, wherever they stand (values, keys, comments).
 */
import { isDeepStrictEqual } from "node:util";
import {
  Document,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  Pair,
  parseDocument,
  type Scalar,
  type ToStringOptions,
  YAMLMap,
  type YAMLSeq,
} from "yaml";
import { type Mask, maskPlaceholders, unmask } from "./placeholders.js";

type Block = YAMLMap | YAMLSeq;

interface Original {
  readonly text: string;
  /** Fingerprints of every node as parsed: an equal fingerprint later means "untouched, copy its bytes". */
  readonly prints: WeakMap<object, string>;
  /** Each node's own print (style and comments, not children) as parsed. */
  readonly owns: WeakMap<object, string>;
  readonly rootPrint: string;
  /** Each collection's items as parsed, in source order (their source segments are cut from these). */
  readonly items: WeakMap<object, readonly unknown[]>;
  /** The document's own comments as parsed. */
  readonly docPrint: string;
  readonly style: ToStringOptions;
  readonly mask: Mask;
}

const originals = new WeakMap<Document, Original>();

/** Parse YAML text into a Document that remembers its source, so `String(doc)` after edits keeps untouched bytes. */
export function parseEditable(source: string): { doc: Document.Parsed; lineCounter: LineCounter; mask: Mask } {
  const mask = maskPlaceholders(source);
  const text = mask.text;
  const lineCounter = new LineCounter();
  // Quix's own templates repeat a key now and then (a topic's configuration listing replicationFactor twice) and
  // Quix accepts them: so does quixlab, the last one counting, as in the parsed value (`toJS`).
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: false });
  if (doc.errors.length > 0) return { doc, lineCounter, mask };
  const style = detectStyle(doc, text);
  const prints = new WeakMap<object, string>();
  const owns = new WeakMap<object, string>();
  const items = new WeakMap<object, readonly unknown[]>();
  const visit = (n: unknown): void => {
    if (isPair(n)) {
      visit(n.key);
      visit(n.value);
    } else if (isMap(n) || isSeq(n)) {
      items.set(n, [...n.items]);
      n.items.forEach(visit);
    }
    if (n === null || typeof n !== "object") return;
    prints.set(n, fingerprint(n));
    if (!isPair(n)) owns.set(n, ownPrint(n as Node));
  };
  visit(doc.contents);
  const rootPrint = fingerprint(doc.contents);
  originals.set(doc, { text, prints, owns, rootPrint, items, docPrint: docFingerprint(doc), style, mask });
  doc.toString = (opts?: ToStringOptions) => (opts ? unmask(plain(doc, { ...style, ...opts }), mask) : renderEdited(doc));
  return { doc, lineCounter, mask };
}

/** The placeholder mask of a document parsed by `parseEditable` (none for other documents). */
export function maskOf(doc: Document): Mask | undefined {
  return originals.get(doc)?.mask;
}

/** The document as text: untouched parts byte for byte from the source it was parsed from (see module doc). */
export function renderEdited(doc: Document): string {
  const o = originals.get(doc);
  if (!o) return plain(doc, {});
  return unmask(renderMasked(doc, o), o.mask);
}

function renderMasked(doc: Document, o: Original): string {
  if (docFingerprint(doc) !== o.docPrint) return plain(doc, o.style);
  const root = doc.contents;
  if (!(isMap(root) || isSeq(root)) || !o.prints.has(root) || !isBlockInSource(root, o)) {
    return fingerprint(root) === o.rootPrint ? o.text : plain(doc, o.style);
  }
  const r = new Renderer(o);
  const body = r.collection(root);
  if (body === undefined) return plain(doc, o.style);
  const out = o.text.slice(0, r.start(root)) + body + o.text.slice(r.end(root));
  // Never hand out text whose meaning differs from the edited document.
  const check = parseDocument(out, { uniqueKeys: false });
  if (check.errors.length > 0 || !isDeepStrictEqual(check.toJS(), doc.toJS())) return plain(doc, o.style);
  return out;
}

/** The `yaml` package's own stringifier (bypassing the splicing override). */
function plain(doc: Document, opts: ToStringOptions): string {
  return Document.prototype.toString.call(doc, { lineWidth: 0, ...opts });
}

class Renderer {
  constructor(private readonly o: Original) {}

  private get text(): string {
    return this.o.text;
  }

  /** Start of a node's text: its line start when only indentation precedes it, else the node itself (after "- "). */
  start(n: Node): number {
    const at = n.range![0];
    const ls = lineStart(this.text, at);
    return /^[ ]*$/.test(this.text.slice(ls, at)) ? ls : at;
  }

  /** End of a node's text, always at a line end (or the end of the file). */
  end(n: Node): number {
    const at = n.range![2];
    // A range may stop at the next line's indentation; that indentation belongs to the next node.
    const ls = lineStart(this.text, at);
    return at > ls && /^[ ]*$/.test(this.text.slice(ls, at)) ? ls : lineEndAfter(this.text, at);
  }

  /** Same style and comments as parsed (children or value may differ). */
  private sameOwn(n: Node): boolean {
    return this.o.owns.get(n) === ownPrint(n);
  }

  private unchanged(n: unknown): boolean {
    return n !== null && typeof n === "object" && this.o.prints.get(n) === fingerprint(n);
  }

  /** Text for a block collection that was parsed from the source; undefined when it cannot be spliced in place. */
  collection(node: Block): string | undefined {
    if (this.unchanged(node)) return this.text.slice(this.start(node), this.end(node));
    if (!this.sameOwn(node)) return undefined;
    if (node.items.length === 0) return undefined;
    const before = this.o.items.get(node) ?? [];
    const midLine = this.start(node) === node.range![0] && lineStart(this.text, node.range![0]) !== node.range![0];
    const col = column(this.text, node.range![0]);
    const segs = new Map<unknown, [number, number]>();
    let cursor = this.start(node);
    for (const it of before) {
      const endNode = isPair(it) ? ((it.value as Node | null) ?? (it.key as Node)) : (it as Node);
      if (!endNode?.range) return undefined;
      const e = this.end(endNode);
      if (e < cursor) return undefined;
      segs.set(it, [cursor, e]);
      cursor = e;
    }
    const nodeEnd = this.end(node);
    if (nodeEnd < cursor) return undefined;
    const tail = this.text.slice(cursor, nodeEnd);
    const gap = before.length > 1 && spaceBefore(before[before.length - 1]) ? "\n" : "";
    let out = "";
    for (const [i, it] of node.items.entries()) {
      const seg = segs.get(it);
      if (i === 0 && midLine && seg?.[0] !== this.start(node)) return undefined;
      let piece: string | undefined;
      if (seg) piece = isPair(it) ? this.pair(it, seg, col) : this.item(it as Node, seg, col);
      else piece = gap + (isPair(it) ? freshPair(it, col, true, this.o.style) : freshItem(it as Node, col, this.o.style));
      if (piece === undefined) return undefined;
      if (!seg && out !== "" && !out.endsWith("\n")) out += "\n";
      out += piece;
    }
    return out + tail;
  }

  /** A map entry that existed in the source, within its source segment [from, to). */
  private pair(p: Pair, [from, to]: [number, number], col: number): string | undefined {
    if (this.unchanged(p)) return this.text.slice(from, to);
    if ((p.key as Node | null)?.range && from > (p.key as Node).range![0]) return undefined;
    const key = p.key as Node;
    const v = p.value as Node | null;
    if (this.unchanged(key) && v && this.o.prints.has(v) && v.range) {
      if ((isScalar(v) || isFlow(v)) && this.sameOwn(v)) {
        const s = inlineText(v, this.o.style);
        if (s !== undefined) return this.text.slice(from, v.range[0]) + s + this.text.slice(v.range[1], to);
      }
      if ((isMap(v) || isSeq(v)) && isBlockInSource(v, this.o)) {
        const inner = this.collection(v);
        if (inner !== undefined) return this.text.slice(from, this.start(v)) + inner + this.text.slice(this.end(v), to);
      }
    }
    // Re-print the whole entry, keeping the comment lines and blank lines that precede it.
    const ks = key.range ? lineStart(this.text, key.range[0]) : from;
    const keep = this.unchanged(key) && ks >= from ? this.text.slice(from, ks) : "";
    const indentFirst = ks >= from;
    return keep + freshPair(p, col, indentFirst, this.o.style, this.unchanged(key));
  }

  /** A sequence item that existed in the source, within its source segment [from, to). */
  private item(n: Node, [from, to]: [number, number], col: number): string | undefined {
    if (this.unchanged(n)) return this.text.slice(from, to);
    if (!n.range || from > n.range[0]) return undefined;
    if ((isMap(n) || isSeq(n)) && isBlockInSource(n, this.o) && this.sameOwn(n)) {
      const inner = this.collection(n);
      if (inner !== undefined) return this.text.slice(from, this.start(n)) + inner + this.text.slice(this.end(n), to);
    }
    if ((isScalar(n) || isFlow(n)) && this.sameOwn(n)) {
      const s = inlineText(n, this.o.style);
      if (s !== undefined) return this.text.slice(from, n.range[0]) + s + this.text.slice(n.range[1], to);
    }
    const ls = n.range ? lineStart(this.text, n.range[0]) : from;
    if (ls < from) return undefined;
    return this.text.slice(from, ls) + freshItem(n, col, this.o.style, true);
  }
}

/** A new or rewritten `key: value` entry, indented to `col`. */
function freshPair(p: Pair, col: number, indentFirst: boolean, style: ToStringOptions, dropKeyComments = false): string {
  const key = isScalar(p.key) ? (p.key.clone() as Scalar) : p.key;
  if (dropKeyComments && isScalar(key)) {
    key.commentBefore = undefined;
    key.spaceBefore = false;
  }
  const m = new YAMLMap();
  m.items.push(new Pair(key, p.value));
  return indentBlock(stringifyNode(m, style), col, indentFirst);
}

/** A new or rewritten `- item` of a block sequence whose dashes sit at `col`. */
function freshItem(n: Node, col: number, style: ToStringOptions, dropComments = false): string {
  let node = n;
  if (dropComments && (isMap(n) || isSeq(n) || isScalar(n))) {
    node = n.clone() as Node;
    node.commentBefore = undefined;
    node.spaceBefore = false;
  }
  const body = stringifyNode(node, style);
  const [first = "", ...rest] = body.replace(/\n$/, "").split("\n");
  const pad = " ".repeat(col);
  return `${pad}- ${first}\n${rest.map((l) => (l === "" ? "" : `${pad}  ${l}`) + "\n").join("")}`;
}

function stringifyNode(n: unknown, style: ToStringOptions): string {
  const d = new Document(null);
  d.contents = n as Node;
  return plain(d, style);
}

/** A scalar or flow collection as one line of text without its comments; undefined when it would span lines. */
function inlineText(s: Scalar | Block, style: ToStringOptions): string | undefined {
  const c = s.clone() as Scalar | Block;
  c.comment = undefined;
  c.commentBefore = undefined;
  c.spaceBefore = false;
  const out = stringifyNode(c, style).replace(/\n$/, "");
  return out.includes("\n") ? undefined : out;
}

function indentBlock(text: string, col: number, indentFirst: boolean): string {
  const pad = " ".repeat(col);
  const lines = text.replace(/\n$/, "").split("\n");
  return lines.map((l, i) => (l === "" || (i === 0 && !indentFirst) ? l : pad + l)).join("\n") + "\n";
}

function spaceBefore(it: unknown): boolean {
  if (isPair(it)) return Boolean((it.key as Node | null)?.spaceBefore);
  return Boolean((it as Node | null)?.spaceBefore);
}

function isFlow(n: unknown): n is Block {
  return (isMap(n) || isSeq(n)) && Boolean(n.flow);
}

function isBlockInSource(n: Block, o: Original): boolean {
  if (n.flow || !n.range) return false;
  const c = o.text[n.range[0]];
  return c !== "[" && c !== "{";
}

function fingerprint(n: unknown): string {
  if (n === null || n === undefined) return "~";
  if (isScalar(n)) return `s${ownPrint(n)}${JSON.stringify([typeof n.value, n.value ?? null])}`;
  if (isPair(n)) return `p(${fingerprint(n.key)}:${fingerprint(n.value)})`;
  if (isMap(n) || isSeq(n)) return `c${ownPrint(n)}[${n.items.map(fingerprint).join(",")}]`;
  return isAlias(n) ? `*${n.source}` : "?";
}

/** The parts of a node other than its children or scalar value: kind, style, tag and comments. */
function ownPrint(n: Node): string {
  const kind = isMap(n) ? "map" : isSeq(n) ? "seq" : "scalar";
  const flow = isMap(n) || isSeq(n) ? Boolean(n.flow) : (n as Scalar).type ?? "";
  return JSON.stringify([kind, flow, n.tag ?? "", n.commentBefore ?? "", n.comment ?? "", Boolean(n.spaceBefore)]);
}

function docFingerprint(doc: Document): string {
  return JSON.stringify([doc.commentBefore ?? "", doc.comment ?? ""]);
}

function lineStart(text: string, at: number): number {
  return text.lastIndexOf("\n", at - 1) + 1;
}

function lineEndAfter(text: string, at: number): number {
  if (at <= 0 || text[at - 1] === "\n") return at;
  const nl = text.indexOf("\n", at);
  return nl === -1 ? text.length : nl + 1;
}

function column(text: string, at: number): number {
  return at - lineStart(text, at);
}

/** Indentation and quoting of the file, so whatever the stringifier prints matches its neighbours. */
function detectStyle(doc: Document, text: string): ToStringOptions {
  let indent: number | undefined;
  let indentSeq: boolean | undefined;
  const quotes = { single: 0, double: 0 };
  let flowCollectionPadding: boolean | undefined;
  const walk = (n: unknown): void => {
    if ((isMap(n) || isSeq(n)) && n.flow && n.range && n.items.length > 0 && flowCollectionPadding === undefined) {
      flowCollectionPadding = text[n.range[0] + 1] === " ";
    }
    if (isScalar(n)) {
      if (n.type === "QUOTE_SINGLE") quotes.single++;
      if (n.type === "QUOTE_DOUBLE") quotes.double++;
    } else if (isMap(n)) {
      for (const p of n.items) {
        const k = p.key as Node | null;
        const v = p.value as Node | null;
        if (k?.range && v?.range && (isMap(v) || isSeq(v)) && !v.flow && lineStart(text, v.range[0]) !== lineStart(text, k.range[0])) {
          const d = column(text, v.range[0]) - column(text, k.range[0]);
          if (isMap(v) && indent === undefined && d > 0) indent = d;
          if (isSeq(v) && indentSeq === undefined) indentSeq = d > 0;
        }
        walk(v);
      }
    } else if (isSeq(n)) n.items.forEach(walk);
  };
  walk(doc.contents);
  // Quix writes '' for empty descriptions; follow the file when it clearly prefers double quotes.
  const singleQuote = quotes.double <= quotes.single;
  return { indent: indent ?? 2, indentSeq: indentSeq ?? true, singleQuote, flowCollectionPadding: flowCollectionPadding ?? true, lineWidth: 0 };
}
