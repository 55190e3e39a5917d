import { AsyncLocalStorage } from "node:async_hooks";
import { createRequire } from "node:module";
import type { KafkaMessage } from "kafkajs";
import { type RawBatch, scanRecordBatches } from "./record-batch.js";

/**
 * Fetch responses whose record batches reach the step's worker undecoded. kafkajs decodes every record of a fetch
 * response into a message object on the main thread, the thread that also drives the consumer; that decoding is
 * most of a raw consume's cost. A step with a worker thread has no use for those objects: it copies the bytes over.
 * So, for consumers run inside `withRawBatches`, a partition's plain record batches (see `scanRecordBatches`) come
 * back as ONE placeholder message holding their bytes, with the offset of their last record: kafkajs' Batch keeps it
 * (its offset is not below the fetch offset), `lastOffset()` is right, and there is nothing for it to filter. The
 * worker decodes the records (`unpackRecords`). Anything else (compressed, transactional, control, old formats)
 * goes through kafkajs' own decoder, and outside `withRawBatches` nothing changes.
 *
 * How: kafkajs loads its fetch response decoders lazily, and all of them (fetch v4–v11) take `decodeMessages` from
 * one module; that module's export is replaced in the require cache before any of them is loaded. kafkajs is
 * pinned (2.2.4, package.json). When the hook cannot be installed (a response decoder was loaded first, or the
 * module is not where 2.2.4 has it), `rawBatchesAvailable` is false and the step decodes with kafkajs as before.
 */

const RAW = Symbol("quixlab.rawBatches");

type Placeholder = KafkaMessage & { [RAW]: Buffer };

type Decoder = { offset: number; buffer: Buffer; readInt32(): number; canReadBytes(n: number): boolean; forward(n: number): void };
type DecodeMessages = (decoder: Decoder) => Promise<KafkaMessage[]>;

const context = new AsyncLocalStorage<boolean>();
let installed: string | true = "not installed";
let served = 0;

function install(): string | true {
  const require = createRequire(import.meta.url);
  let path: string;
  try {
    path = require.resolve("kafkajs/src/protocol/requests/fetch/v4/decodeMessages.js");
  } catch {
    return "kafkajs has no fetch/v4/decodeMessages.js (not 2.2.x)";
  }
  const loaded = Object.keys(require.cache).find((k) => /kafkajs[\\/]src[\\/]protocol[\\/]requests[\\/]fetch[\\/]v\d+[\\/]response\.js$/.test(k));
  if (loaded) return `a fetch response decoder was loaded before the hook (${loaded})`;
  const original = require(path) as DecodeMessages;
  const cached = require.cache[path];
  if (typeof original !== "function" || !cached) return "kafkajs' decodeMessages is not a function";
  const decodeMessages: DecodeMessages = (decoder) => (context.getStore() === true ? raw(decoder, original) : original(decoder));
  cached.exports = decodeMessages;
  return true;
}

function raw(decoder: Decoder, original: DecodeMessages): Promise<KafkaMessage[]> {
  const at = decoder.offset;
  const size = decoder.readInt32();
  if (size <= 0 || !decoder.canReadBytes(size)) return Promise.resolve([]);
  const start = decoder.offset;
  const scan = scanRecordBatches(decoder.buffer, start, start + size);
  if (!scan.plain) {
    decoder.offset = at;
    return original(decoder);
  }
  decoder.forward(size);
  if (scan.batches === 0) return Promise.resolve([]);
  const bytes = decoder.buffer.subarray(start, scan.stop);
  served++;
  const m: Placeholder = { key: null, value: null, timestamp: "0", attributes: 0, offset: String(scan.lastOffset), headers: {}, [RAW]: bytes };
  // kafkajs' Batch reads these when it filters transactions and control records.
  Object.assign(m, { isControlRecord: false, batchContext: { producerId: "-1", inTransaction: false } });
  return Promise.resolve([m]);
}

installed = install();

/** True when consumers run in `withRawBatches` get undecoded batches; else why not. */
export function rawBatchesAvailable(): string | true {
  return installed;
}

/** How many partitions' batches this process has passed on undecoded so far (for tests and diagnostics). */
export function rawBatchesServed(): number {
  return served;
}

/** Run `fn` (a consumer's `run`) so that the fetches it starts return plain record batches undecoded. */
export function withRawBatches<T>(fn: () => T): T {
  return context.run(true, fn);
}

/** Run `fn` with kafkajs decoding as usual, also inside `withRawBatches` (a consumer started from the step's). */
export function withoutRawBatches<T>(fn: () => T): T {
  return context.exit(fn);
}

/**
 * The record batches of a kafkajs batch that came undecoded, copied into a buffer of their own for the worker; or
 * undefined when kafkajs decoded it.
 */
export function rawBatchOf(partition: number, messages: readonly KafkaMessage[], from: number, end: number): RawBatch | undefined {
  const one = messages.length === 1 ? (messages[0] as Partial<Placeholder>)[RAW] : undefined;
  if (!one) return undefined;
  const copy = new Uint8Array(one.length);
  copy.set(one);
  return { partition, bytes: copy.buffer, from, end };
}
