import { CONTROL_HEADER, EOF, INGEST_HEADER } from "./control.js";
import { META, type PackedBatch } from "./offload.js";
import { bytesMs } from "./partition.js";

/**
 * Kafka record batches (message format v2), read straight from the bytes of a fetch response. The step's worker
 * decodes its input with this instead of kafkajs decoding every record on the main thread (see rawfetch.ts):
 * `scanRecordBatches` runs on the main thread once per batch of records (a header read), `unpackRecords` in the
 * worker once per record.
 *
 * RecordBatch => firstOffset int64, length int32, partitionLeaderEpoch int32, magic int8, crc int32,
 *   attributes int16, lastOffsetDelta int32, firstTimestamp int64, maxTimestamp int64, producerId int64,
 *   producerEpoch int16, firstSequence int32, records [Record]
 * Record => length varint, attributes int8, timestampDelta varlong, offsetDelta varint, key varint-bytes,
 *   value varint-bytes, headers [key varint-string, value varint-bytes]
 */

const LENGTH_AT = 8;
const MAGIC_AT = 16;
const ATTRIBUTES_AT = 21;
const LAST_DELTA_AT = 23;
const FIRST_TS_AT = 27;
const MAX_TS_AT = 35;
const COUNT_AT = 57;
const RECORDS_AT = 61;
/** firstOffset and length come before what length counts. */
const LOG_OVERHEAD = 12;
const CODEC_MASK = 0x07;
const LOG_APPEND_TIME = 0x08;
const TRANSACTIONAL = 0x10;
const CONTROL = 0x20;

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
function varint(b: Uint8Array, c: { at: number }): number {
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

function sameBytes(b: Uint8Array, at: number, len: number, text: Uint8Array): boolean {
  if (len !== text.length) return false;
  for (let i = 0; i < len; i++) if (b[at + i] !== text[i]) return false;
  return true;
}

const CONTROL_KEY = new TextEncoder().encode(CONTROL_HEADER);
const INGEST_KEY = new TextEncoder().encode(INGEST_HEADER);
const EOF_VALUE = new TextEncoder().encode(EOF);

/**
 * Decode the records of `raw` into the packed form the worker processes (offload.ts): per record its offset, its
 * ingest time (the `quixlab-ingest-ms` header, else its timestamp), the eof flag, and where its key and value lie
 * in `raw.bytes` (no copies). Records before `raw.from` are skipped. Same values as kafkajs' messages through
 * `packBatch`.
 */
export function unpackRecords(raw: RawBatch): PackedBatch {
  const b = new Uint8Array(raw.bytes);
  const view = Buffer.from(raw.bytes);
  let count = 0;
  for (let at = 0; at < b.length; at += LOG_OVERHEAD + view.readInt32BE(at + LENGTH_AT)) count += view.readInt32BE(at + COUNT_AT);
  let meta = new Float64Array(count * META);
  let n = 0;
  const c = { at: 0 };
  for (let at = 0; at < b.length; at += LOG_OVERHEAD + view.readInt32BE(at + LENGTH_AT)) {
    const firstOffset = Number(view.readBigInt64BE(at));
    const logAppend = (view.readInt16BE(at + ATTRIBUTES_AT) & LOG_APPEND_TIME) !== 0;
    const firstTs = Number(view.readBigInt64BE(at + FIRST_TS_AT));
    const maxTs = Number(view.readBigInt64BE(at + MAX_TS_AT));
    const records = view.readInt32BE(at + COUNT_AT);
    c.at = at + RECORDS_AT;
    for (let r = 0; r < records; r++) {
      const len = varint(b, c);
      const next = c.at + len;
      c.at++; // attributes
      const tsDelta = varint(b, c);
      const offset = firstOffset + varint(b, c);
      const keyLen = varint(b, c);
      const keyAt = c.at;
      if (keyLen > 0) c.at += keyLen;
      const valueLen = varint(b, c);
      const valueAt = c.at;
      if (valueLen > 0) c.at += valueLen;
      let ingest = Number.NaN;
      let hasIngest = false;
      let eof = false;
      const headers = varint(b, c);
      for (let h = 0; h < headers; h++) {
        const hk = varint(b, c);
        const hkAt = c.at;
        c.at += Math.max(hk, 0);
        const hv = varint(b, c);
        const hvAt = c.at;
        c.at += Math.max(hv, 0);
        // The last of repeated headers counts, as for kafkajs' headers through ingestMs and isEof.
        if (sameBytes(b, hkAt, hk, INGEST_KEY)) {
          hasIngest = hv >= 0;
          if (hasIngest) ingest = bytesMs(view, hvAt, hvAt + hv);
        } else if (sameBytes(b, hkAt, hk, CONTROL_KEY)) eof = hv >= 0 && sameBytes(b, hvAt, hv, EOF_VALUE);
      }
      c.at = next;
      if (offset < raw.from) continue;
      const o = n * META;
      meta[o] = offset;
      meta[o + 1] = hasIngest ? ingest : logAppend ? maxTs : firstTs + tsDelta;
      meta[o + 2] = eof ? 1 : 0;
      meta[o + 3] = valueAt;
      meta[o + 4] = valueLen < 0 ? -1 : valueLen;
      meta[o + 5] = keyAt;
      meta[o + 6] = keyLen < 0 ? -1 : keyLen;
      n++;
    }
  }
  if (n < count) meta = meta.slice(0, n * META);
  return { partition: raw.partition, count: n, bytes: raw.bytes, meta, end: raw.end };
}
