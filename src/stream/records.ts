import { CONTROL_HEADER, EOF, INGEST_HEADER } from "./control.js";
import { META, type PackedBatch } from "./packed.js";
import { bytesMs } from "./partition.js";
import { ATTRIBUTES_AT, COUNT_AT, FIRST_TS_AT, LENGTH_AT, LOG_APPEND_TIME, LOG_OVERHEAD, MAX_TS_AT, RECORDS_AT, type RawBatch, sameBytes, varint } from "../kafka/record-batch.js";

export type { RawBatch } from "../kafka/record-batch.js";

const CONTROL_KEY = new TextEncoder().encode(CONTROL_HEADER);
const INGEST_KEY = new TextEncoder().encode(INGEST_HEADER);
const EOF_VALUE = new TextEncoder().encode(EOF);

/**
 * Decode the records of `raw` into the packed layout the worker processes (packed.ts): per record its offset, its
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
