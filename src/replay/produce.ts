import { isAscii } from "node:buffer";
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { type ClientOptions, type FastProducer, fastProducerTarget, type KafkaTarget, lineChunks, type OutMessage, openFastProducer, type Producer } from "../kafka/index.js";
import { INGEST_HEADER } from "../stream/control.js";
import { ascii as asciiRange, BYTE, jsonNumber, literalEnd, stringEnd } from "../tick/json-bytes.js";
import { detectFormat, type ReadOptions, readTicks } from "../tick/read.js";
import { parseIsoBytes } from "../tick/time.js";
import type { Tick } from "../tick/types.js";

/** One input message: the bytes the step will see, keyed by product, stamped with the tick's event time. */
export interface InputMessage {
  key: string | null;
  value: string;
  /** Event time (ms) when the line was a valid tick. */
  time?: number;
}

/** A valid tick as a ticker message (for inputs that were not ticker JSON to begin with: CSV rows). */
function tickerJson(t: Tick): string {
  return JSON.stringify({
    type: "ticker",
    product_id: t.product_id,
    price: t.price,
    last_size: t.last_size,
    time: new Date(t.time).toISOString(),
    ...(t.side === undefined ? {} : { side: t.side }),
    ...(t.trade_id === undefined ? {} : { trade_id: t.trade_id }),
  });
}

export function peekKeyAndTime(line: string): { key: string | null; time?: number } {
  try {
    const v = JSON.parse(line) as { product_id?: unknown; time?: unknown };
    const key = typeof v.product_id === "string" && v.product_id !== "" ? v.product_id : null;
    const t = typeof v.time === "string" ? Date.parse(v.time) : Number.NaN;
    return Number.isFinite(t) ? { key, time: t } : { key };
  } catch {
    return { key: null };
  }
}

/**
 * The messages to produce for a ticks file, in file order. JSON Lines are sent byte for byte (bad lines too, so
 * the step's dead-letter topic sees the original bytes); JSON arrays send each element; CSV rows become ticker
 * messages, and bad rows are sent as their raw text.
 */
export async function* inputMessages(file: string, read: Pick<ReadOptions, "format" | "csvMap"> = {}): AsyncGenerator<InputMessage[]> {
  const format = await detectFormat(file, read.format);
  const BATCH = 2_000;
  let batch: InputMessage[] = [];
  if (format === "jsonl") {
    const rl = createInterface({ input: createReadStream(file, "utf8"), crlfDelay: Number.POSITIVE_INFINITY });
    for await (const raw of rl) {
      const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
      if (line.trim() === "") continue; // the batch reader skips blank lines too
      batch.push({ value: line, ...peekKeyAndTime(line) });
      if (batch.length >= BATCH) {
        yield batch;
        batch = [];
      }
    }
  } else {
    for await (const r of readTicks(file, read)) {
      if (r.ok) batch.push({ key: r.tick.product_id, value: tickerJson(r.tick), time: r.tick.time });
      else batch.push({ key: null, value: r.rejection.raw });
      if (batch.length >= BATCH) {
        yield batch;
        batch = [];
      }
    }
  }
  if (batch.length) yield batch;
}

/** `max` (as fast as possible) or `Nx` (event time played back N times faster than it happened). */
export function parseSpeed(text: string): number {
  if (text === "max") return Number.POSITIVE_INFINITY;
  const m = /^(\d+(?:\.\d+)?)x$/i.exec(text);
  const n = m ? Number(m[1]) : Number.NaN;
  if (!(n > 0)) throw new Error(`bad speed '${text}'`);
  return n;
}

export interface ProduceProgress {
  produced: number;
}

export interface ProduceFileOptions {
  speed: number;
  read?: Pick<ReadOptions, "format" | "csvMap">;
  onProgress?(p: ProduceProgress): void;
  signal?: AbortSignal;
}

/**
 * Produce a file's messages in order (one partition per key keeps each product's order), paced by event time
 * when `speed` is finite. Returns how many were sent.
 */
