/**
 * Typed, located reading of a parsed YAML document: `Checker` collects errors with file:line:column (offsets mapped
 * through the parser's LineCounter), `Fields` reads the documented keys of one mapping and reports what is missing
 * or malformed. The section readers in sections.ts are written in terms of these two.
 *
 * A scalar holding a `{{NAME}}` placeholder stands for "a value of the right type, known later": without values
 * to fill it, text fields read as the placeholder text and typed fields (numbers, booleans, enums) read as
 * absent, with no error. Given a lookup, it is filled, read as YAML reads it, and type-checked where it stands.
 */
import type { LineCounter, Node, YAMLError } from "yaml";
import { isMap, isScalar, isSeq, type YAMLMap, type YAMLSeq } from "yaml";
import { type Mask, type PlaceholderLookup, scalarValue, substitute, unmask, unmaskData } from "./placeholders.js";
import type { DescriptorError, DescriptorErrorCode } from "./types.js";

const NO_MASK: Mask = { text: "", tokens: new Map(), found: [] };
const TOKEN = /[\uE000-\uE01F]/;

/** Collects located errors. */
export class Checker {
  readonly errors: DescriptorError[] = [];
  constructor(
    readonly file: string,
    private readonly lc: LineCounter,
    readonly mask: Mask = NO_MASK,
    /** Fills placeholders when given (`validate --resolve`, `up`); otherwise they stay unresolved, without error. */
    readonly lookup?: PlaceholderLookup,
  ) {}

  /** A value or plain data from the document, with its placeholders as written. */
  unmask(s: string): string {
    return unmask(s, this.mask);
  }

  data(node: Node | undefined): unknown {
    return node === undefined ? undefined : unmaskData(node.toJSON(), this.mask);
  }

  position(at: Node | number | undefined): { line: number; col: number } {
    const offset = typeof at === "number" ? at : (at?.range?.[0] ?? 0);
    return this.lc.linePos(offset);
  }

  report(at: Node | number | undefined, path: string, code: DescriptorErrorCode, message: string, remedy: string): void {
    const { line, col } = this.position(at);
    this.errors.push(Object.freeze({ file: this.file, line, column: col, code, message, remedy, path }));
  }

  syntax(e: YAMLError): void {
    const [line, col] = e.linePos?.[0] ? [e.linePos[0].line, e.linePos[0].col] : [this.position(e.pos[0]).line, this.position(e.pos[0]).col];
    const first = (e.message.split("\n")[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, "");
    this.errors.push(
      Object.freeze({ file: this.file, line, column: col, code: "yaml-syntax" as const, message: `not valid YAML: ${first}`, remedy: "fix the YAML at this position (indent with spaces, one document per file)", path: "" }),
    );
  }

  /** The node as a mapping, or an error saying it should be one. */
  mapping(node: Node | null | undefined, path: string, label: string, remedy: string): Fields | undefined {
    if (isMap(node)) return new Fields(this, node, path, label);
    if (node === null || node === undefined || (isScalar(node) && node.value === null)) {
      this.report(node ?? undefined, path, "not-a-mapping", `${label} is empty`, remedy);
    } else this.report(node, path, "not-a-mapping", `${label} must be a mapping, found ${kindOf(node)}`, remedy);
    return undefined;
  }
}

interface FieldOpts {
  required?: boolean;
  remedy?: string;
}

interface IntegerOpts extends FieldOpts {
  min: number;
  allowMinusOne?: boolean;
  code: DescriptorErrorCode;
  rule: string;
}

/** Typed access to the documented keys of one mapping, reporting what is missing or malformed. */
export class Fields {
  constructor(
    private readonly c: Checker,
    private readonly node: YAMLMap,
    readonly path: string,
    public label: string,
  ) {}

  private at(key: string): string {
    return this.path ? `${this.path}.${key}` : key;
  }

  has(key: string): boolean {
    return this.node.has(key);
  }

  /** The value node of `key` (its last occurrence: a repeated key counts once, as its last value). */
  nodeOf(key: string): Node | undefined {
    const pair = this.node.items.findLast((p) => isScalar(p.key) && p.key.value === key);
    if (!pair) return undefined;
    return (pair.value as Node | null) ?? (pair.key as Node);
  }

  private keyNode(key: string): Node | undefined {
    return this.node.items.findLast((p) => isScalar(p.key) && p.key.value === key)?.key as Node | undefined;
  }

