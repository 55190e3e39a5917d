import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ServiceError } from "../../src/errors/index.js";
import { brokerUnreachable } from "../../src/stream/step.js";

/** A start failure as Step.start wraps it: a retriable ServiceError caused by what was thrown inside. */
const startFailed = (cause: Error, retriable = true) => new ServiceError(`starting the step failed: ${cause.message}`, { cause, retriable });

describe("a step's start, tried again while the broker does not answer", () => {
  test("kafkajs's null metadata (the call failed on every broker) counts as a broker that did not answer", () => {
    // What kafkajs' admin.fetchTopicMetadata throws when BrokerPool.withBroker returned null.
    let thrown: unknown;
    try {
      const metadata = null as unknown as { topicMetadata: unknown[] };
      metadata.topicMetadata.map((t) => t);
    } catch (e) {
      thrown = e;
    }
    assert.ok(thrown instanceof TypeError);
    assert.equal(brokerUnreachable(startFailed(thrown)), true);
  });

  test("a refused connection counts; a retriable error of another kind or a non-retriable one does not", () => {
    assert.equal(brokerUnreachable(startFailed(new Error("Connection error: connect ECONNREFUSED 127.0.0.1:9092"))), true);
    assert.equal(brokerUnreachable(startFailed(new TypeError("Cannot read properties of undefined (reading 'feature')"))), false);
    assert.equal(brokerUnreachable(startFailed(new Error("Connection error: connect ECONNREFUSED 127.0.0.1:9092"), false)), false);
    assert.equal(brokerUnreachable(new Error("connect ECONNREFUSED 127.0.0.1:9092")), false, "only the start's own ServiceError");
  });
});
