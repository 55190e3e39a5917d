import { kafkaClient } from "../broker/client.js";
import { ServiceError } from "../errors/index.js";
import type { Log } from "../infra/process.js";
import { waitFor } from "../util/net.js";
import type { TopicPlan } from "./types.js";

/**
 * Create the planned topics that do not exist yet (partitions, replication factor, retention) and wait until
 * every partition has a leader. Existing topics are kept as they are; a partition count that differs from the
 * plan is reported, not changed (shrinking is impossible and growing reshuffles keys).
 */
export async function ensureTopics(brokers: readonly string[], topics: readonly TopicPlan[], log?: Log): Promise<string[]> {
  if (topics.length === 0) return [];
  const admin = kafkaClient([...brokers], { clientId: "quixlab-up" }).admin();
  const names = topics.map((t) => t.name);
  try {
    await admin.connect();
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t.name));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: false,
        topics: missing.map((t) => ({
          topic: t.name,
          numPartitions: t.partitions,
          replicationFactor: t.replicationFactor,
          configEntries: Object.entries(t.config).map(([name, value]) => ({ name, value })),
        })),
      });
    }
    // A KRaft broker answers UNKNOWN_TOPIC_OR_PARTITION until it has applied a new topic; poll the metadata.
    const metadata = await waitFor(
      async () => {
        const { topics: md } = await admin.fetchTopicMetadata({ topics: names });
        return md.length === names.length && md.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0)) ? md : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: `leaders of ${names.join(", ")}` },
    );
    for (const t of topics) {
      const have = metadata.find((m) => m.name === t.name)?.partitions.length;
      if (existing.has(t.name) && have !== undefined && have !== t.partitions) {
        log?.(`[quixlab] topic ${t.name} exists with ${have} partitions (quix.yaml says ${t.partitions}); kept as it is`);
      }
    }
    return missing.map((t) => t.name);
  } catch (e) {
    throw new ServiceError(`Kafka at ${brokers.join(",")}: creating the topics ${names.join(", ")} failed: ${(e as Error).message}`, {
      cause: e,
      retriable: true,
      remedy: "check the broker is running and the topic settings in quix.yaml (partitions, replicationFactor)",
    });
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