  report(key: string, code: DescriptorErrorCode, message: string, remedy: string): void {
    this.c.report(this.nodeOf(key) ?? this.node, this.at(key), code, message, remedy);
  }

  missing(key: string, remedy: string): void {
    const present = this.keyNode(key);
    const msg = present ? `${this.label}: ${key} is empty` : `${this.label} is missing ${key}`;
    this.c.report(present ?? this.node, this.at(key), "missing-field", msg, remedy);
  }

  /**
   * The scalar node of `key`; undefined (after reporting) when absent-but-required, null or not a scalar.
   * `template` is set when it holds placeholders that are not filled: then `value` is the placeholder text.
   */
  private scalar(key: string, opts: FieldOpts, expected: string): { node: Node; value: unknown; source: string; template?: boolean } | undefined {
    const n = this.nodeOf(key);
    const empty = n === undefined || (isScalar(n) && (n.value === null || n.value === undefined)) || n === this.keyNode(key);
    if (empty) {
      if (opts.required) this.missing(key, opts.remedy ?? `set ${key}:`);
      return undefined;
    }
    if (!isScalar(n)) {
      this.c.report(n, this.at(key), "wrong-type", `${this.label}: ${key} must be ${expected}, found ${kindOf(n)}`, opts.remedy ?? `write ${key}: as ${expected}`);
      return undefined;
    }
    if (typeof n.value === "string" && TOKEN.test(n.value)) {
      const template = this.c.unmask(n.value);
      if (!this.c.lookup) return { node: n, value: template, source: template, template: true };
      const filled = substitute(template, this.c.lookup);
      if (filled.missing.length > 0) {
        const names = filled.missing.map((m) => `{{${m}}}`).join(", ");
        this.c.report(n, this.at(key), "unresolved-placeholder", `${this.label}: ${key} uses ${names}, which has no value`, `set ${filled.missing.map((m) => `${m}=...`).join(" ")} in .quix.yaml.variables, the environment, or with --var`);
        return undefined;
      }
      const quoted = n.type === "QUOTE_DOUBLE" || n.type === "QUOTE_SINGLE";
      const value = scalarValue(filled.text, quoted);
      return { node: n, value, source: String(value) };
    }
    return { node: n, value: n.value, source: n.source ?? String(n.value) };
  }

  /** The key's value as plain data (placeholders as written); undefined when absent. */
  data(key: string): unknown {
    return this.c.data(this.nodeOf(key));
  }

  /** The keys of this mapping, as written. */
  keys(): string[] {
    return this.node.items.flatMap((p) => (isScalar(p.key) ? [this.c.unmask(String(p.key.value))] : []));
  }

  /** A string-valued key; numbers and booleans are type errors here. */
  string(key: string, opts: FieldOpts = {}): string | undefined {
    const s = this.scalar(key, opts, "text");
    if (!s) return undefined;
    if (typeof s.value !== "string") {
      this.c.report(s.node, this.at(key), "wrong-type", `${this.label}: ${key} must be text, found ${shownValue(s.value, s.source)}`, `quote it: ${key}: "${s.source}"`);
      return undefined;
    }
    if (opts.required && s.value.trim() === "") {
      this.missing(key, opts.remedy ?? `set ${key}:`);
      return undefined;
    }
    return s.value;
  }

  /** Any scalar, as the text it was written as (`version: 1.0` is "1.0", `value: 100` is "100"). */
  text(key: string, opts: FieldOpts = {}): string | undefined {
    const s = this.scalar(key, opts, "text");
    if (!s) return undefined;
    return typeof s.value === "string" ? s.value : s.source;
  }

  boolean(key: string): boolean | undefined {
    const s = this.scalar(key, {}, "true or false");
    if (!s || s.template) return undefined;
    if (typeof s.value !== "boolean") {
      this.c.report(s.node, this.at(key), "wrong-type", `${this.label}: ${key} must be true or false, found ${shownValue(s.value, s.source)}`, `write ${key}: true or ${key}: false (no quotes)`);
      return undefined;
    }
    return s.value;
  }

