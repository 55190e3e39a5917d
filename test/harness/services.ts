import { startBroker } from "../../src/broker/index.js";
import { uniqueName as uniqueBrokerName } from "../../src/kafka/index.js";
import { parseBrokerList } from "../../src/broker/select.js";
import { which } from "../../src/infra/process.js";
import { startRedis } from "../../src/redis/provider.js";

/** The real services integration tests talk to. */
export interface TestServices {
  brokers: string[];
  redisUrl: string;
}

const log = (line: string) => process.stderr.write(`[test services] ${line}\n`);

let brokers: Promise<string[]> | undefined;
let redisUrl: Promise<string> | undefined;

/**
 * The session's Kafka broker: KAFKA_BROKERS under `test/harness/run.ts`; when a file runs alone
 * (`node --import tsx --test file.test.ts`) a local one is started here once per process and killed at exit
 * (local as in the harness: not Testcontainers, even when Docker answers). A test that kills or restarts a
 * broker starts one of its own instead (`startBroker({ provider: "local" })`, see broker-restart.test.ts).
 */
export function testBrokers(): Promise<string[]> {
  const env = process.env.KAFKA_BROKERS;
  brokers ??= env ? Promise.resolve(parseBrokerList(env, "KAFKA_BROKERS")) : startBroker({ provider: "local", log }).then((b) => b.brokers);
  return brokers;
}

/** The session's Redis URL: REDIS_URL under the harness, else a Redis started once per process. */
export function testRedisUrl(): Promise<string> {
  const env = process.env.REDIS_URL;
  redisUrl ??= env ? Promise.resolve(env) : startRedis({ provider: which("redis-server") ? "local" : "embedded", log }).then((r) => r.url!);
  return redisUrl;
}

/** Both services of this test session (see `testBrokers` and `testRedisUrl`). */
export async function testServices(): Promise<TestServices> {
  const [b, r] = await Promise.all([testBrokers(), testRedisUrl()]);
  return { brokers: b, redisUrl: r };
}

/**
 * A topic/group/key name unique to this test and run, derived from the test's name.
 * Example: `const topic = uniqueName(t, "in")` inside `it("...", async (t) => ...)`.
 */
export function uniqueName(t: { name: string } | string, suffix = ""): string {
  const base = typeof t === "string" ? t : t.name;
  return uniqueBrokerName(`test-${base.slice(0, 60)}${suffix ? `-${suffix}` : ""}`);
}
