/**
 * Kafka record batches (message format v2), read straight from the bytes of a fetch response. The step's worker
 * decodes its input with this instead of kafkajs decoding every record on the main thread (see rawfetch.ts):
 * `scanRecordBatches` runs on the main thread once per batch of records (a header read); the worker reads the
 * records (stream/records.ts `unpackRecords`) with the offsets below.
 *
 * RecordBatch => firstOffset int64, length int32, partitionLeaderEpoch int32, magic int8, crc int32,
 *   attributes int16, lastOffsetDelta int32, firstTimestamp int64, maxTimestamp int64, producerId int64,
 *   producerEpoch int16, firstSequence int32, records [Record]
 * Record => length varint, attributes int8, timestampDelta varlong, offsetDelta varint, key varint-bytes,
 *   value varint-bytes, headers [key varint-string, value varint-bytes]
 */

import { crc32c } from "./produce/crc32c.js";

export const LENGTH_AT = 8;
export const MAGIC_AT = 16;
export const ATTRIBUTES_AT = 21;
export const LAST_DELTA_AT = 23;
export const FIRST_TS_AT = 27;
export const MAX_TS_AT = 35;
export const COUNT_AT = 57;
export const RECORDS_AT = 61;
/** firstOffset and length come before what length counts. */
export const LOG_OVERHEAD = 12;
export const CODEC_MASK = 0x07;
export const LOG_APPEND_TIME = 0x08;
export const TRANSACTIONAL = 0x10;
export const CONTROL = 0x20;

/** Record batches as they came: `bytes` holds whole batches; records before `from` are not wanted (already read). */
export interface RawBatch {
  partition: number;
  bytes: ArrayBuffer;
  /** The offset the fetch asked for: records before it are skipped. */
  from: number;
  /** Offset of the next message after the batch. */
  end: number;
}

/** What a scan found: plain batches in buf[start, stop), the last record's offset; or why kafkajs must decode them. */
export type Scan = { plain: true; stop: number; lastOffset: number; batches: number } | { plain: false; why: string };

/**
 * Walk the record batches in buf[start, end): whole ones only (a fetch response may end in a partial batch). They
 * are `plain` when each is format v2, uncompressed, and neither transactional nor a control batch: then their
 * records can be read in place, and kafkajs has nothing to filter (no aborted transactions, no markers).
 */
export function scanRecordBatches(buf: Buffer, start: number, end: number): Scan {
  let at = start;
  let lastOffset = -1;
  let batches = 0;
  while (end - at >= RECORDS_AT) {
    const size = LOG_OVERHEAD + buf.readInt32BE(at + LENGTH_AT);
    // A length shorter than a batch header is corrupt: kafkajs' decoder reports it (this loop would not advance).
    if (size < RECORDS_AT) return { plain: false, why: "corrupt batch length" };
    if (at + size > end) break;
    const magic = buf.readInt8(at + MAGIC_AT);
    if (magic !== 2) return { plain: false, why: `message format v${magic}` };
    const attributes = buf.readInt16BE(at + ATTRIBUTES_AT);
    if (attributes & CODEC_MASK) return { plain: false, why: "compressed" };
    if (attributes & (TRANSACTIONAL | CONTROL)) return { plain: false, why: "transactional" };
    lastOffset = Number(buf.readBigInt64BE(at)) + buf.readInt32BE(at + LAST_DELTA_AT);
    batches++;
    at += size;
  }
  return { plain: true, stop: at, lastOffset, batches };
}

/** A varint or varlong (zigzag) at `c.at`, advancing it: exact up to 2^49 in magnitude, then through BigInt. */
export function varint(b: Uint8Array, c: { at: number }): number {
  const start = c.at;
  let n = 0;
  let scale = 1;
  let byte: number;
  do {
    byte = b[c.at++]!;
    n += (byte & 0x7f) * scale;
    scale *= 128;
  } while (byte & 0x80);
  // More than 7 bytes hold more than 49 bits: a double would lose the low bit that carries the sign.
  if (c.at - start > 7) return bigVarint(b, start, c.at);
  // zigzag: even → n / 2, odd → -(n + 1) / 2
  return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
}

function bigVarint(b: Uint8Array, start: number, end: number): number {
  let v = 0n;
  for (let i = end - 1; i >= start; i--) v = (v << 7n) | BigInt(b[i]! & 0x7f);
  return Number((v >> 1n) ^ -(v & 1n));
}

export function sameBytes(b: Uint8Array, at: number, len: number, text: Uint8Array): boolean {
  if (len !== text.length) return false;
  for (let i = 0; i < len; i++) if (b[at + i] !== text[i]) return false;
  return true;
}


/** Bytes of `n` (a signed integer, |n| < 2^52) as a zigzag varint. */
export function varintSize(n: number): number {
  let z = n >= 0 ? n * 2 : -n * 2 - 1;
  let size = 1;
  while (z >= 128) {
    z = Math.floor(z / 128);
    size++;
  }
  return size;
}

/** Write `n` as a zigzag varint at b[at]; returns where it ends. */
export function writeVarint(b: Uint8Array, at: number, n: number): number {
  let z = n >= 0 ? n * 2 : -n * 2 - 1;
  while (z >= 128) {
    b[at++] = (z % 128) | 0x80;
    z = Math.floor(z / 128);
  }
  b[at++] = z;
  return at;
}

/** A record header as bytes: what a consumer sees as `headers[key] = value`. */
export type HeaderBytes = readonly [key: Uint8Array, value: Uint8Array];

