import { createReadStream } from "node:fs";
import { open, stat } from "node:fs/promises";
import { extname } from "node:path";
import { StringDecoder } from "node:string_decoder";
import { InputError } from "../errors/index.js";
import { type TickColumns, TickColumnsBuilder } from "./columns.js";
import { type CsvMapping, CsvTickParser, openQuote, parseCsvMap, splitCsv } from "./csv.js";
import { TickLineScanner } from "./scan.js";
import type { Rejection, TickResult } from "./types.js";
import { parseTickLine } from "./validate.js";

/** Input file formats: JSON Lines (one ticker message per line), a JSON array of messages, or CSV with a mapping. */
export type TickFormat = "jsonl" | "json" | "csv";

export interface ReadProgress {
  bytes: number;
  total: number;
}

export interface ReadOptions {
  /** Default: from the extension (.jsonl/.ndjson, .json, .csv), else from the first character. */
  format?: TickFormat;
  /** CSV column mapping (see parseCsvMap); default: the header's own names, or the Tardis trades mapping. */
  csvMap?: string | CsvMapping;
  /** Called after each chunk read (about 1 MiB), for progress bars. */
  onProgress?(p: ReadProgress): void;
}

const CHUNK = 1 << 20;

/** Format from a file name, or undefined when the extension does not say. */
export function formatFromName(path: string): TickFormat | undefined {
  const ext = extname(path).toLowerCase();
  if (ext === ".jsonl" || ext === ".ndjson") return "jsonl";
  if (ext === ".json") return "json";
  if (ext === ".csv") return "csv";
  return undefined;
}

/** Size of a readable ticks file; an InputError naming the file and the fix otherwise. */
export async function checkTicksFile(path: string): Promise<number> {
  try {
    const st = await stat(path);
    if (st.isDirectory()) throw new InputError("the ticks file is a directory", { remedy: "pass a .jsonl, .json or .csv file", context: { file: path } });
    const fh = await open(path, "r");
    await fh.close();
    return st.size;
  } catch (e) {
    if (e instanceof InputError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : (e as Error).message;
    throw new InputError(`cannot read the ticks file: ${why}`, {
      remedy: "check the path (relative paths start from the current directory) and its permissions",
      cause: e,
      context: { file: path },
    });
  }
}

/** Detect the format: explicit, then extension, then the first non-blank character ('[' JSON, '{' JSON Lines). */
export async function detectFormat(path: string, explicit?: TickFormat): Promise<TickFormat> {
  if (explicit) {
    if (explicit !== "jsonl" && explicit !== "json" && explicit !== "csv") {
      throw new InputError(`unknown ticks format '${explicit}'`, { remedy: "use jsonl, json or csv", context: { field: "format" } });
    }
    return explicit;
  }
  const byName = formatFromName(path);
  if (byName) return byName;
  const fh = await open(path, "r");
  try {
    const { buffer, bytesRead } = await fh.read(Buffer.alloc(4096), 0, 4096, 0);
    const first = buffer.toString("utf8", 0, bytesRead).replace(/^\uFEFF/, "").trimStart()[0];
    if (first === "[") return "json";
    if (first === "{") return "jsonl";
  } finally {
    await fh.close();
  }
  throw new InputError("cannot tell the ticks format from the file name or its first character", {
    remedy: "name it .jsonl, .json or .csv, or pass the format explicitly (--input-format jsonl|json|csv)",
    context: { file: path },
  });
}

/** Non-blank lines of a chunk as byte ranges of `buf`, with their 1-based line numbers. */
export interface LineBatch {
  buf: Buffer;
  starts: number[];
  ends: number[];
  numbers: number[];
}

const lineText = (b: LineBatch, i: number): string => b.buf.toString("utf8", b.starts[i], b.ends[i]);

/** Blank = only whitespace; bytes are checked first so the common case never decodes. */
function isBlank(buf: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = buf[i]!;
    if (c === 32 || (c >= 9 && c <= 13)) continue;
    if (c < 128) return false;
    return buf.toString("utf8", from, to).trim() === "";
  }
  return true;
}

/**
 * Stream a text file as batches of lines, never holding more than a chunk plus one partial line. Lines are split
 * on bytes ('\n' never occurs inside a UTF-8 sequence) and decoded only when someone asks for their text.
 */
