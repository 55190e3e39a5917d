import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { vectorStages } from "../../src/replay/vectors.js";

describe("replay --vectors: its steps", () => {
  it("are the spec's features over ticks, each on the first one's input topic, from the shipped module by default", async () => {
    const { stages } = await vectorStages("ohlc1h:30d,ohlc1m:today,ohlc60s:latest", "", process.cwd(), (p) => p);
    assert.deepEqual(stages.map((s) => s.feature.name), ["ohlc1h", "ohlc1m", "ohlc60s"]);
    assert.ok(stages.every((s) => s.names.topics.input === stages[0]!.names.topics.input), "one ticks topic");
    assert.ok(stages.every((s) => s.ref.endsWith(`src/feature/shipped/ohlc.ts#${s.feature.name}`)));
  });

  it("refuses a feature over another feature (a chain needs --chain) and a name the module does not export", async () => {
    await assert.rejects(vectorStages("rsi14:latest", "src/feature/shipped/indicators.ts", process.cwd()), /'rsi14' reads another feature \('ohlc1m'\)/);
    await assert.rejects(vectorStages("nope:1h", "", process.cwd()), /feature 'nope' is not an export of/);
  });
});
