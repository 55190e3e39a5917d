/**
 * Kafka's default partitioner for keyed records, as the Java client (and kafkajs' DefaultPartitioner) computes it:
 * `toPositive(murmur2(keyBytes)) % partitions`. Batch uses it to put each key on the partition a producer would,
 * so `closing: "partition"` closes windows in batch exactly as on the stream.
 */

/** Kafka's murmur2 (seed 0x9747b28c) of `data`, as a signed 32-bit integer. */
export function murmur2(data: Uint8Array): number {
  const m = 0x5bd1e995;
  const len = data.length;
  let h = 0x9747b28c ^ len;
  const len4 = len >>> 2;
  for (let i = 0; i < len4; i++) {
    const i4 = i * 4;
    let k = data[i4]! | (data[i4 + 1]! << 8) | (data[i4 + 2]! << 16) | (data[i4 + 3]! << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const tail = len4 * 4;
  switch (len & 3) {
    // biome-ignore lint/suspicious/noFallthroughSwitchClause: murmur2 folds the tail bytes by falling through
    case 3:
      h ^= data[tail + 2]! << 16;
    // biome-ignore lint/suspicious/noFallthroughSwitchClause: as above
    case 2:
      h ^= data[tail + 1]! << 8;
    case 1:
      h ^= data[tail]!;
      h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

const encoder = new TextEncoder();

/**
 * The partition Kafka's default partitioner gives a record keyed `key` (UTF-8) on a topic of `partitions`.
 * @example partitionOf("BTC-USD", 3)
 */
export function partitionOf(key: string, partitions: number): number {
  return (murmur2(encoder.encode(key)) & 0x7fffffff) % partitions;
}
