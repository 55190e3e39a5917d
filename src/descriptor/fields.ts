/**
 * Typed, located reading of a parsed YAML document: `Checker` collects errors with file:line:column (offsets mapped
 * through the parser's LineCounter), `Fields` reads the documented keys of one mapping and reports what is missing
 * or malformed. The section readers in sections.ts are written in terms of these two.
 */
import type { LineCounter, Node, YAMLError } from "yaml";
import { isMap, isScalar, isSeq, type YAMLMap, type YAMLSeq } from "yaml";
import type { DescriptorError, DescriptorErrorCode } from "./types.js";

/** Collects located errors. */
export class Checker {
  readonly errors: DescriptorError[] = [];
  constructor(
    readonly file: string,
    private readonly lc: LineCounter,
  ) {}

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

  /** The value node of `key`, or undefined when the key is absent. */
  nodeOf(key: string): Node | undefined {
    const pair = this.node.items.find((p) => isScalar(p.key) && p.key.value === key);
    if (!pair) return undefined;
    return (pair.value as Node | null) ?? (pair.key as Node);
  }

  private keyNode(key: string): Node | undefined {
    return this.node.items.find((p) => isScalar(p.key) && p.key.value === key)?.key as Node | undefined;
  }

  report(key: string, code: DescriptorErrorCode, message: string, remedy: string): void {
    this.c.report(this.nodeOf(key) ?? this.node, this.at(key), code, message, remedy);
  }

  missing(key: string, remedy: string): void {
    const present = this.keyNode(key);
    const msg = present ? `${this.label}: ${key} is empty` : `${this.label} is missing ${key}`;
    this.c.report(present ?? this.node, this.at(key), "missing-field", msg, remedy);
  }

  /** The scalar node of `key`; undefined (after reporting) when absent-but-required, null or not a scalar. */
  private scalar(key: string, opts: FieldOpts, expected: string): { node: Node; value: unknown; source: string } | undefined {
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
    return { node: n, value: n.value, source: n.source ?? String(n.value) };
  }

  /** A string-valued key; numbers and booleans are type errors here. */
  string(key: string, opts: FieldOpts = {}): string | undefined {
    const s = this.scalar(key, opts, "text");
    if (!s) return undefined;
    if (typeof s.value !== "string") {
      this.c.report(s.node, this.at(key), "wrong-type", `${this.label}: ${key} must be text, found ${shown(s.node)}`, `quote it: ${key}: "${s.source}"`);
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
    if (!s) return undefined;
    if (typeof s.value !== "boolean") {
      this.c.report(s.node, this.at(key), "wrong-type", `${this.label}: ${key} must be true or false, found ${shown(s.node)}`, `write ${key}: true or ${key}: false (no quotes)`);
      return undefined;
    }
    return s.value;
  }

  integer(key: string, opts: IntegerOpts): number | undefined {
    const s = this.scalar(key, opts, "a number");
    if (!s) return undefined;
    if (typeof s.value !== "number") {
      this.c.report(s.node, this.at(key), "wrong-type", `${this.label}: ${key} must be a number, found ${shown(s.node)}`, opts.remedy ?? `write ${key}: as a number`);
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
    if (!s) return undefined;
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

/** A scalar as a message shows it: `text "200m"`, `a number 42`. */
function shown(n: Node): string {
  const v = isScalar(n) ? n.value : undefined;
  return typeof v === "string" ? `text ${JSON.stringify(v)}` : `${kindOf(n)} ${isScalar(n) ? (n.source ?? String(v)) : ""}`.trimEnd();
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
