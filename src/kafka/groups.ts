import { type ClientOptions, kafkaClient } from "./client.js";
import type { KafkaTarget } from "./connection.js";

/**
 * The ids of every consumer group the cluster knows (for cleanup by name prefix: a group that a crashed process
 * made with a random suffix can only be found this way).
 * @example (await listGroups(brokers)).filter((g) => g.startsWith(prefix))
 */
export async function listGroups(target: KafkaTarget, opts: ClientOptions = {}): Promise<string[]> {
  const admin = kafkaClient(target, { clientId: "quixlab-admin", ...opts }).admin();
  await admin.connect();
  try {
    return (await admin.listGroups()).groups.map((g) => g.groupId);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
