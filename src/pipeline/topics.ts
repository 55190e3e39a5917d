import { type AdminSession, brokersOf, type KafkaTarget, openAdmin } from "../kafka/index.js";
import { ServiceError } from "../errors/index.js";
import type { Log } from "../infra/process.js";
import type { TopicPlan } from "./types.js";

/**
 * Create the planned topics that do not exist yet (partitions, replication factor, retention) and wait until
 * every partition has a leader. Existing topics are kept as they are; a partition count that differs from the
 * plan is reported, not changed (shrinking is impossible and growing reshuffles keys).
 */
export async function ensureTopics(target: KafkaTarget, topics: readonly TopicPlan[], log?: Log): Promise<string[]> {
  if (topics.length === 0) return [];
  const names = topics.map((t) => t.name);
  let admin: AdminSession | undefined;
  try {
    admin = await openAdmin(target, { clientId: "quixlab-up" });
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t.name));
    // Waits until every partition of the new topics has a leader and takes writes.
    if (missing.length > 0) {
      await admin.createTopics(missing.map((t) => ({ topic: t.name, partitions: t.partitions, replicationFactor: t.replicationFactor, config: { ...t.config } })));
    }
    for (const t of topics) {
      if (!existing.has(t.name)) continue;
      const have = await admin.partitionCount(t.name);
      if (have !== t.partitions) log?.(`[quixlab] topic ${t.name} exists with ${have} partitions (quix.yaml says ${t.partitions}); kept as it is`);
    }
    return missing.map((t) => t.name);
  } catch (e) {
    throw new ServiceError(`Kafka at ${brokersOf(target).join(",")}: creating the topics ${names.join(", ")} failed: ${(e as Error).message}`, {
      cause: e,
      retriable: true,
      remedy: "check the broker is running and the topic settings in quix.yaml (partitions, replicationFactor)",
    });
  } finally {
    await admin?.disconnect().catch(() => undefined);
  }
}