  integer(key: string, opts: IntegerOpts): number | undefined {
    const s = this.scalar(key, opts, "a number");
    if (!s || s.template) return undefined;
    if (typeof s.value !== "number") {
      this.c.report(s.node, this.at(key), "wrong-type", `${this.label}: ${key} must be a number, found ${shownValue(s.value, s.source)}`, opts.remedy ?? `write ${key}: as a number`);
      return undefined;
    }
    const v = s.value;
    const ok = Number.isInteger(v) && (v >= opts.min || (opts.allowMinusOne === true && v === -1));
    if (!ok) {
      this.c.report(s.node, this.at(key), opts.code, `${this.label}: ${key} ${opts.rule}, found ${s.source}`, opts.remedy ?? `fix ${key}`);
      return undefined;
    }
    return v;
  }

  oneOf<T extends string>(key: string, allowed: readonly T[], code: DescriptorErrorCode, opts: FieldOpts = {}): T | undefined {
    const s = this.scalar(key, { ...opts, remedy: opts.remedy ?? `set ${key}: to one of ${allowed.join(", ")}` }, "text");
    if (!s || s.template) return undefined;
    if (typeof s.value === "string" && (allowed as readonly string[]).includes(s.value)) return s.value as T;
    const near = allowed.find((a) => a.toLowerCase() === String(s.value).toLowerCase());
    this.c.report(
      s.node,
      this.at(key),
      code,
      `${this.label}: unknown ${key} "${s.source}"`,
      near ? `did you mean ${near}? (values are case-sensitive)` : `use one of ${allowed.join(", ")}`,
    );
    return undefined;
  }

  /** A nested mapping; absent is fine unless required; present-but-not-a-mapping is an error. */
  map(key: string, opts: FieldOpts = {}): Fields | undefined {
    const n = this.nodeOf(key);
    if (n === undefined || (isScalar(n) && n.value === null)) {
      if (opts.required) this.missing(key, opts.remedy ?? `add ${key}:`);
      return undefined;
    }
    if (!isMap(n)) {
      this.c.report(n, this.at(key), "wrong-type", `${this.label}: ${key} must be a mapping, found ${kindOf(n)}`, opts.remedy ?? `write ${key}: as a mapping`);
      return undefined;
    }
    return new Fields(this.c, n, this.at(key), this.label);
  }

  /** Calls `each` for every text item of the sequence at `key` (absent or empty is an empty list). */
  list(key: string, each: (item: string) => void): void {
    const n = this.nodeOf(key);
    if (n === undefined || (isScalar(n) && n.value === null)) return;
    if (!isSeq(n)) {
      this.c.report(n, this.at(key), "wrong-type", `${this.label}: ${key} must be a list, found ${kindOf(n)}`, `write each entry of ${key}: on its own line starting with "- "`);
      return;
    }
    for (const it of (n as YAMLSeq).items) if (isScalar(it) && it.value !== null) each(this.c.unmask(String(it.value)));
  }

  /** Calls `each` for every mapping item of the sequence at `key` (absent or empty is an empty list). */
  items(key: string, each: (item: Fields, path: string) => void): void {
    const n = this.nodeOf(key);
    if (n === undefined || (isScalar(n) && n.value === null)) return;
    if (!isSeq(n)) {
      this.c.report(n, this.at(key), "wrong-type", `${this.label}: ${key} must be a list, found ${kindOf(n)}`, `write each entry of ${key}: on its own line starting with "- "`);
      return;
    }
    (n as YAMLSeq).items.forEach((it, i) => {
      const path = `${this.at(key)}[${i}]`;
      if (isMap(it)) each(new Fields(this.c, it, path, `${key}[${i}]`), path);
      else this.c.report((it as Node | null) ?? n, path, "wrong-type", `${key}[${i}] must be a mapping, found ${kindOf(it)}`, `write the entry as "- name: ..." with its fields indented below`);
    });
  }
}

/** A scalar value as a message shows it: `text "200m"`, `a number 42`. */
function shownValue(v: unknown, source: string): string {
  if (typeof v === "string") return `text ${JSON.stringify(v)}`;
  return `${typeof v === "number" ? "a number" : typeof v === "boolean" ? "a boolean" : "nothing"} ${source}`.trimEnd();
}

function kindOf(n: unknown): string {
  if (isMap(n)) return "a mapping";
  if (isSeq(n)) return "a list";
  if (isScalar(n)) {
    const v = n.value;
    if (v === null) return "nothing";
    if (typeof v === "number") return "a number";
    if (typeof v === "boolean") return "a boolean";
    return "text";
  }
  return "nothing";
}
