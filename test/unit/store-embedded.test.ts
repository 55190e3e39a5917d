import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { EnvironmentError } from "../../src/errors/index.js";
import { startRedis } from "../../src/redis/provider.js";
import {
  EMBEDDED_REDIS_BINARIES,
  embeddedRedisBinary,
  embeddedRedisCached,
  embeddedRedisPath,
  embeddedRedisSupported,
  ensureEmbeddedRedis,
} from "../../src/redis/embedded.js";
import { fakeMvn as fakeMvnIn, withCache as withCacheIn } from "../helpers/path.js";

const scratch = mkdtempSync(join(tmpdir(), "quixlab-store-embedded-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** An empty PATH directory: no redis-server, no mvn. */
const emptyPath = () => mkdtempSync(join(scratch, "bin-"));

/** The unpack arguments Maven gets, as `$out` and `$entry` for a fake mvn's script. */
const PARSE_ARGS = `for a in "$@"; do case "$a" in -DoutputDirectory=*) out="\${a#-DoutputDirectory=}";; -Dmdep.unpack.includes=*) entry="\${a#-Dmdep.unpack.includes=}";; esac; done`;

/** A PATH whose `mvn` is a shell script with `body`; `$out` and `$entry` hold the unpack arguments. */
const fakeMvn = (body: string) => fakeMvnIn(scratch, body, PARSE_ARGS);
const withCache = (fn: (cache: string) => Promise<void>) => withCacheIn(scratch, fn);

describe("embedded Redis binary", () => {
  it("picks the jar entry for the OS and CPU, each with a sha256", () => {
    assert.equal(embeddedRedisBinary("linux", "x64").entry, "redis-server-6.2.6-v5-linux-amd64");
    assert.equal(embeddedRedisBinary("linux", "arm64").entry, "redis-server-6.2.7-linux-arm64");
    assert.equal(embeddedRedisBinary("darwin", "x64").entry, "redis-server-6.2.6-v5-darwin-amd64");
    assert.equal(embeddedRedisBinary("darwin", "arm64").entry, "redis-server-6.2.6-v5-darwin-arm64");
    for (const b of Object.values(EMBEDDED_REDIS_BINARIES)) assert.match(b.sha256, /^[0-9a-f]{64}$/);
    assert.equal(embeddedRedisSupported("linux", "x64"), true);
    assert.equal(embeddedRedisSupported("linux", "toString"), false);
  });

  it("an unsupported platform: EnvironmentError naming the platform and the package to install", () => {
    for (const [platform, arch] of [["win32", "x64"], ["linux", "ia32"], ["freebsd", "x64"]] as const) {
      assert.equal(embeddedRedisSupported(platform, arch), false);
      assert.throws(
        () => embeddedRedisBinary(platform, arch),
        (e: unknown) =>
          e instanceof EnvironmentError &&
          e.exitCode === 2 &&
          e.message === `embedded-redis 1.4.3 from Maven Central has no redis-server for ${platform}-${arch}` &&
          /apt-get install -y redis-server/.test(e.remedy ?? ""),
      );
    }
  });
});

describe("ensureEmbeddedRedis (Maven faked)", { skip: !embeddedRedisSupported() && "no embedded build for this platform" }, () => {
  it("no redis-server, no Maven, no cache: auto fails before announcing a choice, naming what to install", async () => {
    await withCache(async () => {
      const lines: string[] = [];
      const env = { PATH: emptyPath(), DOCKER_HOST: "unix:///nonexistent/docker.sock" };
      await assert.rejects(startRedis({ provider: "auto", env, log: (l) => lines.push(l) }), (e: unknown) => {
        assert.ok(e instanceof EnvironmentError);
        assert.equal(
          e.oneLine(),
          "no redis-server on PATH, and no Maven to fetch the embedded one: 'mvn' is not on PATH — install Redis (apt-get install -y redis-server), or Maven (apt-get install -y maven) to fetch embedded-redis 1.4.3 from Maven Central",
        );
        return true;
      });
      assert.deepEqual(lines, []);
    });
  });

  it("Maven extracts a binary with the wrong sha256: a clear error, and nothing is cached", async () => {
    const env = { PATH: fakeMvn('mkdir -p "$out" && echo "not redis" > "$out/$entry"') };
    await withCache(async (cache) => {
      await assert.rejects(ensureEmbeddedRedis({ env }), (e: unknown) => {
        assert.ok(e instanceof EnvironmentError);
        assert.match(e.message, new RegExp(`^the ${embeddedRedisBinary().entry} Maven extracted has sha256 [0-9a-f]{64}, not the expected ${embeddedRedisBinary().sha256}$`));
        assert.match(e.remedy ?? "", /\.m2\/repository\/com\/github\/codemonstur\/embedded-redis\/1\.4\.3/);
        return true;
      });
      assert.deepEqual(readdirSync(join(cache, "embedded-redis-1.4.3")), []);
      assert.equal(embeddedRedisCached(), false);
    });
  });

  it("a failing Maven: the error carries Maven's own last lines, and no partial dir is left", async () => {
    const env = { PATH: fakeMvn('echo "[ERROR] Could not resolve artifact com.github.codemonstur:embedded-redis" >&2; exit 1') };
    await withCache(async (cache) => {
      await assert.rejects(ensureEmbeddedRedis({ env }), (e: unknown) => {
        assert.ok(e instanceof EnvironmentError);
        assert.equal(e.message, "fetching embedded-redis 1.4.3 from Maven Central with Maven failed: [ERROR] Could not resolve artifact com.github.codemonstur:embedded-redis");
        assert.equal(e.retriable, true);
        return true;
      });
      assert.deepEqual(readdirSync(join(cache, "embedded-redis-1.4.3")), []);
    });
  });

  it("Maven succeeds without extracting the binary: an error naming the missing entry", async () => {
    await withCache(async () => {
      await assert.rejects(ensureEmbeddedRedis({ env: { PATH: fakeMvn("true") } }), (e: unknown) => {
        assert.ok(e instanceof EnvironmentError);
        assert.equal(e.message, `Maven finished but the jar of embedded-redis 1.4.3 from Maven Central held no ${embeddedRedisBinary().entry}`);
        return true;
      });
    });
  });

  it("a damaged cached binary and no Maven: the error says the cache failed its check", async () => {
    await withCache(async () => {
      mkdirSync(join(embeddedRedisPath(), ".."), { recursive: true });
      writeFileSync(embeddedRedisPath(), "damaged", { mode: 0o755 });
      const lines: string[] = [];
      await assert.rejects(ensureEmbeddedRedis({ env: { PATH: emptyPath() }, log: (l) => lines.push(l) }), (e: unknown) => {
        assert.ok(e instanceof EnvironmentError);
        assert.match(e.message, /^no redis-server on PATH, and no Maven to fetch the embedded one \(the cached one fails its sha256 check\)/);
        return true;
      });
      assert.deepEqual(lines, [`redis: the cached ${embeddedRedisPath()} does not have the expected sha256; fetching it again`]);
      assert.ok(existsSync(embeddedRedisPath()));
    });
  });
});
