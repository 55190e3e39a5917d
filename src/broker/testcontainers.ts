import { startContainer } from "../services/docker.js";
import type { Log } from "../services/process.js";
import type { BrokerHandle } from "./types.js";

/** Confluent's image of Apache Kafka 3.9 (cp 7.9), KRaft mode. */
export const KAFKA_IMAGE = "confluentinc/cp-kafka:7.9.0";

/** Start Kafka in Docker with @testcontainers/kafka (imported lazily: only Docker users pay for it). */
export async function startContainerBroker({ log }: { log?: Log } = {}): Promise<BrokerHandle> {
  const { KafkaContainer } = await import("@testcontainers/kafka");
  const remedy = "check 'docker info' and that the image can be pulled, or use --broker local";
  const { container, startupMs, stop } = await startContainer("Kafka", remedy, () => new KafkaContainer(KAFKA_IMAGE).withKraft().start());
  const brokers = [`${container.getHost()}:${container.getMappedPort(9093)}`];
  log?.(`kafka: ${KAFKA_IMAGE} (testcontainers) ready at ${brokers[0]} in ${startupMs} ms`);
  return { brokers, provider: "testcontainers", startupMs, stop };
}
