import { InputError } from "../errors/index.js";
import { type EpochUnit, epochToMs, parseIsoTime } from "./time.js";
import type { TickResult } from "./types.js";
import { checkTickFields, isProblem, reject } from "./validate.js";

/** Tick fields a CSV column can feed. */
export type CsvField = "product_id" | "price" | "last_size" | "time" | "side" | "trade_id" | "sequence";

/** Parsed `--csv-map`: tick field → column name (and, for time, the epoch unit; none = ISO text). */
export interface CsvMapping {
  readonly columns: Readonly<Partial<Record<CsvField, string>>>;
  readonly timeUnit?: EpochUnit;
}

const FIELDS: readonly CsvField[] = ["product_id", "price", "last_size", "time", "side", "trade_id", "sequence"];
const REQUIRED: readonly CsvField[] = ["product_id", "price", "last_size", "time"];
const UNITS: readonly string[] = ["s", "ms", "us", "ns"];

/** The mapping for Tardis.dev trades CSV (`exchange,symbol,timestamp,local_timestamp,id,side,price,amount`). */
export const TARDIS_TRADES_MAP = "product_id=symbol,price=price,last_size=amount,time=timestamp:us,side=side,trade_id=id";

const MAP_REMEDY = `write field=column pairs separated by commas, e.g. --csv-map ${TARDIS_TRADES_MAP}`;

/**
 * Parse a column mapping such as `product_id=symbol,price=price,last_size=amount,time=timestamp:us`.
 * Time units: `:s`, `:ms`, `:us`, `:ns` for epoch numbers; no unit means ISO-8601 text.
 */
export function parseCsvMap(text: string): CsvMapping {
  const columns: Partial<Record<CsvField, string>> = {};
  let timeUnit: EpochUnit | undefined;
  for (const part of text.split(",").map((s) => s.trim()).filter(Boolean)) {
    const eq = part.indexOf("=");
    const field = part.slice(0, eq).trim() as CsvField;
    let column = part.slice(eq + 1).trim();
    if (eq <= 0 || !column) throw new InputError(`bad CSV mapping entry '${part}'`, { remedy: MAP_REMEDY, context: { field: "csv-map" } });
    if (!FIELDS.includes(field)) {
      throw new InputError(`unknown tick field '${field}' in the CSV mapping`, {
        remedy: `map only ${FIELDS.join(", ")}`,
        context: { field: "csv-map" },
      });
    }
    const colon = column.lastIndexOf(":");
    if (field === "time" && colon > 0) {
      const unit = column.slice(colon + 1);
      if (!UNITS.includes(unit)) {
        throw new InputError(`bad time unit ':${unit}' in the CSV mapping`, {
          remedy: "use :s, :ms, :us or :ns for epoch numbers, or no unit for ISO-8601 text",
          context: { field: "csv-map" },
        });
      }
      timeUnit = unit as EpochUnit;
      column = column.slice(0, colon);
    }
    columns[field] = column;
  }
  const missing = REQUIRED.filter((f) => !columns[f]);
  if (missing.length) {
    throw new InputError(`the CSV mapping does not say which column holds ${missing.join(", ")}`, { remedy: MAP_REMEDY, context: { field: "csv-map" } });
  }
  return { columns, timeUnit };
}

/** Split one CSV record (RFC 4180 quoting: `"a,b"`, `""` for a quote). */
export function splitCsv(line: string): string[] {
  if (!line.includes('"')) return line.split(",");
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      out.push(cur);
      cur = "";
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/** True while a record has an unclosed quote (a quoted field spans lines). */
export function openQuote(text: string): boolean {
  let n = 0;
  for (let i = text.indexOf('"'); i !== -1; i = text.indexOf('"', i + 1)) n++;
  return n % 2 === 1;
}

/** Turns CSV records into ticks once the header has fixed the column positions. */
export class CsvTickParser {
  private readonly idx: Partial<Record<CsvField, number>> = {};

  constructor(
    header: string[],
    private readonly mapping: CsvMapping,
    file: string,
  ) {
    const names = header.map((h) => h.trim());
    for (const [field, column] of Object.entries(mapping.columns) as [CsvField, string][]) {
      const i = names.indexOf(column);
      if (i < 0) {
        throw new InputError(`column '${column}' (for ${field}) is not in the CSV header`, {
          remedy: `the header has: ${names.join(", ")}; fix --csv-map`,
          context: { file, line: 1, field },
        });
      }
      this.idx[field] = i;
    }
  }

  /** The CSV header row maps itself when it names the tick fields, or is a Tardis trades header. */
  static defaultMapping(header: string[]): CsvMapping | undefined {
    const names = header.map((h) => h.trim());
    if (REQUIRED.every((f) => names.includes(f))) {
      const columns: Partial<Record<CsvField, string>> = {};
      for (const f of FIELDS) if (names.includes(f)) columns[f] = f;
      return { columns };
    }
    if (["exchange", "symbol", "timestamp", "id", "side", "price", "amount"].every((c) => names.includes(c))) {
      return parseCsvMap(TARDIS_TRADES_MAP);
    }
    return undefined;
  }

  parse(record: string, line: number): TickResult {
    const cells = splitCsv(record);
    const cell = (f: CsvField): string | undefined => {
      const i = this.idx[f];
      const v = i === undefined ? undefined : cells[i];
      // An empty CSV cell is a missing value; there is no null in CSV.
      return v === undefined || v === "" ? undefined : v;
    };
    const timeText = cell("time");
    let time: ReturnType<typeof parseIsoTime>;
    if (timeText !== undefined) time = this.mapping.timeUnit ? epochToMs(timeText, this.mapping.timeUnit) : parseIsoTime(timeText);
    const timeField =
      timeText === undefined
        ? { reason: "missing field" as const, field: "time", detail: "time is missing" }
        : time === undefined
          ? {
              reason: "bad time" as const,
              field: "time",
              detail: this.mapping.timeUnit
                ? `time must be a non-negative epoch number in ${this.mapping.timeUnit}, got ${JSON.stringify(timeText)}`
                : `time must be an ISO-8601 timestamp with a zone, got ${JSON.stringify(timeText)}`,
            }
          : time;
    const tradeId = cell("trade_id");
    const seq = cell("sequence");
    const tick = checkTickFields(cell("product_id"), cell("price"), cell("last_size"), timeField, {
      side: cell("side"),
      trade_id: tradeId !== undefined && /^\d{1,15}$/.test(tradeId) ? Number(tradeId) : tradeId,
      sequence: seq !== undefined && /^\d{1,15}$/.test(seq) ? Number(seq) : undefined,
    });
    return isProblem(tick) ? reject(tick, record, line) : { ok: true, tick };
  }
}
