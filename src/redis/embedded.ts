/**
 * The embedded Redis: a `redis-server` binary taken from the `com.github.codemonstur:embedded-redis` jar on Maven
 * Central, for machines with no redis-server on PATH and no Docker. Maven fetches the jar and extracts only the
 * binary for this OS and CPU (no zip library or `jar` tool needed: a JRE and Maven suffice), once, into the same
 * cache as the Kafka jars. Every use checks the binary's sha256, so a damaged cache is fetched again.
 */
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { EnvironmentError } from "../errors/index.js";
import { withLock } from "../infra/lock.js";
import { execFailure, execOwned, killAndRemove, type Log, onProcessExit, which } from "../infra/process.js";
import { cacheDir } from "../util/paths.js";

export const EMBEDDED_REDIS_VERSION = "1.4.3";
const ARTIFACT = `com.github.codemonstur:embedded-redis:${EMBEDDED_REDIS_VERSION}:jar`;

/** Where the embedded binary comes from, as the provider's log line says it. */
export const EMBEDDED_REDIS_SOURCE = `embedded-redis ${EMBEDDED_REDIS_VERSION} from Maven Central`;

const INSTALL_REDIS = "install Redis (apt-get install -y redis-server)";

/** A binary inside the jar and the sha256 it must have once extracted (computed from the 1.4.3 jar). */
export interface EmbeddedRedisBinary {
  readonly entry: string;
  readonly sha256: string;
}

/** The jar's binaries by `${process.platform}-${process.arch}`; the jar's Windows and 386 builds are not used. */
export const EMBEDDED_REDIS_BINARIES: Readonly<Record<string, EmbeddedRedisBinary>> = Object.freeze({
  "linux-x64": { entry: "redis-server-6.2.6-v5-linux-amd64", sha256: "1f716094e08a25faee2bc7626feb9e13464ed89018ac5c376c5e9cff06bdcf52" },
  "linux-arm64": { entry: "redis-server-6.2.7-linux-arm64", sha256: "036a23aa65bfb31d2a048aa96c170b38c2fbd4f1de68ef0f9c3133dd4b1474cd" },
  "darwin-x64": { entry: "redis-server-6.2.6-v5-darwin-amd64", sha256: "7a4eb450d90a6ce9a2c651cfc4a0613b980a270c6426cbb6fa42d6c3beec9ce8" },
  "darwin-arm64": { entry: "redis-server-6.2.6-v5-darwin-arm64", sha256: "c523aec5a9b6f565cff0271ef67f5c51fa83e1180e3e954ab5251b3cf6282b76" },
});

/** Whether the jar has a binary for this OS and CPU (pure). */
export function embeddedRedisSupported(platform: string = process.platform, arch: string = process.arch): boolean {
  return Object.hasOwn(EMBEDDED_REDIS_BINARIES, `${platform}-${arch}`);
}

/**
 * The jar's binary for an OS and CPU (pure), or an EnvironmentError naming what to install instead.
 * Example: `embeddedRedisBinary("linux", "x64").entry` is `redis-server-6.2.6-v5-linux-amd64`.
 */
export function embeddedRedisBinary(platform: string = process.platform, arch: string = process.arch): EmbeddedRedisBinary {
  const binary = embeddedRedisSupported(platform, arch) ? EMBEDDED_REDIS_BINARIES[`${platform}-${arch}`] : undefined;
  if (!binary) {
    throw new EnvironmentError(`${EMBEDDED_REDIS_SOURCE} has no redis-server for ${platform}-${arch}`, {
      remedy: `${INSTALL_REDIS}, or pass --redis redis://HOST:PORT for a Redis you run yourself`,
      context: { platform, arch },
    });
  }
  return binary;
}

/** Where the embedded binaries are cached: `<cacheDir>/embedded-redis-1.4.3`. */
export function embeddedRedisDir(): string {
  return join(cacheDir(), `embedded-redis-${EMBEDDED_REDIS_VERSION}`);
}

/** The cached binary's path for this OS and CPU (it may not exist yet). */
export function embeddedRedisPath(binary: EmbeddedRedisBinary = embeddedRedisBinary()): string {
  return join(embeddedRedisDir(), binary.entry);
}

