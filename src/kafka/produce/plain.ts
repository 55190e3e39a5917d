import type { ClientOptions } from "../client.js";
import { connectionOf, type KafkaTarget } from "../connection.js";
import { openProducer as openKafkajsProducer, type Producer } from "../producer.js";

const plainTargets = new WeakMap<Producer, { target: KafkaTarget; opts: ClientOptions }>();

/**
 * `openProducer` (producer.ts, kafkajs) that also remembers a plain connection's target, so code handed the
 * producer (replay's `produceFile`) can open a fast producer on the same broker (`fastProducerTarget`).
 */
export async function openProducer(target: KafkaTarget, opts: ClientOptions & { warm?: readonly string[] } = {}): Promise<Producer> {
  const p = await openKafkajsProducer(target, opts);
  const c = connectionOf(target);
  if (!c.ssl && !c.sasl) plainTargets.set(p, { target, opts });
  return p;
}

/** The target of a producer opened on a plain connection (no TLS, no SASL), else undefined. */
export function fastProducerTarget(p: Producer): { target: KafkaTarget; opts: ClientOptions } | undefined {
  return plainTargets.get(p);
}
