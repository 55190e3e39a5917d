import type { DataFrame } from "danfojs-node";
import type { WindowRecord } from "./types.js";

/** Window records as a danfojs DataFrame, columns in record key order (key, start, end, ...result). */
export async function recordsToFrame(records: readonly WindowRecord<Record<string, unknown>>[]): Promise<DataFrame> {
  const { DataFrame } = await import("danfojs-node");
  const first = records[0];
  if (!first) return new DataFrame([], { columns: ["key", "start", "end"] });
  const columns: Record<string, unknown[]> = {};
  for (const c of Object.keys(first)) columns[c] = records.map((r) => r[c] ?? null);
  return new DataFrame(columns);
}
