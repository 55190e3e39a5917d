/**
 * The Kafka requests the fast producer speaks, as bytes (pure: no sockets here). Layouts as in kafkajs'
 * src/protocol/requests/{metadata/v1,initProducerId/v0,produce/v3}; all of them non-flexible versions, so a
 * request is `size int32, api_key int16, api_version int16, correlation_id int32, client_id string, body` and a
 * response `size int32, correlation_id int32, body`.
 */

export const API_PRODUCE = 0;
export const API_FETCH = 1;
export const API_LIST_OFFSETS = 2;
export const API_METADATA = 3;
export const API_INIT_PRODUCER_ID = 22;
/** Where a request's correlation id sits (patched at every send, so a batch is resent byte for byte). */
export const CORRELATION_AT = 8;

const headerSize = (clientId: Buffer) => 4 + 2 + 2 + 4 + 2 + clientId.length;

function writeHeader(b: Buffer, size: number, apiKey: number, version: number, clientId: Buffer): number {
  b.writeInt32BE(size - 4, 0);
  b.writeInt16BE(apiKey, 4);
  b.writeInt16BE(version, 6);
  b.writeInt32BE(0, CORRELATION_AT);
  b.writeInt16BE(clientId.length, 12);
  clientId.copy(b, 14);
  return 14 + clientId.length;
}

/** A whole request: header and `body`. */
export function requestFrame(apiKey: number, version: number, clientId: Buffer, body: Buffer): Buffer {
  const b = Buffer.allocUnsafe(headerSize(clientId) + body.length);
  body.copy(b, writeHeader(b, b.length, apiKey, version, clientId));
  return b;
}

/** Metadata v1 request body: these topics only. */
export function metadataBody(topics: readonly string[]): Buffer {
  const parts = topics.map((t) => Buffer.from(t));
  const b = Buffer.allocUnsafe(4 + parts.reduce((n, p) => n + 2 + p.length, 0));
  let at = b.writeInt32BE(parts.length, 0);
  for (const p of parts) {
    at = b.writeInt16BE(p.length, at);
    at += p.copy(b, at);
  }
  return b;
}

export interface BrokerAddress {
  nodeId: number;
  host: string;
  port: number;
}

export interface TopicMetadata {
  topic: string;
  error: number;
  /** Per partition (by id): its error code and leader (-1: none now). */
  partitions: { partition: number; error: number; leader: number }[];
}

/** A reader over a response body. */
class Reader {
  at = 0;
  constructor(readonly b: Buffer) {}
  int16() {
    const v = this.b.readInt16BE(this.at);
    this.at += 2;
    return v;
  }
  int32() {
    const v = this.b.readInt32BE(this.at);
    this.at += 4;
    return v;
  }
  int64() {
    const v = this.b.readBigInt64BE(this.at);
    this.at += 8;
    return v;
  }
  string(): string | null {
    const n = this.int16();
    if (n < 0) return null;
    const s = this.b.toString("utf8", this.at, this.at + n);
    this.at += n;
    return s;
  }
  array<T>(item: () => T): T[] {
    const n = this.int32();
    const out: T[] = [];
    for (let i = 0; i < n; i++) out.push(item());
    return out;
  }
}

/** Metadata v1 response body → brokers and topics. */
export function decodeMetadata(body: Buffer): { brokers: BrokerAddress[]; topics: TopicMetadata[] } {
  const r = new Reader(body);
  const brokers = r.array(() => {
    const nodeId = r.int32();
    const host = r.string() ?? "";
    const port = r.int32();
    r.string(); // rack
    return { nodeId, host, port };
  });
  r.int32(); // controller id
  const topics = r.array(() => {
    const error = r.int16();
    const topic = r.string() ?? "";
    r.at += 1; // is_internal
    const partitions = r.array(() => {
      const p = { error: r.int16(), partition: r.int32(), leader: r.int32() };
      r.array(() => r.int32()); // replicas
      r.array(() => r.int32()); // isr
      return p;
    });
    partitions.sort((a, b) => a.partition - b.partition);
    return { topic, error, partitions };
  });
  return { brokers, topics };
}

/** InitProducerId v0 request body: no transactional id (an idempotent producer). */
export function initProducerIdBody(): Buffer {
  const b = Buffer.allocUnsafe(6);
  b.writeInt16BE(-1, 0);
  b.writeInt32BE(60_000, 2);
  return b;
}

export function decodeInitProducerId(body: Buffer): { error: number; producerId: bigint; producerEpoch: number } {
  const r = new Reader(body);
  r.int32(); // throttle time
  return { error: r.int16(), producerId: r.int64(), producerEpoch: r.int16() };
}

/**
 * Bytes in front of a record batch in a Produce v3 request of one partition: header, transactional_id (null),
 * acks, timeout, one topic, one partition, the record set's size. The batch follows them.
 */
export function producePrefixSize(clientId: Buffer, topic: Buffer): number {
  return headerSize(clientId) + 2 + 2 + 4 + 4 + 2 + topic.length + 4 + 4 + 4;
}

/** Write that prefix into b[0, producePrefixSize) for a batch of `batchSize` bytes after it; acks = -1 (all). */
export function writeProducePrefix(b: Buffer, clientId: Buffer, topic: Buffer, partition: number, batchSize: number, timeoutMs: number): void {
  const prefix = producePrefixSize(clientId, topic);
  let at = writeHeader(b, prefix + batchSize, API_PRODUCE, 3, clientId);
  at = b.writeInt16BE(-1, at); // transactional_id: null
  at = b.writeInt16BE(-1, at); // acks: all in-sync replicas
  at = b.writeInt32BE(timeoutMs, at);
  at = b.writeInt32BE(1, at);
  at = b.writeInt16BE(topic.length, at);
  at += topic.copy(b, at);
  at = b.writeInt32BE(1, at);
  at = b.writeInt32BE(partition, at);
  b.writeInt32BE(batchSize, at);
}

