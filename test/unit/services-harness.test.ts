import assert from "node:assert/strict";
import { join, resolve } from "node:path";
import { describe, it } from "node:test";
import { findTestFiles, selectTestFiles } from "../harness/run.js";
import { uniqueName } from "../harness/services.js";

const root = resolve(import.meta.dirname, "../..");
const t = (p: string) => join(root, "test", p);

describe("test harness", () => {
  it("finds this file among the *.test.ts(x) files under test/", () => {
    const files = findTestFiles(join(root, "test"));
    assert.ok(files.includes(t("unit/services-harness.test.ts")));
    assert.ok(files.every((f) => /\.test\.tsx?$/.test(f)));
    assert.ok(files.includes(t("unit/replay-report.test.tsx")), "JSX tests are found too");
  });

  it("selects by QUIXLAB_TEST_ONLY and by path or substring filters", () => {
    const files = [t("integration/broker.test.ts"), t("integration/redis.test.ts"), t("unit/broker-select.test.ts"), t("unit/x/deep.test.ts")];
    assert.deepEqual(selectTestFiles(files, "unit", []), [t("unit/broker-select.test.ts"), t("unit/x/deep.test.ts")]);
    assert.deepEqual(selectTestFiles(files, "integration", []), [t("integration/broker.test.ts"), t("integration/redis.test.ts")]);
    assert.deepEqual(selectTestFiles(files, undefined, ["broker"]), [t("integration/broker.test.ts"), t("unit/broker-select.test.ts")]);
    assert.deepEqual(selectTestFiles(files, undefined, ["test/unit"], root), [t("unit/broker-select.test.ts"), t("unit/x/deep.test.ts")]);
    assert.deepEqual(selectTestFiles(files, "unit", ["redis"]), []);
    assert.throws(() => selectTestFiles(files, "all", []), /QUIXLAB_TEST_ONLY/);
  });

  it("makes unique, Kafka-legal names from a test's name", () => {
    const a = uniqueName({ name: "keeps per-key order (10,000 msgs)" }, "in");
    const b = uniqueName({ name: "keeps per-key order (10,000 msgs)" }, "in");
    assert.notEqual(a, b);
    assert.match(a, /^test-keeps-per-key-order-10-000-msgs-in-[a-z0-9]+-[0-9a-f]{8}$/);
  });
});
