import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import kafkajs from "kafkajs";
import { kafkaClient } from "../../src/kafka/client.js";
import type { ServicesStatus } from "../../src/services/lifecycle.js";
import { pidAlive, which } from "../../src/infra/process.js";
import type { ServicesState } from "../../src/services/state.js";
import { exec, quixlab } from "../helpers/cli.js";

// kafkajs is CommonJS: this enum is not among the names Node finds for an ESM import.
const { ConfigResourceTypes } = kafkajs;

/** The CLI in `cwd`, blind to the session's own services: this test starts and stops its own. */
const cli = (cwd: string, ...args: string[]) => quixlab(args, { cwd, env: { KAFKA_BROKERS: undefined, REDIS_URL: undefined } });

describe("quixlab services", () => {
  it("up starts a real Kafka and Redis that outlive it; status sees them; up again reuses; down leaves nothing", { timeout: 240_000 }, async (t) => {
    const cwd = mkdtempSync(join(tmpdir(), "quixlab-services-cli-"));
    t.after(async () => {
      await cli(cwd, "services", "down");
      rmSync(cwd, { recursive: true, force: true });
    });

    const up = await cli(cwd, "services", "up", "--broker", "local", "--redis", "local", "--json");
    assert.equal(up.code, 0, up.err);
    const state = JSON.parse(up.out) as ServicesState & { reused: { broker: boolean; redis: boolean } };
    const { broker, redis } = state;
    assert.ok(broker?.pid && redis?.pid && broker.dir && redis.dir);
    assert.equal(broker.provider, "local");
    assert.equal(redis.provider, "local");
    assert.match(broker.brokers[0]!, /^127\.0\.0\.1:\d+$/);
    assert.match(redis.url, /^redis:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(broker.startupMs > 0);
    assert.deepEqual(state.reused, { broker: false, redis: false });
    assert.deepEqual(JSON.parse(readFileSync(join(cwd, ".quixlab", "services.json"), "utf8")), { version: 1, broker, redis });
    // The CLI has exited; the services must still run.
    assert.equal(pidAlive(broker.pid), true);
    assert.equal(pidAlive(redis.pid), true);

    const status = await cli(cwd, "services", "status", "--json");
    assert.equal(status.code, 0, status.err);
    const s = JSON.parse(status.out) as ServicesStatus;
    assert.equal(s.running, true);
    assert.deepEqual([s.broker?.alive, s.broker?.brokers, s.redis?.alive, s.redis?.url], [true, broker.brokers, true, redis.url]);

    const again = await cli(cwd, "services", "up");
    assert.equal(again.code, 0, again.err);
    assert.match(again.out, /already up/);
    assert.match(again.out, new RegExp(`kafka +local +${broker.brokers[0]} +pid ${broker.pid} +already running`));
    assert.deepEqual(JSON.parse(readFileSync(join(cwd, ".quixlab", "services.json"), "utf8")).broker.pid, broker.pid);

    if (which("kcat")) {
      const kcat = await exec("kcat", ["-b", broker.brokers[0]!, "-L", "-m", "10"]);
      assert.equal(kcat.code, 0, kcat.err);
      assert.match(kcat.out, new RegExp(`1 brokers:\\s+broker 1 at ${broker.brokers[0]}`));
    } else {
      t.diagnostic("kcat not installed; skipped the kcat -L check");
    }

    // Recordings carry their event time as the Kafka timestamp: this broker must not delete them by age.
    const admin = kafkaClient(broker.brokers).admin();
    await admin.connect();
    try {
      const { resources } = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.BROKER, name: "1", configNames: ["log.retention.ms"] }] });
      assert.equal(resources[0]?.configEntries.find((e) => e.configName === "log.retention.ms")?.configValue, "-1");
    } finally {
      await admin.disconnect();
    }

    const down = await cli(cwd, "services", "down", "--json");
    assert.equal(down.code, 0, down.err);
    assert.deepEqual(JSON.parse(down.out).stopped, { version: 1, broker, redis });
    assert.equal(pidAlive(broker.pid), false, "no java left");
    assert.equal(pidAlive(redis.pid), false, "no redis-server left");
    assert.equal(existsSync(broker.dir), false);
    assert.equal(existsSync(redis.dir), false);
    assert.equal(existsSync(join(cwd, ".quixlab", "services.json")), false);

    const after = await cli(cwd, "services", "status");
    assert.equal(after.code, 1);
    assert.match(after.out, /no services recorded/);
  });

  it("rejects an unknown action and a Testcontainers broker with exit 2", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "quixlab-services-cli-"));
    try {
      const bad = await cli(cwd, "services", "sideways");
      assert.equal(bad.code, 2);
      assert.match(bad.err, /^error: unknown action 'sideways' — usage: quixlab services up\|down\|status/);
      const tc = await cli(cwd, "services", "up", "--broker", "testcontainers");
      assert.equal(tc.code, 2);
      assert.match(tc.err, /cannot keep a Testcontainers broker running/);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