/** Who wrote a batch and where it sits in the partition's sequence (idempotence); -1s for a plain producer. */
export interface BatchProducer {
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
}

/**
 * One record batch (format v2, uncompressed, create time, not transactional) written in place into a buffer of
 * its own: records are appended as they come (their values copied straight from the caller's bytes), the header
 * and CRC are written by `seal`. `start` bytes are left free in front for the caller (a request's prefix).
 * The first record's timestamp is the batch's base (as the Java client does); others are deltas from it.
 *
 * @example const w = new RecordBatchWriter(1 << 20); w.add(ts, key, line, 0, line.length, []); const batch = w.seal(producer)
 */
export class RecordBatchWriter {
  readonly buf: Buffer;
  readonly start: number;
  count = 0;
  private at: number;
  private firstTs = 0;
  private maxTs = 0;
  private sealed = false;
  // The headers of the last record, encoded (a producer passes the same array while they do not change).
  private headers: readonly HeaderBytes[] | undefined;
  private headerBytes: Uint8Array = new Uint8Array(1);

  private encodeHeaders(headers: readonly HeaderBytes[]): void {
    let size = varintSize(headers.length);
    for (const [k, v] of headers) size += varintSize(k.length) + k.length + varintSize(v.length) + v.length;
    const h = new Uint8Array(size);
    let at = writeVarint(h, 0, headers.length);
    for (const [k, v] of headers) {
      at = writeVarint(h, at, k.length);
      h.set(k, at);
      at += k.length;
      at = writeVarint(h, at, v.length);
      h.set(v, at);
      at += v.length;
    }
    this.headers = headers;
    this.headerBytes = h;
  }

  /** `buf`: a buffer to reuse (one of a sealed batch that is done with), at least `start + capacity` long. */
  constructor(capacity: number, start = 0, buf?: Buffer) {
    const size = start + Math.max(capacity, RECORDS_AT + 64);
    this.buf = buf && buf.length >= size ? buf : Buffer.allocUnsafe(size);
    this.start = start;
    this.at = start + RECORDS_AT;
  }

  /** Bytes of the batch so far (header included). */
  get size(): number {
    return this.at - this.start;
  }

  /**
   * Append a record: `value` is src[vStart, vEnd) (null when `src` is null); `headers` are encoded once per array
   * (pass a new array when they change, not the same one altered). Returns false, writing nothing,
   * when it does not fit in what is left of the buffer.
   */
  add(timestamp: number, key: Uint8Array | null, src: Uint8Array | null, vStart: number, vEnd: number, headers: readonly HeaderBytes[]): boolean {
    if (this.sealed) throw new Error("RecordBatchWriter: add after seal");
    if (this.count === 0) this.firstTs = this.maxTs = timestamp;
    const tsDelta = timestamp - this.firstTs;
    const keyLen = key === null ? -1 : key.length;
    const valueLen = src === null ? -1 : vEnd - vStart;
    if (headers !== this.headers) this.encodeHeaders(headers);
    const h = this.headerBytes;
    const body = 1 + varintSize(tsDelta) + varintSize(this.count) + varintSize(keyLen) + Math.max(keyLen, 0) + varintSize(valueLen) + Math.max(valueLen, 0) + h.length;
    const b = this.buf;
    if (this.at + varintSize(body) + body > b.length) return false;
    let at = writeVarint(b, this.at, body);
    b[at++] = 0; // record attributes: unused
    at = writeVarint(b, at, tsDelta);
    at = writeVarint(b, at, this.count);
    at = writeVarint(b, at, keyLen);
    if (key !== null) for (let i = 0; i < key.length; i++) b[at++] = key[i]!;
    at = writeVarint(b, at, valueLen);
    if (src !== null) {
      if (Buffer.isBuffer(src)) src.copy(b, at, vStart, vEnd);
      else b.set(src.subarray(vStart, vEnd), at);
      at += valueLen;
    }
    for (let i = 0; i < h.length; i++) b[at++] = h[i]!;
    this.at = at;
    if (timestamp > this.maxTs) this.maxTs = timestamp;
    this.count++;
    return true;
  }

  /** Write the batch header and CRC-32C; the batch is buf[start, start + size) (the returned view). */
  seal(p: BatchProducer): Buffer {
    if (this.count === 0) throw new Error("RecordBatchWriter: an empty batch");
    const b = this.buf;
    const s = this.start;
    b.writeBigInt64BE(0n, s); // base offset: the broker assigns it
    b.writeInt32BE(this.at - s - LOG_OVERHEAD, s + LENGTH_AT);
    b.writeInt32BE(-1, s + 12); // partition leader epoch: the broker's to set
    b.writeInt8(2, s + MAGIC_AT);
    b.writeInt16BE(0, s + ATTRIBUTES_AT);
    b.writeInt32BE(this.count - 1, s + LAST_DELTA_AT);
    b.writeBigInt64BE(BigInt(this.firstTs), s + FIRST_TS_AT);
    b.writeBigInt64BE(BigInt(this.maxTs), s + MAX_TS_AT);
    b.writeBigInt64BE(p.producerId, s + 43);
    b.writeInt16BE(p.producerEpoch, s + 51);
    b.writeInt32BE(p.baseSequence, s + 53);
    b.writeInt32BE(this.count, s + COUNT_AT);
    b.writeUInt32BE(crc32c(b, s + ATTRIBUTES_AT, this.at), s + 17);
    this.sealed = true;
    return b.subarray(s, this.at);
  }
}