export async function produceFile(producer: Producer, topic: string, file: string, opts: ProduceFileOptions): Promise<number> {
  // Ticker JSON Lines to a plain connection take the fast producer (src/kafka/fast-producer.ts); QUIXLAB_FAST_PRODUCE=0 turns it off.
  const fast = process.env.QUIXLAB_FAST_PRODUCE === "0" ? undefined : fastProducerTarget(producer);
  if (fast && (await detectFormat(file, opts.read?.format)) === "jsonl") return produceLinesFast(fast, topic, file, opts);
  let produced = 0;
  let firstEvent: number | undefined;
  const wallStart = Date.now();
  for await (const batch of inputMessages(file, opts.read)) {
    if (opts.signal?.aborted) break;
    let chunk: OutMessage[] = [];
    const flush = async () => {
      if (!chunk.length) return;
      const sentAt = String(Date.now());
      for (const m of chunk) m.headers = { [INGEST_HEADER]: sentAt };
      await producer.send(chunk);
      produced += chunk.length;
      chunk = [];
      opts.onProgress?.({ produced });
    };
    for (const m of batch) {
      if (Number.isFinite(opts.speed) && m.time !== undefined) {
        firstEvent ??= m.time;
        const due = wallStart + (m.time - firstEvent) / opts.speed;
        const wait = due - Date.now();
        if (wait > 5) {
          await flush();
          await new Promise((r) => setTimeout(r, wait));
        }
      }
      // Lines without a key (bad lines) go to partition 0, so a retried request cannot move them elsewhere.
      chunk.push({ topic, key: m.key, ...(m.key === null ? { partition: 0 } : {}), value: m.value, ...(m.time === undefined ? {} : { timestamp: String(m.time) }) });
    }
    await flush();
  }
  return produced;
}

const { QUOTE, COMMA, COLON, LBRACE, RBRACE, MINUS, D0, D9 } = BYTE;
const PRODUCT_ID = Buffer.from("product_id");
const TIME = Buffer.from("time");

/** What `inputMessages` makes of one line: its key and event time, and its value when not the bytes as read. */
export interface LineFacts {
  /** The key when read the slow way (`keyLen` -1); null for none. */
  key: string | null;
  /** The key as bytes b[keyAt, keyAt + keyLen) when read from the bytes (then `key` is null); -1 otherwise. */
  keyAt: number;
  keyLen: number;
  /** NaN when the line has no valid time. */
  time: number;
  /** The value to send when it is not b[start, end) itself (a line read the slow way: UTF-8 through a string). */
  text: Buffer | null;
}

function isKey(b: Buffer, at: number, len: number, word: Buffer): boolean {
  if (len !== word.length) return false;
  for (let i = 0; i < len; i++) if (b[at + i] !== word[i]) return false;
  return true;
}

/**
 * Read b[start, end) as a flat JSON object written without white space (`{"k":v,...}`, values strings without
 * escapes, numbers, true/false/null) with json-bytes' readers, and fill `out` with the last `product_id` and `time`
 * as JSON.parse would keep them. False, unsure, for anything else: nesting, escapes, spaces, invalid JSON; the
 * caller parses that line. The bytes must be ASCII (the caller checks a whole chunk at once).
 */
