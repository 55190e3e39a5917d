/**
 * The fast producer's record-batch encoder (src/kafka/record-batch.ts `RecordBatchWriter`) against the decoders
 * that read its output: the step's own (`scanRecordBatches` + `unpackRecords`) and kafkajs' (what a kafkajs
 * consumer sees: keys, values, headers, timestamps, offsets). The CRC-32C is checked against kafkajs' and the
 * standard check value.
 */
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, it } from "node:test";
import type { KafkaMessage } from "kafkajs";
import { crc32c } from "../../src/kafka/produce/crc32c.js";
import { type HeaderBytes, RecordBatchWriter, scanRecordBatches, varint, varintSize, writeVarint } from "../../src/kafka/record-batch.js";
import { INGEST_HEADER } from "../../src/stream/control.js";
import { META } from "../../src/stream/packed.js";
import { unpackRecords } from "../../src/stream/records.js";

const require = createRequire(import.meta.url);
const decodeBatch = require("kafkajs/src/protocol/recordBatch/v0/decoder.js") as (d: unknown) => Promise<{ records: KafkaMessage[]; firstSequence: number; producerId: string; producerEpoch: number }>;
const Decoder = require("kafkajs/src/protocol/decoder.js") as new (b: Buffer) => { canReadBytes(n: number): boolean };
const kafkajsCrc = require("kafkajs/src/protocol/recordBatch/crc32C/crc32C.js") as (b: Buffer) => number;

const enc = (s: string) => Buffer.from(s);
const PRODUCER = { producerId: 4242n, producerEpoch: 3, baseSequence: 17 };

/** A file's bytes: lines of JSON, one bad, one with a non-ASCII product. */
const lines = [
  '{"type":"ticker","product_id":"BTC-USD","price":"100.5","time":"2023-06-09T12:00:00.123Z"}',
  "not json at all",
  '{"type":"ticker","product_id":"ÉTH-EUR","price":"7","time":"2023-06-09T11:59:59.001Z"}',
  "",
  '{"type":"ticker","product_id":"SOL-USD","price":"3","time":"2023-06-09T12:00:05.000Z"}',
];
const file = Buffer.from(lines.join("\n"));

function encodeAll(start = 0) {
  const w = new RecordBatchWriter(1 << 16, start);
  let at = 0;
  const expected: { key: string | null; value: string; ts: number; ingest: string }[] = [];
  lines.forEach((line, i) => {
    const end = at + Buffer.byteLength(line);
    const key = i === 1 ? null : enc(JSON.parse(line || '{"product_id":"none"}').product_id);
    const ts = i === 1 ? 1_700_000_000_000 : Date.parse(JSON.parse(line || '{"time":"2023-06-09T12:00:00Z"}').time);
    const ingest = String(1_800_000_000_000 + i);
    const headers: HeaderBytes[] = [[enc(INGEST_HEADER), enc(ingest)]];
    assert.ok(w.add(ts, key, file, at, end, headers));
    expected.push({ key: key === null ? null : key.toString(), value: line, ts, ingest });
    at = end + 1;
  });
  return { w, batch: w.seal(PRODUCER), expected };
}

describe("RecordBatchWriter (record batch v2, uncompressed)", () => {
  it("computes CRC-32C as the standard and kafkajs do", () => {
    assert.equal(crc32c(enc("123456789")), 0xe3069283);
    const r = Buffer.alloc(10_003);
    for (let i = 0; i < r.length; i++) r[i] = (i * 7919 + (i >> 3)) & 0xff;
    for (const [s, e] of [[0, r.length], [1, 9], [3, 10_000], [5, 5]] as const) assert.equal(crc32c(r, s, e), kafkajsCrc(r.subarray(s, e)));
  });

  it("writes varints as the decoder reads them", () => {
    const b = new Uint8Array(16);
    for (const n of [0, 1, -1, 63, -64, 64, 300, -300, 2 ** 31, -(2 ** 31) - 7, 1_700_000_000_123, -(2 ** 45)]) {
      const end = writeVarint(b, 0, n);
      assert.equal(end, varintSize(n), `size of ${n}`);
      const c = { at: 0 };
      assert.equal(varint(b, c), n);
      assert.equal(c.at, end);
    }
  });

  it("is read by the step's decoder: plain, offsets, keys, values, ingest header", () => {
    const { batch, expected } = encodeAll(40);
    const scan = scanRecordBatches(batch, 0, batch.length);
    assert.deepEqual(scan, { plain: true, stop: batch.length, lastOffset: lines.length - 1, batches: 1 });
    const packed = unpackRecords({ partition: 0, bytes: new Uint8Array(batch).buffer, from: 0, end: lines.length });
    assert.equal(packed.count, lines.length);
    const view = Buffer.from(packed.bytes);
    expected.forEach((e, i) => {
      const m = packed.meta.subarray(i * META, (i + 1) * META);
      assert.equal(m[0], i, "offset");
      assert.equal(m[1], Number(e.ingest), "ingest time from the header");
      assert.equal(m[2], 0, "not eof");
      assert.equal(view.toString("utf8", m[3], m[3]! + m[4]!), e.value, "value: the line's bytes");
      assert.equal(m[6]! < 0 ? null : view.toString("utf8", m[5], m[5]! + m[6]!), e.key, "key");
    });
  });

  it("is read by kafkajs: timestamps (first record's as the base, deltas negative too), headers, producer fields", async () => {
    const { batch, expected } = encodeAll();
    const d = await decodeBatch(new Decoder(batch));
    assert.equal(d.producerId, "4242");
    assert.equal(d.producerEpoch, 3);
    assert.equal(d.firstSequence, 17);
    assert.equal(d.records.length, expected.length);
    d.records.forEach((m, i) => {
      const e = expected[i]!;
      assert.equal(m.offset, String(i));
      assert.equal(m.timestamp, String(e.ts));
      assert.equal(m.key === null ? null : m.key.toString(), e.key);
      assert.equal(m.value!.toString(), e.value);
      assert.deepEqual(Object.keys(m.headers!), [INGEST_HEADER]);
      assert.equal(String(m.headers![INGEST_HEADER]), e.ingest);
    });
    assert.equal(batch.readBigInt64BE(35), BigInt(Math.max(...expected.map((e) => e.ts))), "max timestamp");
    assert.equal(batch.readUInt32BE(17), crc32c(batch, 21, batch.length), "CRC over attributes..end");
  });

  it("refuses a record that does not fit, and a null value is a tombstone", async () => {
    const w = new RecordBatchWriter(200);
    assert.equal(w.add(1, enc("k"), Buffer.alloc(300), 0, 300, []), false);
    assert.equal(w.count, 0);
    assert.ok(w.add(1, enc("k"), null, 0, 0, []));
    const d = await decodeBatch(new Decoder(w.seal(PRODUCER)));
    assert.equal(d.records[0]!.value, null);
    assert.throws(() => new RecordBatchWriter(100).seal(PRODUCER), /empty batch/);
  });
});
