import type { KafkaConnection } from "./connection.js";

/** A topic a step uses, as the step names it. */
export interface TopicRequest {
  name: string;
  /** Partitions when it has to be created (default: as many as the first topic of the request, the input). */
  partitions?: number;
  /** A compacted topic (the changelog). */
  compact?: boolean;
}

/**
 * Where a step runs when that is not a bare broker: the platform's connection, the broker's names for the step's
 * topics and group, and its own way of making sure the topics exist (Quix Cloud: its Portal API, src/kafka/quix/).
 * Resolved at the edge (`resolveStepConfig`) and passed through `StepOptions.platform`, so the step stays
 * platform-agnostic: it asks for names and never creates topics on a platform itself.
 */
export interface KafkaPlatform {
  /** For log lines, e.g. `Quix Cloud workspace acme-prod`. */
  readonly name: string;
  readonly connection: KafkaConnection;
  /** The broker's consumer group id for a group name. */
  group(name: string): string;
  /**
   * The broker topic names of `requests`, in order, once every one exists on the platform (found, or created the
   * platform's way); rejects with a typed error naming a topic it can neither find nor create.
   */
  topics(requests: readonly TopicRequest[]): Promise<string[]>;
}
