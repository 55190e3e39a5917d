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

