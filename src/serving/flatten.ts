import type { DataFrame } from "danfojs-node";
import type { WindowRecord } from "../window/types.js";
import type { FeatureVector } from "./rule.js";
import type { VectorSpec } from "./spec.js";

/**
 * Vectors as one DataFrame row each (src/serving/README.md "Flattening"): `key`, `asOf`, then per feature in spec
 * order — a list feature `f` gives `f.n` (its window count) and `f.<field>[i]` for i = 0 … W−1, where W is the
 * longest list in the set and the newest window sits at W−1 (shorter lists are padded with null at the front, so
 * a column index is always "W−1−i windows before the newest"); a `latest` feature gives `f.<field>`.
 */
export async function flattenVectors(rows: readonly FeatureVector[], spec: VectorSpec, fields?: readonly string[]): Promise<DataFrame> {
  const { DataFrame } = await import("danfojs-node");
  const columns: Record<string, unknown[]> = { key: rows.map((r) => r.key), asOf: rows.map((r) => r.asOf) };
  for (const { feature, range } of spec) {
    const values = rows.map((r) => r.features[feature]);
    const names = fields ?? fieldsOf(values);
    if (range.kind === "latest") {
      for (const c of names) columns[`${feature}.${c}`] = values.map((v) => (v as WindowRecord | null)?.[c] ?? null);
      continue;
    }
    const lists = values as WindowRecord[][];
    const width = Math.max(0, ...lists.map((l) => l.length));
    columns[`${feature}.n`] = lists.map((l) => l.length);
    for (const c of names) {
      for (let i = 0; i < width; i++) columns[`${feature}.${c}[${i}]`] = lists.map((l) => l[l.length - width + i]?.[c] ?? null);
    }
  }
  if (rows.length === 0) return new DataFrame([], { columns: Object.keys(columns) });
  return new DataFrame(columns);
}

/** The record fields of the first window found, `key` left out (it is the row's). */
function fieldsOf(values: readonly unknown[]): string[] {
  for (const v of values) {
    const first = Array.isArray(v) ? v[0] : v;
    if (first && typeof first === "object") return Object.keys(first).filter((k) => k !== "key");
  }
  return ["start", "end"];
}
