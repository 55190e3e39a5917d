import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ServiceError } from "../errors/index.js";
import { execFailure, execOwned, killAndRemove, type Log, onProcessExit, requireProgram, tailFile } from "../infra/process.js";
import { launchServer, serverStopper } from "../infra/server.js";
import { freePort } from "../util/net.js";
import { pingBroker } from "../kafka/index.js";
import { ensureKafkaJars, KAFKA_VERSION } from "./jars.js";
import type { BrokerHandle } from "./types.js";

export const JAVA_REMEDY = "install a Java 17+ JRE (apt-get install -y openjdk-17-jre-headless)";

/**
 * JVM flags. A small heap as the design asks; SerialGC and C1-only JIT because on a 2-core machine they cut
 * startup (measured: see README) and a single-node test broker never needs C2's peak throughput.
 * QUIXLAB_KAFKA_JVM_FLAGS (space-separated) replaces them.
 */
const JVM_FLAGS = ["-Xms256m", "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true"];

export interface LocalBrokerOptions {
  log?: Log;
  env?: NodeJS.ProcessEnv;
  /** Leave the broker running after this process exits (its own process group, no exit hook). */
  detached?: boolean;
  startTimeoutMs?: number;
}

/**
 * server.properties for a single-node KRaft broker on loopback. Topics are not auto-created: every quixlab
 * topic is created explicitly with its partition count (as in quix.yaml), and a typo should fail loudly
 * rather than produce into a fresh one-partition topic.
 */
export function serverProperties({ port, controllerPort, dataDir }: { port: number; controllerPort: number; dataDir: string }): string {
  return [
    "process.roles=broker,controller",
    "node.id=1",
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    "controller.listener.names=CONTROLLER",
    "inter.broker.listener.name=PLAINTEXT",
    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
    `log.dirs=${dataDir}`,
    "num.partitions=1",
    "auto.create.topics.enable=false",
    "offsets.topic.replication.factor=1",
    "offsets.topic.num.partitions=1",
    "transaction.state.log.replication.factor=1",
    "transaction.state.log.min.isr=1",
    // One partition for internal topics: the first group join / transaction does not wait for 50 partitions.
    "transaction.state.log.num.partitions=1",
    "group.initial.rebalance.delay.ms=0",
    // No deletion by time: recorded ticks carry their event time (years ago) as the Kafka timestamp, and the
    // default 7-day retention would delete them from under a replay at the broker's next retention check.
    "log.retention.ms=-1",
    "",
  ].join("\n");
}

/** Warnings and errors only, to a file in the broker's dir (the console stays clean). */
export function log4jProperties(logFile: string): string {
  return [
    "log4j.rootLogger=WARN, file",
    "log4j.appender.file=org.apache.log4j.FileAppender",
    `log4j.appender.file.File=${logFile}`,
    "log4j.appender.file.layout=org.apache.log4j.PatternLayout",
    "log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n",
    "",
  ].join("\n");
}

/** A cluster id as `kafka-storage random-uuid` makes them: 16 random bytes, base64url, never starting with '-'. */
export function randomClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString("base64url");
    if (!id.startsWith("-")) return id;
  }
}

async function distinctPorts(): Promise<[number, number]> {
  const a = await freePort();
  let b = await freePort();
  while (b === a) b = await freePort();
  return [a, b];
}

/**
 * Start Apache Kafka 3.9.1 (KRaft, broker+controller) with `java` from Maven Central jars, in a fresh temp dir,
 * and resolve once `describeCluster` sees the broker. `stop()` shuts it down (SIGTERM, then SIGKILL) and
 * removes the dir; unless `detached`, it is also killed when this process exits.
 */
export async function startLocalBroker(opts: LocalBrokerOptions = {}): Promise<BrokerHandle> {
  const env = opts.env ?? process.env;
  const started = Date.now();
  const java = requireProgram("java", JAVA_REMEDY, env);
  const lib = await ensureKafkaJars({ log: opts.log, env });
  const classpath = `${lib}/*`;
  const dir = mkdtempSync(join(tmpdir(), "quixlab-kafka-"));
  // Until it is ready the broker is ours even when detached: Ctrl-C during startup must not leave it behind.
  const cancelCleanup = onProcessExit(killAndRemove(undefined, dir));
  try {
    const dataDir = join(dir, "data");
    mkdirSync(dataDir);
    const propsFile = join(dir, "server.properties");
    const log4jFile = join(dir, "log4j.properties");
    writeFileSync(log4jFile, log4jProperties(join(dir, "server.log")));
    const flags = env.QUIXLAB_KAFKA_JVM_FLAGS?.split(/\s+/).filter(Boolean) ?? JVM_FLAGS;
    const jvm = [...flags, `-Dlog4j.configuration=file:${log4jFile}`, `-Dkafka.logs.dir=${dir}`, "-cp", classpath];

    // Ports are picked free but bound later by the JVM; on the rare clash, retry with new ones.
    for (let attempt = 1; ; attempt++) {
      const [port, controllerPort] = await distinctPorts();
      writeFileSync(propsFile, serverProperties({ port, controllerPort, dataDir }));
      if (attempt === 1) await formatStorage(java, jvm, propsFile, env);
      const address = `127.0.0.1:${port}`;
      const result = await launchServer({
        command: java,
        args: [...jvm, "kafka.Kafka", propsFile],
        cwd: dir,
        env,
        detached: Boolean(opts.detached),
        logFile: join(dir, "java.out"),
        ready: async () => (await pingBroker([address], 1_000)) > 0,
        what: `Kafka on ${address}`,
        timeoutMs: opts.startTimeoutMs ?? 120_000,
        intervalMs: 100,
        stopGraceMs: 5_000,
      });
      if (result.kind === "ready") {
        cancelCleanup();
        return handle(result.pid, [address], dir, Date.now() - started, opts);
      }
      const logTail = `${tailFile(join(dir, "server.log"), 8)}\n${tailFile(join(dir, "java.out"), 8)}`.trim();
      if (attempt < 3 && /Address already in use|BindException/.test(logTail)) {
        opts.log?.(`kafka: port ${port} or ${controllerPort} was taken meanwhile; retrying with new ports`);
        continue;
      }
      throw new ServiceError(`local Kafka broker ${result.why}${logTail ? `; last log lines: ${logTail.replace(/\n/g, " | ")}` : ""}`, {
        remedy: `see the broker's logs in ${dir}, or use --broker HOST:PORT for a broker you run yourself`,
        context: { dir },
      });
    }
  } catch (e) {
    cancelCleanup();
    if (!(e instanceof ServiceError)) rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

async function formatStorage(java: string, jvm: string[], propsFile: string, env: NodeJS.ProcessEnv): Promise<void> {
  try {
    await execOwned(java, [...jvm, "kafka.tools.StorageTool", "format", "-t", randomClusterId(), "-c", propsFile], { env, timeout: 120_000 });
  } catch (e) {
    throw new ServiceError(`formatting Kafka storage failed: ${execFailure(e)}`, {
      cause: e,
      remedy: "check the Java version (java -version must be 17 or newer) and the jar cache (quixlab services fetch)",
    });
  }
}

function handle(pid: number, brokers: string[], dir: string, startupMs: number, opts: LocalBrokerOptions): BrokerHandle {
  opts.log?.(`kafka: Apache Kafka ${KAFKA_VERSION} (local, pid ${pid}) ready at ${brokers.join(",")} in ${startupMs} ms`);
  return { brokers, provider: "local", startupMs, pid, dir, stop: serverStopper(pid, dir, Boolean(opts.detached), 20_000) };
}
