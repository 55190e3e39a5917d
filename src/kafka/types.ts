/**
 * quixlab's own message types: what `stream/`, `replay/`, `pipeline/` and the public API see of Kafka. Only
 * `src/kafka/` maps them to and from the client library (structurally the same shapes kafkajs uses, so no copy is
 * made on the way).
 */

/** A header value: text, or bytes as consumed (a consumer always sees Buffers, whatever was sent). */
export type HeaderValue = string | Buffer;

/** Message headers; a header sent more than once arrives as an array (the last one counts for quixlab). */
export type Headers = { [name: string]: HeaderValue | HeaderValue[] | undefined };

/** A consumed message. */
export interface InMessage {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  /** The record's timestamp, epoch ms as a string (create time unless the topic says log-append time). */
  timestamp: string;
  headers?: Headers;
}

/** A message to produce; `partition` only where the producer chooses it, else the key's partition (murmur2). */
export interface OutMessage {
  topic: string;
  partition?: number;
  key: string | Buffer | null;
  value: string | Buffer | null;
  headers?: Headers;
  /** Epoch ms as a string; default the produce time. */
  timestamp?: string;
}

/** The consumed messages of one partition, in offset order. */
export interface InBatch {
  topic: string;
  partition: number;
  messages: InMessage[];
  /** The partition's high watermark when fetched. */
  highWatermark: string;
}

/** A header value as text (the last one of a repeated header). */
export function headerText(headers: Headers | undefined, name: string): string | undefined {
  const v = headers?.[name];
  const one = Array.isArray(v) ? v[v.length - 1] : v;
  return one === undefined || one === null ? undefined : one.toString();
}
