import type { DataFrame } from "danfojs-node";
import { parseIsoTime } from "./time.js";
import type { Tick, TickResult } from "./types.js";
import { checkTickFields, isProblem, reject } from "./validate.js";

const CORE = ["product_id", "price", "last_size", "time"] as const;
const OPTIONAL = ["side", "trade_id", "sequence"] as const;

/** Duck-typed: a danfojs DataFrame from any copy of the library (a notebook's and the CLI's differ). */
export function isDataFrame(x: unknown): x is DataFrame {
  if (typeof x !== "object" || x === null) return false;
  const d = x as { columns?: unknown; values?: unknown; shape?: unknown };
  return Array.isArray(d.columns) && Array.isArray(d.values) && Array.isArray(d.shape);
}

/**
 * Ticks as a danfojs DataFrame: product_id, price, last_size, time (epoch ms), plus side/trade_id/sequence when
 * any tick has them. danfojs is imported on first use (it takes a second or two to load).
 */
export async function ticksToFrame(ticks: Iterable<Tick>): Promise<DataFrame> {
  const { DataFrame } = await import("danfojs-node");
  const list = [...ticks];
  const columns: Record<string, unknown[]> = {};
  for (const c of CORE) columns[c] = list.map((t) => t[c]);
  for (const c of OPTIONAL) if (list.some((t) => t[c] !== undefined)) columns[c] = list.map((t) => t[c] ?? null);
  if (list.length === 0) return new DataFrame([], { columns: [...CORE] });
  return new DataFrame(columns);
}

/**
 * Rows of a DataFrame checked as ticks (line = row number, 1-based). Columns are named like tick fields; `type`
 * is implied; `time` may be epoch ms or ISO-8601 text with a zone.
 */
export function frameToTickResults(df: DataFrame): TickResult[] {
  const cols = df.columns as string[];
  const at = (name: string) => cols.indexOf(name);
  const idx = { product_id: at("product_id"), price: at("price"), last_size: at("last_size"), time: at("time") };
  const side = at("side");
  const tradeId = at("trade_id");
  const sequence = at("sequence");
  const rows = df.values as unknown[][];
  return rows.map((row, i) => {
    const get = (j: number) => (j < 0 ? undefined : (row[j] ?? undefined));
    const rawTime = get(idx.time);
    const time =
      rawTime === undefined
        ? { reason: "missing field" as const, field: "time", detail: "time is missing" }
        : typeof rawTime === "number" && Number.isFinite(rawTime)
          ? Math.floor(rawTime)
          : typeof rawTime === "string" && parseIsoTime(rawTime) !== undefined
            ? parseIsoTime(rawTime)!
            : { reason: "bad time" as const, field: "time", detail: `time must be epoch ms or ISO-8601 with a zone, got ${String(rawTime)}` };
    const tick = checkTickFields(get(idx.product_id), get(idx.price), get(idx.last_size), time, {
      side: get(side),
      trade_id: get(tradeId),
      sequence: get(sequence),
    });
    if (!isProblem(tick)) return { ok: true, tick };
    const raw = JSON.stringify(Object.fromEntries(cols.map((c, j) => [c, row[j]])));
    return reject(tick, raw, i + 1);
  });
}

/** Validated ticks of a DataFrame (rows that are not valid ticks are dropped; use frameToTickResults to see why). */
export function frameToTicks(df: DataFrame): Tick[] {
  const out: Tick[] = [];
  for (const r of frameToTickResults(df)) if (r.ok) out.push(r.tick);
  return out;
}
