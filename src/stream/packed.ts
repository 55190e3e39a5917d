import type { Headers, InMessage } from "../kafka/index.js";
import { CONTROL_HEADER, EOF, isEof } from "./control.js";
import { ingestMs, type MessageSource, type PartitionProcessor, type Pending } from "./partition.js";

/**
 * The packed layout a batch of input takes on its way to a PartitionProcessor in the worker thread (offload.ts):
 * one buffer holding the messages' values and keys, and numbers per message saying where they are. kafkajs'
 * messages are packed by `packBatch`, record batches as fetched by `unpackRecords` (records.ts); `runBatch` runs
 * either kind, or plain messages, through a processor, taking checkpoints as it goes.
 */

/** Numbers per message in `PackedBatch.meta`. */
export const META = 7;
/** meta[i*META + ...] */
const OFFSET = 0;
const INGEST = 1;
const FLAGS = 2;
const VALUE_START = 3;
const VALUE_LEN = 4;
const KEY_START = 5;
const KEY_LEN = 6; // place() writes each length right after its start
const FLAG_EOF = 1;

/** A batch's messages as one buffer holding their values and keys, and numbers per message (where they are). */
export interface PackedBatch {
  partition: number;
  count: number;
  bytes: ArrayBuffer;
  meta: Float64Array;
  /** Offset of the next message after the batch (past trailing transaction markers). */
  end: number;
}

/** Where a batch's keys and values lie: the span of the shared buffer they cover, and the bytes of those elsewhere. */
interface Cover {
  lo: number;
  hi: number;
  extra: number;
}

function cover(c: Cover, b: Buffer | null, shared: ArrayBufferLike | undefined): void {
  if (!b) return;
  if (b.buffer !== shared) c.extra += b.length;
  else {
    if (b.byteOffset < c.lo) c.lo = b.byteOffset;
    if (b.byteOffset + b.length > c.hi) c.hi = b.byteOffset + b.length;
  }
}

/**
 * Record where `b` lies in the packed bytes at meta[o] (start) and meta[o + 1] (length, -1 for none), appending it
 * at `at` when it is outside the shared span; returns the next free byte.
 */
function place(meta: Float64Array, o: number, b: Buffer | null, shared: ArrayBufferLike | undefined, lo: number, bytes: Uint8Array, at: number): number {
  if (!b) {
    meta[o + 1] = -1;
    return at;
  }
  meta[o + 1] = b.length;
  if (b.buffer === shared) {
    meta[o] = b.byteOffset - lo;
    return at;
  }
  bytes.set(b, at);
  meta[o] = at;
  return at + b.length;
}

/**
 * Pack kafkajs messages for the worker: their values and keys are views into the fetch response, so the span of
 * the response they cover is copied once (a value elsewhere, say from a decompressed batch, is appended on its own).
 * This runs on the thread kafkajs decodes on, for every message: plain loops and module-level functions, no strings.
 */
export function packBatch(partition: number, messages: readonly InMessage[], end: number): PackedBatch {
  const n = messages.length;
  const first = messages[0];
  const shared = first ? (first.value ?? first.key)?.buffer : undefined;
  // Offsets only increase within a batch, so when the first and last are n - 1 apart they are consecutive (the
  // rule); compaction or transaction markers leave gaps, and then each one is read.
  const base = first ? Number(first.offset) : 0;
  const consecutive = n > 0 && Number(messages[n - 1]!.offset) - base === n - 1;
  const c: Cover = { lo: Number.POSITIVE_INFINITY, hi: 0, extra: 0 };
  for (let i = 0; i < n; i++) {
    cover(c, messages[i]!.value, shared);
    cover(c, messages[i]!.key, shared);
  }
  const lo = c.hi === 0 ? 0 : c.lo;
  const span = c.hi - lo;
  const bytes = new Uint8Array(span + c.extra);
  if (shared && span > 0) bytes.set(new Uint8Array(shared, lo, span));
  let at = span;
  const meta = new Float64Array(n * META);
  for (let i = 0; i < n; i++) {
    const m = messages[i]!;
    const o = i * META;
    meta[o + OFFSET] = consecutive ? base + i : Number(m.offset);
    meta[o + INGEST] = ingestMs(m.headers, m.timestamp);
    meta[o + FLAGS] = isEof(m.headers) ? FLAG_EOF : 0;
    at = place(meta, o + VALUE_START, m.value, shared, lo, bytes, at);
    at = place(meta, o + KEY_START, m.key, shared, lo, bytes, at);
  }
  return { partition, count: n, bytes: bytes.buffer, meta, end };
}

const EOF_HEADERS: Headers = Object.freeze({ [CONTROL_HEADER]: Buffer.from(EOF) }) as Headers;

/**
 * Run a packed batch through `proc`, reading each value where it lies in the packed bytes; whole messages (with
 * kafkajs' offset and timestamp strings) are made only for the few passed on as they are. Calls `after` after each
 * message (the worker checkpoints there).
 */
export function processPacked(b: PackedBatch, proc: PartitionProcessor, after: () => void): void {
  const { meta } = b;
  const buf = Buffer.from(b.bytes);
  const src: MessageSource = {
    message(i: number) {
      const o = i * META;
      const vl = meta[o + VALUE_LEN]!;
      const kl = meta[o + KEY_LEN]!;
      return {
        offset: String(meta[o + OFFSET]),
        // Copies: a view would send the whole batch buffer back with the reply.
        value: vl < 0 ? null : Buffer.from(buf.subarray(meta[o + VALUE_START]!, meta[o + VALUE_START]! + vl)),
        key: kl < 0 ? null : Buffer.from(buf.subarray(meta[o + KEY_START]!, meta[o + KEY_START]! + kl)),
        // The ingest time travels as the timestamp; NaN stays NaN (the processor then uses the wall clock).
        timestamp: String(meta[o + INGEST]),
        headers: meta[o + FLAGS] === FLAG_EOF ? EOF_HEADERS : undefined,
      };
    },
  };
  for (let i = 0; i < b.count; i++) {
    const o = i * META;
    const vs = meta[o + VALUE_START]!;
    const vl = meta[o + VALUE_LEN]!;
    proc.processAt(meta[o + OFFSET]!, meta[o + INGEST]!, meta[o + FLAGS] === FLAG_EOF, vl < 0 ? null : buf, vs, vs + Math.max(vl, 0), src, i);
    after();
  }
}

/**
 * Run one batch through `proc` (the packed layout, or messages as decoded) and return its checkpoints, in order:
 * one every `every` messages or `intervalMs`, and one at the end, whose position is `end` (past trailing
 * transaction markers, so the next fetch does not return them again). The worker and the in-thread path share it.
 */
export function runBatch(proc: PartitionProcessor, input: PackedBatch | readonly InMessage[], end: number, every: number, intervalMs: number): Pending[] {
  const pendings: Pending[] = [];
  let since = Date.now();
  let n = 0;
  const after = () => {
    // Date.now() every 256 messages still checkpoints within a millisecond of the interval.
    if (proc.uncommitted >= every || ((++n & 255) === 0 && Date.now() - since >= intervalMs)) {
      pendings.push(proc.take());
      since = Date.now();
    }
  };
  if (Array.isArray(input)) {
    for (const m of input as readonly InMessage[]) {
      proc.process(m);
      after();
    }
  } else processPacked(input as PackedBatch, proc, after);
  proc.position = end;
  pendings.push(proc.take());
  return pendings;
}
