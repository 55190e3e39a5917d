/** The one place that knows the Kafka client (README.md in this folder): everything else imports from here. */
export { type AdminSession, createTopics, deleteGroups, deleteTopics, listGroups, openAdmin, type PartitionOffsets, type TopicSpec, topicOffsets, uniqueName } from "./admin.js";
export { type ClientOptions, pingBroker } from "./client.js";
export { brokersOf, connectionOf, type KafkaConnection, type KafkaTarget } from "./connection.js";
export { chunkMessages, isFenced, openProducer, openTransactionalProducer, type Producer, type TransactionalProducer, type TransactionOffsets } from "./producer.js";
export { readTopics, type ReadTopicsOptions, type TopicReader } from "./reader.js";
export { type HeaderValue, type Headers, headerText, type InBatch, type InMessage, type OutMessage } from "./types.js";
export { type GroupBatch, type GroupOptions, type GroupRunner, groupRunner } from "./group.js";
export { rawBatchesAvailable, rawBatchesServed } from "./rawfetch.js";
export type { RawBatch } from "./record-batch.js";
export { explainConnectError, KafkaAuthError } from "./connection.js";
export type { KafkaPlatform, TopicRequest } from "./platform.js";
export * from "./quix/index.js";