/** Produce v3 response body → one result per partition. */
export function decodeProduce(body: Buffer): { topic: string; partition: number; error: number; baseOffset: bigint }[] {
  const r = new Reader(body);
  return r.array(() => {
    const topic = r.string() ?? "";
    return r.array(() => {
      const p = { topic, partition: r.int32(), error: r.int16(), baseOffset: r.int64() };
      r.int64(); // log append time
      return p;
    });
  }).flat();
}

/** One topic, its partitions, and a per-partition tail: the common shape of ListOffsets and Fetch requests. */
function topicPartitions(head: Buffer, topic: string, partitions: readonly number[], tail: (b: Buffer, at: number, partition: number) => number, tailSize: number): Buffer {
  const t = Buffer.from(topic);
  const b = Buffer.allocUnsafe(head.length + 4 + 2 + t.length + 4 + partitions.length * (4 + tailSize));
  let at = head.copy(b, 0);
  at = b.writeInt32BE(1, at);
  at = b.writeInt16BE(t.length, at);
  at += t.copy(b, at);
  at = b.writeInt32BE(partitions.length, at);
  for (const p of partitions) at = tail(b, b.writeInt32BE(p, at), p);
  return b;
}

/** ListOffsets v1 request body: the log end offset (timestamp -1) of these partitions. */
export function listOffsetsBody(topic: string, partitions: readonly number[]): Buffer {
  const head = Buffer.alloc(4);
  head.writeInt32BE(-1, 0);
  return topicPartitions(head, topic, partitions, (b, at) => b.writeBigInt64BE(-1n, at), 8);
}

export function decodeListOffsets(body: Buffer): { partition: number; error: number; offset: bigint }[] {
  const r = new Reader(body);
  return r
    .array(() => {
      r.string();
      return r.array(() => {
        const partition = r.int32();
        const error = r.int16();
        r.int64(); // timestamp
        return { partition, error, offset: r.int64() };
      });
    })
    .flat();
}

/** Fetch v4 request body (read uncommitted, no wait): each partition from its offset, up to `maxBytes` each. */
export function fetchBody(topic: string, from: ReadonlyMap<number, bigint>, maxBytes: number): Buffer {
  const head = Buffer.allocUnsafe(17);
  head.writeInt32BE(-1, 0); // replica id: a consumer
  head.writeInt32BE(0, 4); // max wait
  head.writeInt32BE(0, 8); // min bytes
  head.writeInt32BE(maxBytes * Math.max(1, from.size), 12);
  head.writeInt8(0, 16); // isolation: read uncommitted
  return topicPartitions(head, topic, [...from.keys()], (b, at, p) => b.writeInt32BE(maxBytes, b.writeBigInt64BE(from.get(p)!, at)), 12);
}

/** Fetch v4 response body → per partition its error, high watermark and record bytes (whole batches and maybe a partial one). */
export function decodeFetch(body: Buffer): { partition: number; error: number; highWatermark: bigint; records: Buffer }[] {
  const r = new Reader(body);
  r.int32(); // throttle time
  return r
    .array(() => {
      r.string();
      return r.array(() => {
        const partition = r.int32();
        const error = r.int16();
        const highWatermark = r.int64();
        r.int64(); // last stable offset
        const aborted = r.int32();
        r.at += Math.max(aborted, 0) * 16;
        const size = r.int32();
        const records = size < 0 ? Buffer.alloc(0) : r.b.subarray(r.at, r.at + size);
        r.at += Math.max(size, 0);
        return { partition, error, highWatermark, records };
      });
    })
    .flat();
}

/** Kafka error codes the producer acts on (the rest are fatal and reported by number and name where known). */
export const ERRORS: Record<number, { name: string; retriable: boolean }> = {
  2: { name: "CORRUPT_MESSAGE", retriable: false },
  3: { name: "UNKNOWN_TOPIC_OR_PARTITION", retriable: true },
  5: { name: "LEADER_NOT_AVAILABLE", retriable: true },
  6: { name: "NOT_LEADER_OR_FOLLOWER", retriable: true },
  7: { name: "REQUEST_TIMED_OUT", retriable: true },
  10: { name: "MESSAGE_TOO_LARGE", retriable: false },
  13: { name: "NETWORK_EXCEPTION", retriable: true },
  14: { name: "COORDINATOR_LOAD_IN_PROGRESS", retriable: true },
  15: { name: "COORDINATOR_NOT_AVAILABLE", retriable: true },
  19: { name: "NOT_ENOUGH_REPLICAS", retriable: true },
  20: { name: "NOT_ENOUGH_REPLICAS_AFTER_APPEND", retriable: true },
  29: { name: "TOPIC_AUTHORIZATION_FAILED", retriable: false },
  45: { name: "OUT_OF_ORDER_SEQUENCE_NUMBER", retriable: false },
  46: { name: "DUPLICATE_SEQUENCE_NUMBER", retriable: false },
  47: { name: "INVALID_PRODUCER_EPOCH", retriable: false },
  56: { name: "KAFKA_STORAGE_ERROR", retriable: true },
  59: { name: "UNKNOWN_PRODUCER_ID", retriable: false },
  74: { name: "FENCED_LEADER_EPOCH", retriable: true },
  75: { name: "UNKNOWN_LEADER_EPOCH", retriable: true },
};
export const OUT_OF_ORDER_SEQUENCE = 45;
export const DUPLICATE_SEQUENCE = 46;

export const errorName = (code: number) => ERRORS[code]?.name ?? `error ${code}`;
export const isRetriable = (code: number) => ERRORS[code]?.retriable ?? false;
