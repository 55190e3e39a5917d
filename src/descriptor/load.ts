/**
 * Load and validate `quix.yaml` and `app.yaml` text. Pure: text in, a typed frozen value, the editable
 * `yaml.Document` and every problem found (not just the first) out, each with file:line:column and a remedy.
 * Unknown extra keys are kept (Quix files carry more than quixlab uses); the documented keys are checked strictly.
 * `{{NAME}}` placeholders parse anywhere; pass `resolve` to fill them and type-check the filled values.
 */
import { type Document, type Node, visit } from "yaml";
import { readApp } from "./app.js";
import { Checker } from "./fields.js";
import { locatePlaceholders, type PlaceholderLookup } from "./placeholders.js";
import { parseEditable } from "./render.js";
import { type ReadOptions, readQuixYaml } from "./sections.js";
import type { AppDescriptor, Descriptor, DescriptorError, Placeholder } from "./types.js";

export interface Loaded<T> {
  /** The parsed document; edit it with the functions in edit.ts, then `String(doc)`. */
  readonly doc: Document.Parsed;
  /** Best effort when `errors` is not empty: trust it only when the file is valid. */
  readonly value: T;
  readonly errors: readonly DescriptorError[];
  /** Every `{{NAME}}` in the file, in order (with `resolve`, the filled ones too). */
  readonly placeholders: readonly Placeholder[];
}

export interface LoadOptions extends ReadOptions {
  /**
   * Fill placeholders from this lookup (see `placeholderLookup`); a name it has no value for is an
   * `unresolved-placeholder` error where it stands. Without it, placeholders are "a value known later".
   */
  readonly resolve?: PlaceholderLookup;
}

/** Parse and validate quix.yaml text; `file` is only used to label errors. */
export function loadDescriptor(text: string, file = "quix.yaml", opts: LoadOptions = {}): Loaded<Descriptor> {
  const { doc, lineCounter, mask } = parseEditable(text);
  const c = new Checker(file, lineCounter, mask, opts.resolve);
  const placeholders = locatePlaceholders(mask, (o) => lineCounter.linePos(o), inScalars(doc));
  if (doc.errors.length > 0) return syntaxFailure(doc, c, EMPTY_DESCRIPTOR, placeholders);
  const value = readQuixYaml(doc.contents as Node | null, c, opts) ?? EMPTY_DESCRIPTOR;
  return { doc, value: deepFreeze(value), errors: Object.freeze(c.errors), placeholders };
}

/** Parse and validate an application's app.yaml text. */
export function loadAppDescriptor(text: string, file = "app.yaml", opts: Pick<LoadOptions, "resolve"> = {}): Loaded<AppDescriptor> {
  const { doc, lineCounter, mask } = parseEditable(text);
  const c = new Checker(file, lineCounter, mask, opts.resolve);
  const placeholders = locatePlaceholders(mask, (o) => lineCounter.linePos(o), inScalars(doc));
  if (doc.errors.length > 0) return syntaxFailure(doc, c, EMPTY_APP, placeholders);
  const value = readApp(doc.contents as Node | null, c) ?? EMPTY_APP;
  return { doc, value: deepFreeze(value), errors: Object.freeze(c.errors), placeholders };
}

/** True for an offset inside a key or value (a placeholder in a comment is only text). */
function inScalars(doc: Document): (offset: number) => boolean {
  const ranges: [number, number][] = [];
  visit(doc, {
    Scalar(_, n) {
      if (n.range) ranges.push([n.range[0], n.range[1]]);
    },
  });
  return (o) => ranges.some(([a, b]) => o >= a && o < b);
}

/** `file:line:col  message — remedy`, the one-line form the CLI prints. */
export function formatDescriptorError(e: DescriptorError): string {
  return `${e.file}:${e.line}:${e.column}  ${e.message} — ${e.remedy}`;
}

/** True when the errors mean the text is not YAML at all (rather than a YAML file that breaks the contract). */
export function isSyntaxFailure(errors: readonly DescriptorError[]): boolean {
  return errors.some((e) => e.code === "yaml-syntax");
}

const EMPTY_DESCRIPTOR: Descriptor = deepFreeze({ metadata: { version: "" }, deployments: [], topics: [] });
const EMPTY_APP: AppDescriptor = deepFreeze({ name: "", language: "", variables: [], dockerfile: "" });

function syntaxFailure<T>(doc: Document.Parsed, c: Checker, empty: T, placeholders: readonly Placeholder[]): Loaded<T> {
  for (const e of doc.errors) c.syntax(e);
  return { doc, value: empty, errors: Object.freeze(c.errors), placeholders };
}

function deepFreeze<T>(v: T): T {
  if (v && typeof v === "object" && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}
