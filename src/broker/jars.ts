import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { EnvironmentError } from "../errors/index.js";
import { withLock } from "../infra/lock.js";
import { execFailure, execOwned, killAndRemove, type Log, onProcessExit, requireProgram } from "../infra/process.js";
import { cacheDir, packageRoot } from "../util/paths.js";

export const KAFKA_VERSION = "3.9.1";

/** The jar that proves a cache is complete (the cache dir only ever appears by an atomic rename). */
const MARKER = `kafka_2.13-${KAFKA_VERSION}.jar`;

export const MAVEN_REMEDY = "install Maven (apt-get install -y maven), or copy a warmed jar cache";

/** Where the broker's jars live once fetched: `<cacheDir>/kafka-3.9.1/lib`. */
export function kafkaLibDir(): string {
  return join(cacheDir(), `kafka-${KAFKA_VERSION}`, "lib");
}

/** Whether the jars are already cached (no Maven needed). */
export function kafkaJarsCached(): boolean {
  return existsSync(join(kafkaLibDir(), MARKER));
}

/**
 * Fetch Kafka's jars from Maven Central into the cache once, then return the lib dir. The download goes to a
 * temp dir renamed into place, so a killed fetch never leaves a half cache; a lock serialises parallel fetches.
 */
export async function ensureKafkaJars({ log, env = process.env }: { log?: Log; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  const lib = kafkaLibDir();
  if (kafkaJarsCached()) return lib;
  const mvn = requireProgram("mvn", MAVEN_REMEDY, env);
  const home = join(lib, "..");
  mkdirSync(home, { recursive: true });
  return withLock(join(home, ".fetch.lock"), async () => {
    if (kafkaJarsCached()) return lib;
    log?.(`fetching Apache Kafka ${KAFKA_VERSION} jars with Maven into ${lib} (once)`);
    const started = Date.now();
    const tmp = mkdtempSync(join(home, "lib.partial-"));
    const cancel = onProcessExit(killAndRemove(undefined, tmp));
    try {
      const pom = join(packageRoot(), "src", "broker", "kafka", "pom.xml");
      await execOwned(mvn, ["-q", "-B", "-f", pom, "dependency:copy-dependencies", `-DoutputDirectory=${tmp}`], {
        env,
        timeout: 15 * 60_000,
        maxBuffer: 16 * 1024 * 1024,
      });
      if (!existsSync(join(tmp, MARKER))) throw new Error(`Maven finished but ${MARKER} is missing`);
      rmSync(lib, { recursive: true, force: true });
      renameSync(tmp, lib);
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true });
      cancel();
      throw new EnvironmentError(`fetching Kafka jars with Maven failed: ${execFailure(e)}`, {
        cause: e,
        retriable: true,
        remedy: "check that Maven Central is reachable (mvn -B dependency:copy-dependencies) and retry",
      });
    }
    cancel();
    log?.(`fetched Kafka jars in ${Date.now() - started} ms`);
    return lib;
  });
}