export function scanTickerLine(b: Buffer, view: DataView, start: number, end: number, out: LineFacts): boolean {
  if (b[start] !== LBRACE || b[end - 1] !== RBRACE) return false;
  let keyAt = -1;
  let keyLen = -1;
  let timeAt = -1;
  let timeLen = -1;
  let i = start + 1;
  if (i !== end - 1) {
    for (;;) {
      if (b[i] !== QUOTE) return false;
      const close = stringEnd(b, view, 0, i + 1, end);
      if (close < 0 || b[close + 1] !== COLON) return false;
      const field = isKey(b, i + 1, close - i - 1, PRODUCT_ID) ? 1 : isKey(b, i + 1, close - i - 1, TIME) ? 2 : 0;
      const v = close + 2;
      const c = b[v]!;
      let next: number;
      if (c === QUOTE) {
        next = stringEnd(b, view, 0, v + 1, end);
        if (next < 0) return false;
        if (field === 1) {
          keyAt = v + 1;
          keyLen = next - v - 1;
        } else if (field === 2) {
          timeAt = v + 1;
          timeLen = next - v - 1;
        }
        next++;
      } else {
        next = c === MINUS || (c >= D0 && c <= D9) ? jsonNumber(b, v) : literalEnd(b, v);
        if (next < 0) return false;
        if (field === 1) keyLen = -1;
        else if (field === 2) timeLen = -1;
      }
      if (next === end - 1) break;
      if (b[next] !== COMMA) return false;
      i = next + 1;
    }
  }
  out.key = null;
  out.keyAt = keyAt;
  out.keyLen = keyLen > 0 ? keyLen : -1;
  out.time = timeLen >= 0 ? eventTime(b, timeAt, timeLen) : Number.NaN;
  out.text = null;
  return true;
}

/**
 * `Date.parse` of the ASCII text b[at, at + len), without making the string in the usual case: the strict form
 * `YYYY-MM-DDTHH:MM:SS[.f…]Z`, which parseIsoBytes reads as Date.parse does (floored to the millisecond).
 */
export function eventTime(b: Buffer, at: number, len: number): number {
  const strict =
    len >= 20 &&
    b[at + 4] === 45 &&
    b[at + 7] === 45 &&
    b[at + 10] === 84 &&
    b[at + 13] === 58 &&
    b[at + 16] === 58 &&
    b[at + len - 1] === 90 &&
    (len === 20 || (len > 21 && b[at + 19] === 46));
  const t = strict ? parseIsoBytes(b, at, at + len) : undefined;
  return t ?? Date.parse(b.toString("latin1", at, at + len));
}

/**
 * The facts of line b[start, end) exactly as `inputMessages` has them (false for a blank line, which it skips):
 * a flat, ASCII, escape-free ticker line is read from its bytes; any other through JSON.parse as before.
 */
export function lineFacts(b: Buffer, view: DataView, ascii: boolean, start: number, end: number, out: LineFacts): boolean {
  if ((ascii || asciiRange(b, start, end)) && scanTickerLine(b, view, start, end, out)) return true;
  const line = b.toString("utf8", start, end);
  if (line.trim() === "") return false;
  const peek = peekKeyAndTime(line);
  out.key = peek.key;
  out.keyLen = -1;
  out.time = peek.time ?? Number.NaN;
  out.text = Buffer.from(line);
  return true;
}

/**
 * Each line of buf[from, end) as readline splits them (on \n, \r\n and a lone \r), blank ones too: `fn(start,
 * stop)` until it returns false. Returns where the line it refused starts, else `end`.
 */
export function forEachLine(buf: Buffer, from: number, end: number, fn: (start: number, stop: number) => boolean): number {
  const lone = buf.subarray(from, end).indexOf(13) >= 0;
  let s = from;
  while (s < end) {
    let nl = buf.indexOf(10, s);
    if (nl < 0 || nl >= end) nl = end;
    const e = nl > s && buf[nl - 1] === 13 ? nl - 1 : nl;
    if (lone) {
      // A \r inside the line ends a line too (readline's rule).
      for (let r = buf.subarray(s, e).indexOf(13); r >= 0; r = buf.subarray(s, e).indexOf(13)) {
        if (!fn(s, s + r)) return s;
        s += r + 1;
      }
    }
    if (!fn(s, e)) return s;
    s = nl + 1;
  }
  return end;
}

const STAMP_EVERY = 128;

/** The key of line facts as text (null for none). */
export function lineKey(b: Buffer, f: LineFacts): string | null {
  return f.keyLen > 0 ? b.toString("latin1", f.keyAt, f.keyAt + f.keyLen) : f.key;
}

