/**
 * `{{NAME}}` placeholders (Quix "YAML variables", now project variables substituted at sync time), which may
 * stand anywhere in quix.yaml or app.yaml: `value: {{influxdb_host}}`, `cpu: {{CPU}}`,
 * `urlPrefix: {{URL_PREFIX}}-{{ENV_NAME}}`. Unquoted, they are not YAML (`{{` opens a flow mapping), so the
 * text is masked before parsing: each placeholder becomes a token of the same length made of private-use
 * characters, which YAML reads as a plain scalar. Offsets, lines and columns stay those of the file, and
 * `unmask` turns any text or value back into the original bytes. Pure: no I/O here.
 */
import { parseDocument } from "yaml";
import type { Placeholder } from "./types.js";

/**
 * A placeholder: `{{ NAME }}` (spaces allowed inside the braces): a project variable (`{{CPU}}`) or a member of a
 * global-variable group (`{{ release-tiers:REPLICA_COUNT }}`, quix-docs deployments/variables-overview.md).
 */
const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_.:-]+)\s*\}\}/g;
/** Tokens: U+E000 then hex digits U+E010..U+E01F then padding U+E001. */
const TOKEN = /\uE000[\uE001\uE010-\uE01F]*/g;
const TOKEN_CHARS = /[\uE000-\uE01F]/;

export interface Mask {
  /** The text with every placeholder replaced by its token (same length). */
  readonly text: string;
  /** token → the placeholder text it replaced (`{{CPU}}`). */
  readonly tokens: ReadonlyMap<string, string>;
  /** Each placeholder with its offset in the text. */
  readonly found: readonly { readonly name: string; readonly offset: number }[];
}

/** Replace placeholders by same-length tokens so the text parses as YAML. */
export function maskPlaceholders(text: string): Mask {
  const found: { name: string; offset: number }[] = [];
  const tokens = new Map<string, string>();
  // A file that already holds these private-use characters is left alone (it could not be unmasked safely).
  if (TOKEN_CHARS.test(text)) return { text, tokens, found };
  const byText = new Map<string, string>();
  const masked = text.replace(PLACEHOLDER, (whole: string, name: string, offset: number) => {
    found.push({ name, offset });
    let token = byText.get(whole);
    if (!token) {
      const digits = [...tokens.size.toString(16)].map((d) => String.fromCharCode(0xe010 + Number.parseInt(d, 16))).join("");
      token = `\uE000${digits}`.padEnd(whole.length, "\uE001");
      // Placeholders are at least 5 characters ({{A}}), which leaves 4 hex digits: 65536 distinct ones.
      if (token.length !== whole.length) return whole;
      byText.set(whole, token);
      tokens.set(token, whole);
    }
    return token;
  });
  return { text: masked, tokens, found };
}

/**
 * Whether text read from a masked document holds a placeholder's token: a value that stands for `{{NAME}}`, to be
 * known only once Quix fills it (an editor must not take it for a name).
 */
export function isMasked(s: string): boolean {
  return TOKEN_CHARS.test(s);
}

/** `s` with every token turned back into its placeholder text. */
export function unmask(s: string, mask: Pick<Mask, "tokens">): string {
  if (mask.tokens.size === 0 || !TOKEN_CHARS.test(s)) return s;
  return s.replace(TOKEN, (t) => mask.tokens.get(t) ?? t);
}

/** Plain data (from `node.toJSON()`) with every string unmasked. */
export function unmaskData(v: unknown, mask: Pick<Mask, "tokens">): unknown {
  if (typeof v === "string") return unmask(v, mask);
  if (Array.isArray(v)) return v.map((x) => unmaskData(x, mask));
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [unmask(k, mask), unmaskData(x, mask)]));
  return v;
}

/** True when the text holds a `{{NAME}}` placeholder. */
export function hasPlaceholder(s: string): boolean {
  PLACEHOLDER.lastIndex = 0;
  return PLACEHOLDER.test(s);
}

/** The placeholder names in `s`, in order of first appearance. */
export function placeholderNames(s: string): string[] {
  return [...new Set([...s.matchAll(PLACEHOLDER)].map((m) => m[1]!))];
}