export async function* readLines(path: string, total: number, onProgress?: (p: ReadProgress) => void): AsyncGenerator<LineBatch> {
  let carry: Buffer | undefined;
  let lineNo = 0;
  let bytes = 0;
  const split = (buf: Buffer, final: boolean): LineBatch => {
    const batch: LineBatch = { buf, starts: [], ends: [], numbers: [] };
    let from = 0;
    if (lineNo === 0 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) from = 3;
    const add = (s: number, e: number) => {
      lineNo++;
      if (e > s && buf[e - 1] === 13) e--;
      if (!isBlank(buf, s, e)) {
        batch.starts.push(s);
        batch.ends.push(e);
        batch.numbers.push(lineNo);
      }
    };
    for (let nl = buf.indexOf(10, from); nl !== -1; nl = buf.indexOf(10, from)) {
      add(from, nl);
      from = nl + 1;
    }
    carry = from < buf.length ? buf.subarray(from) : undefined;
    if (final && carry) {
      add(from, buf.length);
      carry = undefined;
    }
    return batch;
  };
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: CHUNK })) {
      bytes += (chunk as Buffer).length;
      const batch = split(carry ? Buffer.concat([carry, chunk as Buffer]) : (chunk as Buffer), false);
      onProgress?.({ bytes, total });
      if (batch.starts.length) yield batch;
    }
  } catch (e) {
    throw new InputError(`cannot read the ticks file: ${(e as Error).message}`, { remedy: "check the file", cause: e, context: { file: path } });
  }
  if (carry) {
    const last = split(carry, true);
    if (last.starts.length) yield last;
  }
}

async function* jsonlBatches(lines: AsyncGenerator<LineBatch>): AsyncGenerator<TickResult[]> {
  for await (const b of lines) {
    const out: TickResult[] = new Array(b.starts.length);
    for (let i = 0; i < out.length; i++) out[i] = parseTickLine(lineText(b, i), b.numbers[i]);
    yield out;
  }
}

async function* csvBatches(lines: AsyncGenerator<LineBatch>, path: string, map?: string | CsvMapping): AsyncGenerator<TickResult[]> {
  let parser: CsvTickParser | undefined;
  let pending = "";
  let pendingLine = 0;
  for await (const b of lines) {
    const out: TickResult[] = [];
    for (let i = 0; i < b.starts.length; i++) {
      let record = lineText(b, i);
      let no = b.numbers[i]!;
      if (pending) {
        record = `${pending}\n${record}`;
        no = pendingLine;
      }
      if (openQuote(record)) {
        pending = record;
        pendingLine = no;
        continue;
      }
      pending = "";
      if (!parser) {
        const header = splitCsv(record);
        const mapping = typeof map === "string" ? parseCsvMap(map) : (map ?? CsvTickParser.defaultMapping(header));
        if (!mapping) {
          throw new InputError("cannot map the CSV columns onto tick fields", {
            remedy: `pass --csv-map, e.g. product_id=symbol,price=price,last_size=amount,time=timestamp:us (the header has: ${header.join(", ")})`,
            context: { file: path, line: no },
          });
        }
        parser = new CsvTickParser(header, mapping, path);
        continue;
      }
      out.push(parser.parse(record, no));
    }
    if (out.length) yield out;
  }
  if (pending && parser) yield [parser.parse(pending, pendingLine)];
}

/**
 * Streams a JSON array's elements one by one (with the line each starts on), so a large array is never held whole.
 * Elements are found by bracket depth outside strings; each is then parsed on its own.
 */
async function* jsonArrayBatches(path: string, total: number, onProgress?: (p: ReadProgress) => void): AsyncGenerator<TickResult[]> {
  const decoder = new StringDecoder("utf8");
  let state: "before" | "inside" | "after" = "before";
  let depth = 0;
  let inString = false;
  let escaped = false;
  let line = 1;
  let elem = "";
  let elemLine = 0;
  let bytes = 0;
  const structural = (what: string) =>
    new InputError(`not a JSON array of ticker messages: ${what}`, {
      remedy: "use a JSON array ([{...}, {...}]) or JSON Lines (.jsonl, one object per line)",
      context: { file: path, line },
    });
  const feed = (text: string, out: TickResult[]) => {
    let from = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10) line++;
      if (state === "before") {
        if (c === 0x5b) {
          state = "inside";
          from = i + 1;
        } else if (c !== 0xfeff && c > 32) throw structural("it does not start with '['");
        continue;
      }
      if (state === "after") {
        if (c > 32) throw structural("there is text after the closing ']'");
        continue;
      }
      if (inString) {
        if (escaped) escaped = false;
        else if (c === 92) escaped = true;
        else if (c === 34) inString = false;
        continue;
      }
      if (c === 34) inString = true;
      else if (c === 0x7b || c === 0x5b) depth++;
      else if ((c === 0x7d || c === 0x5d) && depth > 0) depth--;
      else if (depth === 0 && (c === 44 || c === 0x5d)) {
        const raw = (elem + text.slice(from, i)).trim();
        elem = "";
        from = i + 1;
        if (raw !== "") out.push(parseTickLine(raw, elemLine));
        else if (c === 44) out.push(parseTickLine(raw, line));
        elemLine = 0;
        if (c === 0x5d) state = "after";
        continue;
      }
      if (elemLine === 0 && c > 32) elemLine = line;
    }
    if (state === "inside") elem += text.slice(from);
  };
  try {
    for await (const buf of createReadStream(path, { highWaterMark: CHUNK })) {
      bytes += (buf as Buffer).length;
      const out: TickResult[] = [];
      feed(decoder.write(buf as Buffer), out);
      onProgress?.({ bytes, total });
      if (out.length) yield out;
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`cannot read the ticks file: ${(e as Error).message}`, { remedy: "check the file", cause: e, context: { file: path } });
  }
  const out: TickResult[] = [];
  feed(decoder.end(), out);
  if (state === "before") throw structural("it is empty");
  // A truncated array (a recording cut short) still yields its complete elements; the partial one is a rejection.
  if (state === "inside" && elem.trim() !== "") out.push(parseTickLine(elem.trim(), elemLine));
  if (out.length) yield out;
}

