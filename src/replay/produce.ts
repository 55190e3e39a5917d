import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import type { OutMessage, Producer } from "../kafka/index.js";
import { INGEST_HEADER } from "../stream/control.js";
import { detectFormat, readTicks, type ReadOptions } from "../tick/read.js";
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

function peekKeyAndTime(line: string): { key: string | null; time?: number } {
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

/**
 * Produce a file's messages in order (one partition per key keeps each product's order), paced by event time
 * when `speed` is finite. Returns how many were sent.
 */
export async function produceFile(
  producer: Producer,
  topic: string,
  file: string,
  opts: { speed: number; read?: Pick<ReadOptions, "format" | "csvMap">; onProgress?(p: ProduceProgress): void; signal?: AbortSignal },
): Promise<number> {
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