/** Where placeholder values come from; the first source that has a name wins, in this order. */
export interface PlaceholderSources {
  /** `--var NAME=VALUE` on the command line. */
  readonly vars?: Readonly<Record<string, string>>;
  /** The project's `.quix.yaml.variables` (see `parseVariablesFile`). */
  readonly file?: Readonly<Record<string, string>>;
  /** The process environment. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export type PlaceholderLookup = (name: string) => string | undefined;

/**
 * One lookup over the sources: `--var`, then `.quix.yaml.variables` (the project's explicit local values, as the
 * Quix CLI reads them), then the environment (a fallback, so a stray `HOME` cannot shadow the file).
 */
export function placeholderLookup(sources: PlaceholderSources): PlaceholderLookup {
  return (name) => sources.vars?.[name] ?? sources.file?.[name] ?? sources.env?.[name];
}

/** `template` with its placeholders filled; `missing` names those the lookup has no value for (left verbatim). */
export function substitute(template: string, lookup: PlaceholderLookup): { text: string; missing: string[] } {
  const missing: string[] = [];
  const text = template.replace(PLACEHOLDER, (whole: string, name: string) => {
    const v = lookup(name);
    if (v === undefined) {
      if (!missing.includes(name)) missing.push(name);
      return whole;
    }
    return v;
  });
  return { text, missing };
}

/**
 * Fill the placeholders of a whole file's text (what Quix does at sync time), from `--var`, `.quix.yaml.variables`
 * and the environment. `unresolved` names each placeholder without a value; they stay verbatim in `text`.
 * Validate the result with `loadDescriptor(..., { resolve })` to have its values type-checked at their positions.
 * @example resolvePlaceholders("cpu: {{CPU}}\n", { vars: { CPU: "200" } }) // { text: "cpu: 200\n", unresolved: [] }
 */
export function resolvePlaceholders(text: string, sources: PlaceholderSources | PlaceholderLookup): { text: string; resolved: string[]; unresolved: string[] } {
  const lookup = typeof sources === "function" ? sources : placeholderLookup(sources);
  const names = placeholderNames(text);
  const out = substitute(text, lookup);
  return { text: out.text, resolved: names.filter((n) => !out.missing.includes(n)), unresolved: out.missing };
}

/**
 * A filled-in plain scalar read as YAML reads it: `200` → 200, `true` → true, `a-b` → "a-b". Quoted
 * scalars stay text (pass `quoted`).
 */
export function scalarValue(text: string, quoted: boolean): unknown {
  if (quoted) return text;
  const doc = parseDocument(text);
  if (doc.errors.length > 0) return text;
  const v = doc.toJS() as unknown;
  return v === null || typeof v === "object" ? text : v;
}

/**
 * `.quix.yaml.variables`, the Quix CLI's local values file next to quix.yaml: one `KEY=VALUE` per line (keys may
 * hold dots, `database.host`); `#` comments and blank lines are skipped; a value in matching quotes is unquoted.
 * `bad` lists the 1-based numbers of lines that are neither.
 */
export function parseVariablesFile(text: string): { values: Record<string, string>; bad: number[] } {
  const values: Record<string, string> = {};
  const bad: number[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const eq = line.indexOf("=");
    const key = eq > 0 ? line.slice(0, eq).trim() : "";
    if (key === "") {
      bad.push(i + 1);
      return;
    }
    let value = line.slice(eq + 1).trim();
    if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.endsWith(value[0])) value = value.slice(1, -1);
    values[key] = value;
  });
  return { values, bad };
}

/** Each placeholder of a mask (those `keep` accepts, e.g. not in comments), located by 1-based line and column. */
export function locatePlaceholders(mask: Mask, linePos: (offset: number) => { line: number; col: number }, keep: (offset: number) => boolean = () => true): Placeholder[] {
  return mask.found.filter((f) => keep(f.offset)).map((f) => {
    const { line, col } = linePos(f.offset);
    return Object.freeze({ name: f.name, line, column: col });
  });
}
