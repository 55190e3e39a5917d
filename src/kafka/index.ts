/** The one place that knows the Kafka client (README.md in this folder): everything else imports from here. */
export { type AdminSession, createTopics, deleteGroups, deleteTopics, listGroups, openAdmin, type PartitionOffsets, type TopicSpec, topicOffsets, uniqueName } from "./admin.js";
export { type ClientOptions, pingBroker } from "./client.js";
export { brokersOf, connectionOf, explainConnectError, KafkaAuthError, type KafkaConnection, type KafkaTarget } from "./connection.js";
export { type FastProducer, type FastProducerOptions, openFastProducer } from "./fast-producer.js";
export { type GroupBatch, type GroupOptions, type GroupRunner, groupRunner } from "./group.js";
export type { KafkaPlatform, TopicRequest } from "./platform.js";
export { lineChunks } from "./produce/lines.js";
export { fastProducerTarget, openProducer } from "./produce/plain.js";
export { chunkMessages, isFenced, openTransactionalProducer, type Producer, type TransactionalProducer, type TransactionOffsets } from "./producer.js";
export * from "./quix/index.js";
export { rawBatchesAvailable, rawBatchesServed } from "./rawfetch.js";
export { type ReadTopicsOptions, readTopics, type TopicReader } from "./reader.js";
export type { HeaderBytes, RawBatch } from "./record-batch.js";
export { type Headers, type HeaderValue, headerText, type InBatch, type InMessage, type OutMessage } from "./types.js";
