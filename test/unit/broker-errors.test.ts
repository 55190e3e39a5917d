import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { connectExternalBroker } from "../../src/broker/external.js";
import { ensureKafkaJars } from "../../src/broker/jars.js";
import { randomClusterId, serverProperties, startLocalBroker } from "../../src/broker/local.js";
import { EnvironmentError } from "../../src/errors/index.js";
import { which } from "../../src/infra/process.js";
import { startLocalRedis } from "../../src/redis/local.js";
import { freePort } from "../../src/util/net.js";
import { quixlab } from "../helpers/cli.js";
import { fakeMvn as fakeMvnIn, withCache as withCacheIn } from "../helpers/path.js";

const scratch = mkdtempSync(join(tmpdir(), "quixlab-broker-errors-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A PATH directory holding only the named programs (symlinked from the real PATH). */
function pathWith(...programs: string[]): string {
  const dir = mkdtempSync(join(scratch, "bin-"));
  for (const p of programs) {
    const real = which(p);
    assert.ok(real, `${p} must be installed for this test`);
    symlinkSync(real, join(dir, p));
  }
  return dir;
}

/** A PATH whose `mvn` is a shell script with `body` (found before the real one; the rest is the system's). */
const fakeMvn = (body: string) => fakeMvnIn(scratch, body);
const withCache = (fn: (cache: string) => Promise<void>) => withCacheIn(scratch, fn);

describe("missing programs", () => {
  it("java missing: EnvironmentError, exit 2, remedy names the JRE package", async () => {
    await assert.rejects(startLocalBroker({ env: { PATH: pathWith() } }), (e: unknown) => {
      assert.ok(e instanceof EnvironmentError);
      assert.equal(e.exitCode, 2);
      assert.equal(e.oneLine(), "'java' is not on PATH — install a Java 17+ JRE (apt-get install -y openjdk-17-jre-headless)");
      return true;
    });
  });

  it("mvn missing with no jar cache: the remedy says to install Maven", async () => {
    await withCache(async (cache) => {
      await assert.rejects(ensureKafkaJars({ env: { PATH: pathWith("java") } }), (e: unknown) => {
        assert.ok(e instanceof EnvironmentError);
        assert.match(e.oneLine(), /^'mvn' is not on PATH — install Maven \(apt-get install -y maven\)/);
        return true;
      });
      assert.equal(existsSync(join(cache, "kafka-3.9.1", "lib")), false);
    });
  });

  it("a failing Maven: the error carries Maven's own last lines, and no half cache is left", async () => {
    const bin = fakeMvn('echo "[ERROR] Failed to execute goal: Could not resolve dependencies" >&2; exit 1');
    await withCache(async (cache) => {
      await assert.rejects(ensureKafkaJars({ env: { PATH: bin } }), (e: unknown) => {
        assert.ok(e instanceof EnvironmentError);
        assert.equal(e.message, "fetching Kafka jars with Maven failed: [ERROR] Failed to execute goal: Could not resolve dependencies");
        return true;
      });
      assert.deepEqual(readdirSync(join(cache, "kafka-3.9.1")), []);
    });
  });

  it("two fetches at once run Maven once and both get the complete cache", async () => {
    const calls = join(scratch, `mvn-calls-${Date.now()}`);
    // Writes the marker jar where it is told to, slowly enough for the second fetch to find the lock taken.
    const bin = fakeMvn(`echo call >> ${calls}; for a in "$@"; do case "$a" in -DoutputDirectory=*) d="\${a#-DoutputDirectory=}";; esac; done; sleep 0.3; touch "$d/kafka_2.13-3.9.1.jar"`);
    await withCache(async (cache) => {
      const [a, b] = await Promise.all([ensureKafkaJars({ env: { PATH: bin } }), ensureKafkaJars({ env: { PATH: bin } })]);
      assert.equal(a, join(cache, "kafka-3.9.1", "lib"));
      assert.equal(b, a);
      assert.deepEqual(readdirSync(a), ["kafka_2.13-3.9.1.jar"]);
      assert.equal(readFileSync(calls, "utf8"), "call\n");
      assert.deepEqual(readdirSync(join(cache, "kafka-3.9.1")), ["lib"]);
    });
  });

  it("redis-server missing: the remedy is the apt package", async () => {
    await assert.rejects(startLocalRedis({ env: { PATH: pathWith() } }), (e: unknown) => {
      assert.ok(e instanceof EnvironmentError);
      assert.equal(e.oneLine(), "'redis-server' is not on PATH — install Redis (apt-get install -y redis-server)");
      return true;
    });
  });

  it("'quixlab services up' without java on PATH exits 2 with one line, and starts nothing", async () => {
    const cwd = mkdtempSync(join(scratch, "cwd-"));
    const r = await quixlab(["services", "up"], { cwd, env: { PATH: pathWith("redis-server", "mvn"), KAFKA_BROKERS: undefined, REDIS_URL: undefined } });
    assert.equal(r.code, 2);
    assert.equal(r.out, "");
    assert.equal(r.err, "error: 'java' is not on PATH — install a Java 17+ JRE (apt-get install -y openjdk-17-jre-headless)\n");
    assert.equal(existsSync(join(cwd, ".quixlab", "services.json")), false);
  });
});

describe("external broker", () => {
  it("an address nobody answers on: EnvironmentError naming the address and what to do", async () => {
    const port = await freePort();
    await assert.rejects(connectExternalBroker([`127.0.0.1:${port}`], { timeoutMs: 1_000 }), (e: unknown) => {
      assert.ok(e instanceof EnvironmentError);
      assert.ok(e.message.startsWith(`Kafka at 127.0.0.1:${port} did not answer`), e.message);
      assert.match(e.remedy ?? "", /--broker local/);
      assert.equal(e.retriable, true);
      return true;
    });
  });
});

describe("local broker configuration", () => {
  it("writes a single-node KRaft config on loopback with the replication settings the design fixes", () => {
    const props = Object.fromEntries(
      serverProperties({ port: 19092, controllerPort: 19093, dataDir: "/tmp/d" })
        .trim()
        .split("\n")
        .map((l) => l.split("=", 2) as [string, string]),
    );
    assert.equal(props["process.roles"], "broker,controller");
    assert.equal(props["controller.quorum.voters"], "1@127.0.0.1:19093");
    assert.equal(props.listeners, "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093");
    assert.equal(props["advertised.listeners"], "PLAINTEXT://127.0.0.1:19092");
    for (const key of ["offsets.topic.replication.factor", "transaction.state.log.replication.factor", "transaction.state.log.min.isr"]) {
      assert.equal(props[key], "1", key);
    }
    assert.equal(props["group.initial.rebalance.delay.ms"], "0");
    assert.equal(props["log.dirs"], "/tmp/d");
  });

  it("makes cluster ids Kafka accepts: 16 bytes base64url, never starting with '-'", () => {
    for (let i = 0; i < 200; i++) {
      const id = randomClusterId();
      assert.match(id, /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
      assert.equal(Buffer.from(id, "base64url").length, 16);
    }
  });
});
