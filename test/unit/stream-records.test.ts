/**
 * Record batches read in place (src/stream/records.ts) against kafkajs itself: batches written with kafkajs' own
 * encoder, decoded by kafkajs' own decoder and packed as the step packs kafkajs messages, must give the same
 * offsets, ingest times, eof flags, keys and values as `unpackRecords` over the same bytes.
 */
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, it } from "node:test";
import type { KafkaMessage } from "kafkajs";
import { CONTROL_HEADER, EOF, INGEST_HEADER } from "../../src/stream/control.js";
import { META, type PackedBatch, packBatch } from "../../src/stream/packed.js";
import { scanRecordBatches } from "../../src/kafka/record-batch.js";
import { unpackRecords } from "../../src/stream/records.js";

const require = createRequire(import.meta.url);
type Encoded = { buffer: Buffer };
const { RecordBatch } = require("kafkajs/src/protocol/recordBatch/v0/index.js") as { RecordBatch: (o: object) => Promise<Encoded> };
const Record = require("kafkajs/src/protocol/recordBatch/record/v0/index.js") as (o: object) => Encoded;
const decodeBatch = require("kafkajs/src/protocol/recordBatch/v0/decoder.js") as (d: unknown) => Promise<{ records: KafkaMessage[] }>;
const Decoder = require("kafkajs/src/protocol/decoder.js") as new (b: Buffer) => { canReadBytes(n: number): boolean };
const Long = require("kafkajs/src/utils/long.js") as { fromNumber(n: number): unknown; fromValue(v: unknown): unknown };
const { Types: Compression } = require("kafkajs/src/protocol/message/compression/index.js") as { Types: { None: number; GZIP: number } };

/** A deterministic pseudo-random source (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Headers = Record<string, Buffer | Buffer[]>;

/** Headers of every kind the step reads: none, ingest times (digits, not digits, repeated, empty), eof markers. */
function headersFor(r: () => number, i: number): Headers {
  const b = (s: string) => Buffer.from(s);
  switch (Math.floor(r() * 10)) {
    case 0:
      return { [INGEST_HEADER]: b(String(1_700_000_000_000 + i)) };
    case 1:
      return { [INGEST_HEADER]: b("12a") };
    case 2:
      return { [INGEST_HEADER]: [b("5"), b(String(1_700_000_000_123 + i))], other: b("x") };
    case 3:
      return { [CONTROL_HEADER]: b(EOF) };
    case 4:
      return { [CONTROL_HEADER]: [b(EOF), b("not-eof")] };
    case 5:
      return { [CONTROL_HEADER]: b("eo"), [INGEST_HEADER]: b(" 42") };
    case 6:
      return { [INGEST_HEADER]: b("") , "quixlab-ingest-msx": b("1") };
    case 7:
      return { [INGEST_HEADER]: b("1234567890123456789") };
    default:
      return {};
  }
}

/** `batches` record batches of kafkajs' encoding, back to back, with offsets from `firstOffset`. */
async function encodeBatches(seed: number, batches: number, firstOffset: number, opts: { compression?: number; transactional?: boolean } = {}): Promise<Buffer> {
  const r = random(seed);
  const parts: Buffer[] = [];
  let offset = firstOffset;
  for (let b = 0; b < batches; b++) {
    const n = 1 + Math.floor(r() * 60);
    const records: Encoded[] = [];
    for (let i = 0; i < n; i++) {
      const key = r() < 0.1 ? null : r() < 0.1 ? Buffer.alloc(0) : Buffer.from(`P${i % 3}-USD`);
      const value = r() < 0.05 ? null : r() < 0.05 ? Buffer.alloc(0) : Buffer.from(`{"type":"ticker","product_id":"P${i % 3}-USD","price":"${(r() * 1e5).toFixed(2)}","i":${i}}`);
      // Deltas of every size the varlong holds here, negative ones too (timestamps need not be in order).
      const timestampDelta = Math.floor((r() - 0.2) * 2 ** Math.floor(r() * 42));
      records.push(Record({ offsetDelta: i, timestampDelta: Long.fromNumber(timestampDelta), key, value, headers: headersFor(r, offset + i) }));
    }
    const encoded = await RecordBatch({
      compression: opts.compression ?? Compression.None,
      firstOffset: Long.fromNumber(offset),
      firstTimestamp: 1_686_312_000_000 + b * 1000,
      maxTimestamp: 1_686_312_000_999 + b * 1000,
      lastOffsetDelta: n - 1,
      transactional: opts.transactional ?? false,
      records,
    });
    parts.push(encoded.buffer);
    offset += n;
  }
  return Buffer.concat(parts);
}

/** What kafkajs makes of the bytes (its decoder, records from `from` on), packed as the step packs messages. */
async function viaKafkajs(bytes: Buffer, from: number, end: number): Promise<PackedBatch> {
  const decoder = new Decoder(bytes);
  const messages: KafkaMessage[] = [];
  while (decoder.canReadBytes(61)) messages.push(...(await decodeBatch(decoder)).records);
  return packBatch(0, messages.filter((m) => Number(m.offset) >= from), end);
}

/** Per message: offset, ingest time, eof flag, key and value bytes (as text, null for none). */
function rows(p: PackedBatch) {
  const buf = Buffer.from(p.bytes);
  const span = (at: number, len: number) => (len < 0 ? null : buf.toString("latin1", at, at + len));
  return Array.from({ length: p.count }, (_, i) => {
    const m = p.meta.subarray(i * META, (i + 1) * META);
    return { offset: m[0], ingest: m[1], eof: m[2], value: span(m[3]!, m[4]!), key: span(m[5]!, m[6]!) };
  });
}