/** Keys seen so far, their bytes and partitions; the few most recent found by comparing bytes (no string made). */
class KeyPartitions {
  private readonly recent: { bytes: Buffer; partition: number }[] = [];
  private readonly all = new Map<string, { bytes: Buffer; partition: number }>();
  constructor(private readonly p: FastProducer) {}

  ofBytes(b: Buffer, at: number, len: number): { bytes: Buffer; partition: number } {
    for (const k of this.recent) {
      const kb = k.bytes;
      if (kb.length !== len) continue;
      let i = 0;
      while (i < len && kb[i] === b[at + i]) i++;
      if (i === len) return k;
    }
    const k = this.ofText(b.toString("latin1", at, at + len));
    if (this.recent.length < 16) this.recent.push(k);
    return k;
  }

  ofText(key: string): { bytes: Buffer; partition: number } {
    let k = this.all.get(key);
    if (!k) {
      const bytes = Buffer.from(key);
      k = { bytes, partition: this.p.partitionOf(bytes) };
      this.all.set(key, k);
    }
    return k;
  }
}

/** `produceFile` for JSON Lines through the fast producer: memory stays at a few chunks and batches in flight. */
async function produceLinesFast(fast: { target: KafkaTarget; opts: ClientOptions }, topic: string, file: string, opts: ProduceFileOptions): Promise<number> {
  const p: FastProducer = await openFastProducer(fast.target, topic, {
    clientId: fast.opts.clientId,
    log: fast.opts.log,
    onAck: (produced) => opts.onProgress?.({ produced }),
  });
  try {
    const keys = new KeyPartitions(p);
    let sinceStamp = STAMP_EVERY;
    const ingestKey = Buffer.from(INGEST_HEADER);
    let stampAt = -1;
    let headers: [Buffer, Buffer][] = [];
    const facts: LineFacts = { key: null, keyAt: -1, keyLen: -1, time: Number.NaN, text: null };
    const paced = Number.isFinite(opts.speed);
    let firstEvent: number | undefined;
    const wallStart = Date.now();
    let wait = 0;
    for await (const { buf, end } of lineChunks(file)) {
      if (opts.signal?.aborted) break;
      const view = new DataView(buf.buffer, buf.byteOffset, buf.length);
      const ascii = isAscii(buf.subarray(0, end));
      // Lines are appended until one is due later (paced): the batches so far go out, then we wait.
      const appendLine = (start: number, stop: number): boolean => {
        if (!lineFacts(buf, view, ascii, start, stop, facts)) return true;
        const time = Number.isFinite(facts.time) ? facts.time : undefined;
        if (paced && time !== undefined) {
          firstEvent ??= time;
          wait = wallStart + (time - firstEvent) / opts.speed - Date.now();
          if (wait > 5) return false;
        }
        // The ingest time, read every STAMP_EVERY lines (well under a millisecond at full speed); paced, every line.
        if (++sinceStamp >= STAMP_EVERY || paced) {
          sinceStamp = 0;
          const now = Date.now();
          if (now !== stampAt) {
            stampAt = now;
            headers = [[ingestKey, Buffer.from(String(now))]];
          }
        }
        const now = stampAt;
        const k = facts.keyLen > 0 ? keys.ofBytes(buf, facts.keyAt, facts.keyLen) : facts.key === null ? undefined : keys.ofText(facts.key);
        // Lines without a key (bad lines) go to partition 0, as through kafkajs.
        if (facts.text) p.append(k?.partition ?? 0, time ?? now, k?.bytes ?? null, facts.text, 0, facts.text.length, headers);
        else p.append(k?.partition ?? 0, time ?? now, k?.bytes ?? null, buf, start, stop, headers);
        return true;
      };
      for (let at = forEachLine(buf, 0, end, appendLine); at < end && !opts.signal?.aborted; at = forEachLine(buf, at, end, appendLine)) {
        p.flush();
        await new Promise((r) => setTimeout(r, wait));
      }
      await p.room();
    }
    return await p.drain();
  } finally {
    p.close();
  }
}
