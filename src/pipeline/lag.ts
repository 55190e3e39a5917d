import type { AdminSession } from "../kafka/index.js";

export interface PartitionLag {
  partition: number;
  /** Next offset to be written. */
  high: number;
  /** The group's committed offset; -1 when it has committed none. */
  committed: number;
  lag: number;
}

export interface TopicLag {
  group: string;
  topic: string;
  /** Sum over partitions of high watermark − committed offset. */
  lag: number;
  partitions: PartitionLag[];
}

/**
 * Consumer lag the way Kafka's own tools compute it: per partition, high watermark − committed offset. A
 * partition the group never committed counts from its low watermark (steps read from the beginning), so
 * lag = high − low there.
 */
export function partitionLag(high: number, low: number, committed: number): number {
  return Math.max(0, high - (committed < 0 ? low : committed));
}

/**
 * Lag of each consumer group on each of its topics, from two admin calls per group/topic: committed offsets
 * and watermarks (fetched once per topic). Topics that do not exist are skipped.
 * @example await consumerLag(admin, [{ group: "ohlc-1m", topics: ["ticks"] }])
 */
export async function consumerLag(admin: Pick<AdminSession, "listTopics" | "topicOffsets" | "committedOffsets">, groups: readonly { group: string; topics: readonly string[] }[]): Promise<TopicLag[]> {
  const wanted = new Set(groups.flatMap((g) => g.topics));
  if (wanted.size === 0) return [];
  const existing = new Set(await admin.listTopics());
  const watermarks = new Map<string, Map<number, { high: number; low: number }>>();
  for (const topic of wanted) {
    if (!existing.has(topic)) continue;
    const offsets = await admin.topicOffsets(topic);
    watermarks.set(topic, new Map(offsets.map((o) => [o.partition, { high: o.high, low: o.low }])));
  }
  const out: TopicLag[] = [];
  for (const g of groups) {
    const topics = g.topics.filter((t) => watermarks.has(t));
    if (topics.length === 0) continue;
    const committed = await admin.committedOffsets(g.group, topics);
    for (const topic of topics) {
      const marks = watermarks.get(topic)!;
      const mine = new Map((committed.find((c) => c.topic === topic)?.partitions ?? []).map((p) => [p.partition, p.offset]));
      const partitions = [...marks]
        .sort(([a], [b]) => a - b)
        .map(([partition, { high, low }]) => {
          const c = mine.get(partition) ?? -1;
          return { partition, high, committed: c, lag: partitionLag(high, low, c) };
        });
      out.push({ group: g.group, topic, lag: partitions.reduce((n, p) => n + p.lag, 0), partitions });
    }
  }
  return out;
}
