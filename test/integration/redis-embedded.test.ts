import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { kafkaJarsCached, kafkaLibDir } from "../../src/broker/jars.js";
import { servicesDown, servicesStatus, servicesUp } from "../../src/services/lifecycle.js";
import { pidAlive, pidRuns, which } from "../../src/infra/process.js";
import { type RedisHandle, startRedis } from "../../src/redis/provider.js";
import { embeddedRedisBinary, embeddedRedisPath, embeddedRedisSupported } from "../../src/redis/embedded.js";
import { testBrokers, uniqueName } from "../harness/services.js";
import { quixlab } from "../helpers/cli.js";
import { pathWithout } from "../helpers/path.js";

const scratch = mkdtempSync(join(tmpdir(), "quixlab-redis-embedded-"));

/** PATH without redis-server (or any redis-* program). */
const pathWithoutRedis = () => pathWithout(scratch, ["redis-"]);

const sha256 = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

// No redis-server, no Docker engine, no REDIS_URL (the harness sets one): auto has only the embedded provider left.
const env: NodeJS.ProcessEnv = { ...process.env, REDIS_URL: undefined, DOCKER_HOST: "unix:///nonexistent/docker.sock" };

/** Start through `auto` and keep the log lines. */
async function startLogged(): Promise<{ redis: RedisHandle; lines: string[] }> {
  const lines: string[] = [];
  const redis = await startRedis({ provider: "auto", env, log: (l) => lines.push(l) });
  return { redis, lines };
}

async function pingSetGet(url: string, key: string): Promise<void> {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    assert.equal(await client.ping(), "PONG");
    assert.equal(await client.set(key, "BTC-USD"), "OK");
    assert.equal(await client.get(key), "BTC-USD");
    assert.match(await client.info("server"), /redis_version:6\.2\.\d+/);
  } finally {
    client.disconnect();
  }
}

describe("embedded Redis (real Maven, real binary)", { skip: !embeddedRedisSupported() && "no embedded build for this platform" }, () => {
  // A cache of our own: the damage test must not touch the cache other runs share. Costs one Maven run per fetch
  // (a few seconds once Maven's own repository holds the jar).
  let cacheBefore: string | undefined;
  before(() => {
    env.PATH = pathWithoutRedis();
    assert.equal(which("redis-server", env), undefined);
    assert.ok(which("mvn", env) && which("java", env), "mvn and java must be installed for this test");
    cacheBefore = process.env.QUIXLAB_CACHE;
    process.env.QUIXLAB_CACHE = join(scratch, "cache");
  });
  after(() => {
    if (cacheBefore === undefined) delete process.env.QUIXLAB_CACHE;
    else process.env.QUIXLAB_CACHE = cacheBefore;
    rmSync(scratch, { recursive: true, force: true });
  });

  it("auto without redis-server fetches the binary once, serves PING/SET/GET, and stop() leaves nothing", { timeout: 300_000 }, async (t) => {
    const first = await startLogged();
    t.after(() => first.redis.stop());
    assert.equal(first.redis.provider, "embedded");
    assert.equal(first.lines[0], "redis: embedded provider (no redis-server on PATH; embedded-redis 1.4.3 from Maven Central)");
    assert.ok(first.lines.some((l) => l.startsWith("redis: fetching ")), first.lines.join("\n"));
    const binary = embeddedRedisPath();
    assert.equal(sha256(binary), embeddedRedisBinary().sha256);
    assert.equal(statSync(binary).mode & 0o777, 0o755);
    t.diagnostic(`embedded redis-server ready in ${first.redis.startupMs} ms`);

    await pingSetGet(first.redis.url!, uniqueName(t, "first"));
    const { pid, dir } = first.redis;
    assert.ok(pid && dir && pidRuns(pid, "redis-server"));
    await first.redis.stop();
    assert.equal(pidAlive(pid), false);
    assert.equal(existsSync(dir), false);

    // The second start uses the cache: no Maven run, and the very same file (a fetch renames a new one in).
    const { ino, ctimeMs } = statSync(binary);
    const second = await startLogged();
    t.after(() => second.redis.stop());
    assert.equal(second.redis.provider, "embedded");
    assert.deepEqual(second.lines.filter((l) => /fetch/.test(l)), []);
    assert.deepEqual([statSync(binary).ino, statSync(binary).ctimeMs], [ino, ctimeMs]);
    await pingSetGet(second.redis.url!, uniqueName(t, "second"));
    t.diagnostic(`from the cache: ready in ${second.redis.startupMs} ms`);
  });

  it("a cached binary with the wrong sha256 is detected and fetched again", { timeout: 300_000 }, async (t) => {
    const binary = embeddedRedisPath();
    if (!existsSync(binary)) await (await startLogged()).redis.stop();
    writeFileSync(binary, "#!/bin/sh\necho 'Redis server v=9.9.9'\n", { mode: 0o755 });

    const { redis, lines } = await startLogged();
    t.after(() => redis.stop());
    assert.ok(lines.includes(`redis: the cached ${binary} does not have the expected sha256; fetching it again`), lines.join("\n"));
    assert.ok(lines.some((l) => l.startsWith("redis: fetching ")), lines.join("\n"));
    assert.equal(sha256(binary), embeddedRedisBinary().sha256);
    await pingSetGet(redis.url!, uniqueName(t));
  });

  it("'services up' without redis-server records an embedded Redis that outlives it; down stops it", { timeout: 300_000 }, async (t) => {
    const cwd = mkdtempSync(join(scratch, "cwd-"));
    t.after(() => servicesDown(cwd));
    const [broker] = await testBrokers();
    const { state } = await servicesUp({ cwd, broker: broker!, env });
    const redis = state.redis;
    assert.ok(redis?.pid && redis.dir);
    assert.equal(redis.provider, "embedded");
    const status = await servicesStatus(cwd);
    assert.equal(status.redis?.alive, true);
    await pingSetGet(redis.url, uniqueName(t));

    await servicesDown(cwd);
    assert.equal(pidAlive(redis.pid), false);
    assert.equal(existsSync(redis.dir), false);
  });

  it("'services fetch' fetches the embedded binary too (so a CI warm-up covers it), then finds it cached", { timeout: 600_000 }, async () => {
    const cache = join(scratch, "fetch-cache");
    mkdirSync(cache);
    // The Kafka jars as this session has them, so only the embedded binary is fetched into the fresh cache.
    if (kafkaJarsCached()) symlinkSync(dirname(kafkaLibDir()), join(cache, "kafka-3.9.1"));
    const fetch = () => quixlab(["services", "fetch", "--json"], { env: { PATH: env.PATH, QUIXLAB_CACHE: cache } });
    const binary = join(cache, "embedded-redis-1.4.3", embeddedRedisBinary().entry);

    const first = await fetch();
    assert.equal(first.code, 0, first.err);
    assert.deepEqual(JSON.parse(first.out).embeddedRedis, { path: binary, cached: false });
    assert.equal(sha256(binary), embeddedRedisBinary().sha256);

    const again = await fetch();
    assert.equal(again.code, 0, again.err);
    assert.deepEqual(JSON.parse(again.out), { lib: join(cache, "kafka-3.9.1", "lib"), cached: true, embeddedRedis: { path: binary, cached: true } });
  });
});
