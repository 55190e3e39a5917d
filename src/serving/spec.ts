import { InputError, QuixlabError } from "../errors/index.js";
import { parseDuration } from "../window/duration.js";

/** How much of a feature a vector holds: windows started in the last `ms`, since UTC midnight, or the newest one. */
export type VectorRange = { readonly kind: "since"; readonly ms: number; readonly text: string } | { readonly kind: "today" } | { readonly kind: "latest" };

/** One part of a vector spec: a feature by name and its range. */
export interface VectorPart {
  readonly feature: string;
  readonly range: VectorRange;
}

/** A parsed vector spec, frozen, in the order written (the order of the vector's features). */
export type VectorSpec = readonly VectorPart[];

const NAME = /^[A-Za-z_][\w.-]*$/;
const EXAMPLE = "ohlc1h:30d,ohlc1m:today,ohlc60s:latest";

/**
 * Parse a vector spec: comma-separated `feature:range`, range a duration (`30d`, `2d`, `1h`, `90m`), `today`
 * or `latest`. Throws an InputError naming the bad part.
 * @example parseVectorSpec("ohlc1h:30d,ohlc60s:latest") // [{feature:"ohlc1h",range:{kind:"since",ms:2592000000,text:"30d"}}, …]
 */
export function parseVectorSpec(text: string): VectorSpec {
  if (typeof text !== "string" || text.trim() === "") throw bad("an empty spec", text, "list features as feature:range");
  const parts: VectorPart[] = [];
  const seen = new Set<string>();
  for (const raw of text.split(",")) {
    const part = raw.trim();
    if (part === "") throw bad("an empty part", text, "remove the extra comma");
    const colon = part.lastIndexOf(":");
    if (colon < 0) throw bad(`part '${part}' has no range`, text, `write it as ${part}:30d, ${part}:today or ${part}:latest`);
    const feature = part.slice(0, colon).trim();
    const r = part.slice(colon + 1).trim();
    if (!NAME.test(feature)) throw bad(`part '${part}' has a bad feature name '${feature}'`, text, "name a feature such as ohlc1h, ohlc1m or ohlc60s");
    if (seen.has(feature)) throw bad(`feature '${feature}' appears twice`, text, "give each feature once: the vector holds one entry per feature");
    seen.add(feature);
    parts.push(Object.freeze({ feature, range: range(r, part, text) }));
  }
  return Object.freeze(parts);
}

/** The spec written back (`ohlc1h:30d,ohlc1m:today,ohlc60s:latest`). */
export function formatVectorSpec(spec: VectorSpec): string {
  return spec.map((p) => `${p.feature}:${p.range.kind === "since" ? p.range.text : p.range.kind}`).join(",");
}

function range(r: string, part: string, text: string): VectorRange {
  const lower = r.toLowerCase();
  if (lower === "today") return Object.freeze({ kind: "today" });
  if (lower === "latest") return Object.freeze({ kind: "latest" });
  let ms: number;
  try {
    ms = parseDuration(r, "range");
  } catch (e) {
    if (!(e instanceof QuixlabError)) throw e;
    throw bad(`part '${part}' has a bad range '${r}'`, text, "use a duration (30d, 2d, 1h, 90m), today or latest", e);
  }
  if (ms <= 0) throw bad(`part '${part}' has an empty range '${r}'`, text, "use a duration above zero, today or latest");
  return Object.freeze({ kind: "since", ms, text: r });
}

function bad(what: string, text: string, remedy: string, cause?: unknown): InputError {
  return new InputError(`bad vector spec '${text}': ${what}`, { remedy: `${remedy} (e.g. ${EXAMPLE})`, cause, context: { field: "features" } });
}
