import { requireContainerImage, startContainer } from "../infra/docker.js";
import type { Log } from "../infra/process.js";
import type { BrokerHandle } from "./types.js";

/** Confluent's image of Apache Kafka 3.9 (cp 7.9), KRaft mode. */
export const KAFKA_IMAGE = "confluentinc/cp-kafka:7.9.0";

/**
 * The same contract built from Apache Kafka's jars where no registry is reachable (.ci/images/build.sh).
 * Its tag stays a 7.9.0 version: @testcontainers/kafka picks its start-up steps by comparing the tag.
 */
export const KAFKA_LOCAL_IMAGE = "quixlab/cp-kafka:7.9.0-local";

/** Images tried in order: QUIXLAB_KAFKA_IMAGE alone when set, else Confluent's, then the locally built one. */
export function kafkaImages(env: NodeJS.ProcessEnv = process.env): string[] {
  return env.QUIXLAB_KAFKA_IMAGE ? [env.QUIXLAB_KAFKA_IMAGE] : [KAFKA_IMAGE, KAFKA_LOCAL_IMAGE];
}

export const KAFKA_IMAGE_REMEDY = `build ${KAFKA_LOCAL_IMAGE} with .ci/images/build.sh kafka, docker pull ${KAFKA_IMAGE}, or use --broker local`;

/**
 * Broker settings beyond @testcontainers/kafka's own, so a container broker behaves as the local one
 * (src/broker/local.ts): one replica and one partition for the transaction log (exactly-once steps on a single
 * node), explicit topics only, and no deletion by time (recorded ticks carry old timestamps).
 */
const BROKER_ENV = {
  KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: "1",
  KAFKA_TRANSACTION_STATE_LOG_NUM_PARTITIONS: "1",
  KAFKA_AUTO_CREATE_TOPICS_ENABLE: "false",
  KAFKA_LOG_RETENTION_MS: "-1",
};

/**
 * Start Kafka in Docker with @testcontainers/kafka (imported lazily: only Docker users pay for it).
 * `image` defaults to the first of `kafkaImages()` the engine can supply (a ServiceError when none).
 */
export async function startContainerBroker({ log, env = process.env, image }: { log?: Log; env?: NodeJS.ProcessEnv; image?: string } = {}): Promise<BrokerHandle> {
  const name = image ?? (await requireContainerImage("Kafka", kafkaImages(env), KAFKA_IMAGE_REMEDY, { env, log }));
  const { KafkaContainer } = await import("@testcontainers/kafka");
  const remedy = "check 'docker info' and the container's log (docker logs), or use --broker local";
  const { container, startupMs, stop } = await startContainer("Kafka", remedy, () => new KafkaContainer(name).withKraft().withEnvironment(BROKER_ENV).start());
  const brokers = [`${container.getHost()}:${container.getMappedPort(9093)}`];
  log?.(`kafka: ${name} (testcontainers, container ${container.getId().slice(0, 12)}) ready at ${brokers[0]} in ${startupMs} ms`);
  return { brokers, provider: "testcontainers", startupMs, stop };
}