function setAttribute(bytes: Buffer, bit: number): Buffer {
  const copy = Buffer.from(bytes);
  copy.writeInt16BE(copy.readInt16BE(21) | bit, 21);
  return copy;
}

describe("record batches read in place (the step's worker)", () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    it(`unpackRecords gives what kafkajs' decoder and packBatch give (seed ${seed})`, async () => {
      const first = seed === 5 ? 2 ** 40 : 1000 * seed;
      const bytes = await encodeBatches(seed, 6, first);
      const scan = scanRecordBatches(bytes, 0, bytes.length);
      assert.ok(scan.plain);
      assert.equal(scan.batches, 6);
      assert.equal(scan.stop, bytes.length);
      const expected = await viaKafkajs(bytes, first, scan.lastOffset + 1);
      assert.ok(expected.count > 6);
      assert.equal(scan.lastOffset, Number(expected.meta[(expected.count - 1) * META]));
      // From an offset inside the second batch: what lies before it is skipped, as kafkajs' Batch drops it.
      const from = Number(expected.meta[40 * META] ?? first);
      const got = unpackRecords({ partition: 0, bytes: new Uint8Array(bytes).buffer, from: first, end: scan.lastOffset + 1 });
      assert.deepEqual(rows(got), rows(expected));
      assert.equal(got.end, expected.end);
      const later = unpackRecords({ partition: 0, bytes: new Uint8Array(bytes).buffer, from, end: scan.lastOffset + 1 });
      assert.deepEqual(rows(later), rows(await viaKafkajs(bytes, from, scan.lastOffset + 1)));
      assert.equal(later.count, expected.count - 40);
    });
  }

  it("reads timestamp deltas beyond 2^53, negative ones too, as kafkajs does", async () => {
    const deltas = [2 ** 49, -(2 ** 49), 2 ** 53, -(2 ** 53), -(2 ** 60), 2 ** 62];
    const records = deltas.map((d, i) => Record({ offsetDelta: i, timestampDelta: Long.fromNumber(d), key: null, value: Buffer.from(`v${i}`) }));
    const { buffer: bytes } = await RecordBatch({ firstOffset: Long.fromNumber(0), firstTimestamp: 1_000, maxTimestamp: 1_000, lastOffsetDelta: deltas.length - 1, records });
    const got = rows(unpackRecords({ partition: 0, bytes: new Uint8Array(bytes).buffer, from: 0, end: deltas.length }));
    assert.deepEqual(got, rows(await viaKafkajs(bytes, 0, deltas.length)));
    assert.deepEqual(
      got.map((m) => m.ingest),
      deltas.map((d) => 1_000 + d),
    );
  });

  it("reads log-append time from the batch, as kafkajs does", async () => {
    const bytes = setAttribute(await encodeBatches(9, 2, 0), 0x08);
    const scan = scanRecordBatches(bytes, 0, bytes.length);
    assert.ok(scan.plain);
    const got = rows(unpackRecords({ partition: 0, bytes: new Uint8Array(bytes).buffer, from: 0, end: scan.lastOffset + 1 }));
    assert.deepEqual(got, rows(await viaKafkajs(bytes, 0, scan.lastOffset + 1)));
    assert.ok(got.some((m) => m.ingest === 1_686_312_000_999), "a record without an ingest header has the batch's max timestamp");
  });

  it("stops before a partial batch at the end of a fetch response", async () => {
    const bytes = await encodeBatches(11, 3, 500);
    const whole = scanRecordBatches(bytes, 0, bytes.length);
    assert.ok(whole.plain);
    const cut = scanRecordBatches(bytes, 0, bytes.length - 5);
    assert.ok(cut.plain);
    assert.equal(cut.batches, 2);
    assert.ok(cut.stop < bytes.length - 5 && cut.lastOffset < whole.lastOffset);
    // The two whole batches alone decode to the same records as kafkajs gives for them.
    const two = bytes.subarray(0, cut.stop);
    assert.deepEqual(rows(unpackRecords({ partition: 0, bytes: new Uint8Array(two).buffer, from: 500, end: cut.lastOffset + 1 })), rows(await viaKafkajs(two, 500, cut.lastOffset + 1)));
    // Not even one whole batch: nothing, as kafkajs returns nothing.
    assert.deepEqual(scanRecordBatches(bytes, 0, 40), { plain: true, stop: 0, lastOffset: -1, batches: 0 });
  });

  it("leaves compressed, transactional and control batches to kafkajs", async () => {
    const plain = await encodeBatches(21, 2, 0);
    const gzip = await encodeBatches(21, 1, 0, { compression: Compression.GZIP });
    assert.deepEqual(scanRecordBatches(gzip, 0, gzip.length), { plain: false, why: "compressed" });
    // One such batch among plain ones is enough: the whole response goes to kafkajs.
    const mixed = Buffer.concat([plain, await encodeBatches(22, 1, 200, { transactional: true })]);
    assert.deepEqual(scanRecordBatches(mixed, 0, mixed.length), { plain: false, why: "transactional" });
    assert.deepEqual(scanRecordBatches(setAttribute(plain, 0x20), 0, plain.length), { plain: false, why: "transactional" });
    const v1 = Buffer.from(plain);
    v1.writeInt8(1, 16);
    assert.deepEqual(scanRecordBatches(v1, 0, v1.length), { plain: false, why: "message format v1" });
    const corrupt = Buffer.from(plain);
    corrupt.writeInt32BE(-12, 8);
    assert.deepEqual(scanRecordBatches(corrupt, 0, corrupt.length), { plain: false, why: "corrupt batch length" });
  });
});
