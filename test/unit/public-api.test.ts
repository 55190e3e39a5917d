/**
 * The public API in two parts (src/index.ts for notebooks and steps, src/ops.ts for tools), and the package
 * entries that lead to them for both kinds of resolver (package.json `exports`, and the old `main`/`types` way
 * tslab and TypeScript's node10 resolution use).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, it } from "node:test";
import * as root from "../../src/index.js";
import * as ops from "../../src/ops.js";
import { repoRoot } from "../helpers/cli.js";

describe("public API", () => {
  it("the root entry has what a notebook and a step use, and none of the tools", () => {
    for (const name of ["defineFeature", "tumbling", "hopping", "ohlcv", "ohlc", "runStep", "stepConfigFromEnv", "resolveStepConfig", "getLatest", "getRange", "getKeys", "readTicks", "isEof", "EofTracker"]) {
      assert.equal(typeof (root as Record<string, unknown>)[name], "function", `quixlab exports ${name}`);
    }
    assert.equal(root.ohlc1m.name, "ohlc1m", "the shipped features are exported as feature objects");
    for (const name of ["replay", "startBroker", "startRedis", "runPipeline", "collectDashboardData", "kafkaClient", "produceEof", "putWindows"]) {
      assert.equal(name in root, false, `${name} belongs to quixlab/ops, not the root`);
    }
  });

  it("quixlab/ops has the providers, replay, descriptor and pipeline, and the dashboard source with its reader", () => {
    for (const name of ["startBroker", "startRedis", "createTopics", "deleteTopics", "openProducer", "produceEof", "putWindows", "replay", "compareWindows", "reportText", "loadDescriptor", "editDescriptor", "runPipeline", "pipelineStatus", "pipelineDown", "openDashboardSource", "collectDashboardData"]) {
      assert.equal(typeof (ops as Record<string, unknown>)[name], "function", `quixlab/ops exports ${name}`);
    }
  });

  it("both entries resolve to the built files, through exports and through the old main/types lookup", () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as {
      main: string;
      types: string;
      exports: Record<string, { types: string; default: string }>;
      files: string[];
    };
    assert.equal(resolve(repoRoot, pkg.exports["."]!.default), resolve(repoRoot, pkg.main));
    assert.equal(resolve(repoRoot, pkg.exports["."]!.types), resolve(repoRoot, pkg.types));
    assert.equal(resolve(repoRoot, pkg.exports["./ops"]!.default), resolve(repoRoot, "dist/src/ops.js"));
    assert.equal(resolve(repoRoot, pkg.exports["./ops"]!.types), resolve(repoRoot, "dist/src/ops.d.ts"));
    const legacy = JSON.parse(readFileSync(join(repoRoot, "ops", "package.json"), "utf8")) as { main: string; types: string };
    assert.equal(resolve(repoRoot, "ops", legacy.main), resolve(repoRoot, "dist/src/ops.js"));
    assert.equal(resolve(repoRoot, "ops", legacy.types), resolve(repoRoot, "dist/src/ops.d.ts"));
    assert.ok(pkg.files.includes("ops"), "the ops/ folder ships in the package");
  });
});
