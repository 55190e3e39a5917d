import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { needsNewProducerId } from "../../src/kafka/producer.js";

describe("needsNewProducerId", () => {
  it("finds the broker's 'producer state lost' errors however kafkajs wraps them, and nothing else", () => {
    const broker = Object.assign(new Error("The broker received an out of order sequence number"), { type: "OUT_OF_ORDER_SEQUENCE_NUMBER" });
    assert.equal(needsNewProducerId(broker), true);
    assert.equal(needsNewProducerId(Object.assign(new Error("retries exhausted"), { cause: broker })), true);
    assert.equal(needsNewProducerId({ errors: [new Error("x"), { type: "UNKNOWN_PRODUCER_ID" }] }), true);
    assert.equal(needsNewProducerId(Object.assign(new Error("fenced"), { type: "PRODUCER_FENCED" })), false);
    assert.equal(needsNewProducerId(new Error("Connection error")), false);
    assert.equal(needsNewProducerId(undefined), false);
  });
});
