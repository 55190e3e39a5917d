/**
 * `quixlab/ops`: what tools import — the providers of Kafka and Redis, topics and producers, replay with its
 * parity report, the descriptor library and the local pipeline (with the dashboard's data source). A notebook or
 * a deployed step imports `quixlab` (src/index.ts) instead, which loads none of this.
 */

// ── real services: Kafka and Redis providers ─────────────────────────────────────────────────────────────────
export { startBroker } from "./broker/index.js";
export type { BrokerHandle, StartBrokerOptions } from "./broker/index.js";
export { startRedis, type RedisHandle, type StartRedisOptions } from "./redis/provider.js";

// ── Kafka: topics, producers and end-of-input markers ─────────────────────────────────────────────────────────
export { createTopics, deleteTopics, openProducer, topicOffsets } from "./kafka/index.js";
export type { KafkaConnection, KafkaTarget, OutMessage, PartitionOffsets, Producer, TopicSpec } from "./kafka/index.js";
export { produceEof } from "./stream/index.js";

// ── the online store's writes (the step's sink; reads are in the root API) ────────────────────────────────────
export { putWindows } from "./store/online.js";

// ── replay: recorded ticks through a real broker, with a parity report ──────────────────────────────────────
export { compareWindows, type ParityResult } from "./replay/parity.js";
export { replay, type ReplayOptions, type ReplayProgress } from "./replay/replay.js";
export { type ReplayReport, reportText } from "./replay/report.js";

// ── descriptor: quix.yaml and app.yaml ──────────────────────────────────────────────────────────────────────
export { editDescriptor, loadAppDescriptor, loadDescriptor, pipelineGraph, readDescriptor } from "./descriptor/index.js";

// ── pipeline: quix.yaml run locally, and the dashboard's data (promote and notebook tooling stay out: they load
// the TypeScript compiler) ─────────────────────────────────────────────────────────────────────────────────
export { collectDashboardData, openDashboardSource, pipelineDown, pipelineStatus, runPipeline, startDetached } from "./pipeline/index.js";
export type { DashboardData, DashboardQuery, DashboardSource } from "./pipeline/index.js";