function sha256Of(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

/** Whether the binary for this OS and CPU is cached with the right sha256 (~15 ms to hash), so no Maven is needed. */
export function embeddedRedisCached(binary: EmbeddedRedisBinary = embeddedRedisBinary()): boolean {
  const path = embeddedRedisPath(binary);
  return existsSync(path) && sha256Of(path) === binary.sha256;
}

/**
 * Fail now, before a provider is announced, when the embedded Redis cannot be had: no build for this platform,
 * or neither a cached binary nor Maven to fetch one.
 */
export function requireEmbeddedRedis(env: NodeJS.ProcessEnv = process.env): void {
  const binary = embeddedRedisBinary();
  if (which("mvn", env) || embeddedRedisCached(binary)) return;
  const damaged = existsSync(embeddedRedisPath(binary)) ? " (the cached one fails its sha256 check)" : "";
  throw new EnvironmentError(`no redis-server on PATH, and no Maven to fetch the embedded one${damaged}: 'mvn' is not on PATH`, {
    remedy: `${INSTALL_REDIS}, or Maven (apt-get install -y maven) to fetch ${EMBEDDED_REDIS_SOURCE}`,
    context: { program: "mvn" },
  });
}

/**
 * The embedded redis-server for this OS and CPU, fetched with Maven into the cache once and checked: its sha256
 * on every call, and `--version` when fetched. A cached binary with the wrong sha256 is fetched again. The binary
 * is extracted into a temp dir and renamed into place, so a killed fetch never leaves a half file; a lock
 * serialises parallel fetches. Example: `await startLocalRedis({ server: await ensureEmbeddedRedis() })`.
 */
export async function ensureEmbeddedRedis({ log, env = process.env }: { log?: Log; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  const binary = embeddedRedisBinary();
  const path = embeddedRedisPath(binary);
  const intact = () => embeddedRedisCached(binary);
  if (intact()) return path;
  const home = embeddedRedisDir();
  mkdirSync(home, { recursive: true });
  return withLock(join(home, ".fetch.lock"), async () => {
    if (intact()) return path;
    if (existsSync(path)) log?.(`redis: the cached ${path} does not have the expected sha256; fetching it again`);
    requireEmbeddedRedis(env);
    const mvn = which("mvn", env)!;
    log?.(`redis: fetching ${binary.entry} (${EMBEDDED_REDIS_SOURCE}) with Maven into ${home} (once)`);
    const started = Date.now();
    const tmp = mkdtempSync(join(home, "bin.partial-"));
    const cancel = onProcessExit(killAndRemove(undefined, tmp));
    try {
      const out = join(tmp, "out");
      try {
        // No pom: Maven runs project-less in the temp dir, where it also leaves its unpack markers.
        await execOwned(
          mvn,
          ["-q", "-B", "dependency:unpack", `-Dartifact=${ARTIFACT}`, `-Dmdep.unpack.includes=${binary.entry}`, `-DoutputDirectory=${out}`],
          { cwd: tmp, env, timeout: 10 * 60_000, maxBuffer: 16 * 1024 * 1024 },
        );
      } catch (e) {
        throw new EnvironmentError(`fetching ${EMBEDDED_REDIS_SOURCE} with Maven failed: ${execFailure(e)}`, {
          cause: e,
          retriable: true,
          remedy: `check that Maven Central is reachable (mvn -B dependency:get -Dartifact=${ARTIFACT}) and retry, or ${INSTALL_REDIS}`,
        });
      }
      const fetched = join(out, binary.entry);
      if (!existsSync(fetched)) {
        throw new EnvironmentError(`Maven finished but the jar of ${EMBEDDED_REDIS_SOURCE} held no ${binary.entry}`, { remedy: INSTALL_REDIS });
      }
      const sha = sha256Of(fetched);
      if (sha !== binary.sha256) {
        throw new EnvironmentError(`the ${binary.entry} Maven extracted has sha256 ${sha}, not the expected ${binary.sha256}`, {
          remedy: `remove the jar from the local Maven repository (~/.m2/repository/com/github/codemonstur/embedded-redis/${EMBEDDED_REDIS_VERSION}) and retry, or ${INSTALL_REDIS}`,
          context: { file: fetched },
        });
      }
      chmodSync(fetched, 0o755);
      await checkRuns(fetched, env);
      renameSync(fetched, path);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
      cancel();
    }
    log?.(`redis: fetched ${binary.entry} in ${Date.now() - started} ms`);
    return path;
  });
}

/** `--version` must run and name Redis: a binary built for another libc or OpenSSL fails here, not at start. */
async function checkRuns(file: string, env: NodeJS.ProcessEnv): Promise<void> {
  let stdout = "";
  try {
    ({ stdout } = await execOwned(file, ["--version"], { env, timeout: 10_000 }));
  } catch (e) {
    throw new EnvironmentError(`the embedded redis-server does not run on this machine: ${execFailure(e)}`, { cause: e, remedy: INSTALL_REDIS });
  }
  if (!/^Redis server v=/.test(stdout)) {
    throw new EnvironmentError(`the embedded redis-server printed '${stdout.trim()}' for --version, not a Redis version`, { remedy: INSTALL_REDIS });
  }
}
