import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ServiceError } from "../../src/errors/index.js";
import { explainMetadataError } from "../../src/kafka/admin.js";
import { brokerUnreachable } from "../../src/stream/step.js";

/** A start failure as Step.start wraps it: a retriable ServiceError caused by what was thrown inside. */
const startFailed = (cause: Error, retriable = true) => new ServiceError(`starting the step failed: ${cause.message}`, { cause, retriable });

describe("a step's start, tried again while the broker does not answer", () => {
  /** What `read` throws (it must throw a TypeError). */
  const thrownBy = (read: () => unknown): TypeError => {
    try {
      read();
    } catch (e) {
      assert.ok(e instanceof TypeError);
      return e;
    }
    assert.fail("it did not throw");
  };
  const nothing = () => null as unknown as { topicMetadata: unknown[] };

  test("kafkajs's null metadata (the call failed on every broker) counts as a broker that did not answer", () => {
    // admin.fetchTopicMetadata and admin.listTopics when BrokerPool.withBroker returned null, as Node words them.
    const read = thrownBy(() => nothing().topicMetadata.map((t) => t));
    const destructured = thrownBy(() => {
      const { topicMetadata } = nothing();
      return topicMetadata;
    });
    // The admin session explains them (a ServiceError, which the start passes on as it is).
    for (const e of [read, destructured]) {
      const explained = explainMetadataError(e);
      assert.ok(explained instanceof ServiceError, e.message);
      assert.equal(brokerUnreachable(explained), true, e.message);
    }
  });

  test("a refused connection counts; a retriable error of another kind or a non-retriable one does not", () => {
    assert.equal(brokerUnreachable(startFailed(new Error("Connection error: connect ECONNREFUSED 127.0.0.1:9092"))), true);
    const other = new TypeError("Cannot read properties of undefined (reading 'feature')");
    assert.equal(explainMetadataError(other), other, "another TypeError is left as it is");
    assert.equal(brokerUnreachable(startFailed(other)), false);
    assert.equal(brokerUnreachable(startFailed(new Error("Connection error: connect ECONNREFUSED 127.0.0.1:9092"), false)), false);
    assert.equal(brokerUnreachable(new Error("connect ECONNREFUSED 127.0.0.1:9092")), false, "only the start's own ServiceError");
  });
});