/**
 * Read a ticks file as batches of results (one batch per chunk read), in file order, with 1-based line numbers.
 * This is the fast way to consume a file; `readTicks` flattens it.
 */
export async function* readTickBatches(path: string, opts: ReadOptions = {}): AsyncGenerator<TickResult[]> {
  const total = await checkTicksFile(path);
  const format = await detectFormat(path, opts.format);
  if (format === "json") {
    yield* jsonArrayBatches(path, total, opts.onProgress);
    return;
  }
  const lines = readLines(path, total, opts.onProgress);
  if (format === "csv") yield* csvBatches(lines, path, opts.csvMap);
  else yield* jsonlBatches(lines);
}

/**
 * Every tick or rejection of a file, in file order (streamed: a 1 GB file is never loaded whole).
 * @example for await (const r of readTicks("ticks.jsonl")) if (r.ok) console.log(r.tick.price)
 */
export async function* readTicks(path: string, opts: ReadOptions = {}): AsyncGenerator<TickResult> {
  for await (const batch of readTickBatches(path, opts)) {
    for (const r of batch) yield r;
  }
}

/** What a whole-file read found besides the ticks. */
export interface ReadSummary {
  ticks: number;
  rejected: number;
  /** The first `keepRejections` (default 100). */
  rejections: Rejection[];
}

/**
 * Read a file straight into columns (the batch fast path and the bench); rejections are counted and kept.
 * JSON Lines go through the byte scanner first; any line it cannot vouch for takes the ordinary path.
 */
export async function readTickColumns(
  path: string,
  opts: ReadOptions & { onReject?(r: Rejection): void; keepRejections?: number } = {},
): Promise<ReadSummary & { columns: TickColumns }> {
  const b = new TickColumnsBuilder(1 << 16);
  const summary = await scanTickFields(path, (productId, time, price, size) => b.push(productId, time, price, size), opts);
  return { ...summary, columns: b.build() };
}

/**
 * Every valid tick of a file as its four fields, in file order, streamed (a file is never held whole); rejections
 * are counted and kept. JSON Lines go through the byte scanner first; any line it cannot vouch for takes the
 * ordinary path. The batch fast path folds the ticks as they come (feature/fast.ts).
 */
export async function scanTickFields(
  path: string,
  onTick: (productId: string, time: number, price: number, size: number) => void,
  opts: ReadOptions & { onReject?(r: Rejection): void; keepRejections?: number } = {},
): Promise<ReadSummary> {
  const keep = opts.keepRejections ?? 100;
  const rejections: Rejection[] = [];
  let rejected = 0;
  let ticks = 0;
  const take = (r: TickResult) => {
    if (r.ok) {
      ticks++;
      onTick(r.tick.product_id, r.tick.time, r.tick.price, r.tick.last_size);
    } else {
      rejected++;
      if (rejections.length < keep) rejections.push(r.rejection);
      opts.onReject?.(r.rejection);
    }
  };
  const total = await checkTicksFile(path);
  if ((await detectFormat(path, opts.format)) === "jsonl") {
    const scanner = new TickLineScanner();
    for await (const batch of readLines(path, total, opts.onProgress)) {
      const { buf, starts, ends, numbers } = batch;
      for (let i = 0; i < starts.length; i++) {
        if (scanner.scan(buf, starts[i]!, ends[i]!)) {
          ticks++;
          onTick(scanner.productId, scanner.time, scanner.price, scanner.size);
        } else take(parseTickLine(lineText(batch, i), numbers[i]));
      }
    }
  } else {
    for await (const batch of readTickBatches(path, opts)) for (const r of batch) take(r);
  }
  return { ticks, rejected, rejections };
}
