import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InputError, ServiceError } from "../errors/index.js";
import { execFailure, execOwned, killAndRemove, type Log, onProcessExit, requireProgram, tailFile } from "../infra/process.js";
import { type LaunchOptions, launchServer, ownServer, relaunchServer } from "../infra/server.js";
import { freePort } from "../util/net.js";
import { pingBroker } from "../kafka/index.js";
import { ensureKafkaJars, KAFKA_VERSION } from "./jars.js";
import { type BrokerTls, localBrokerTls } from "./tls.js";
import type { BrokerHandle, ScramListener } from "./types.js";

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
  /**
   * Also listen for SASL_PLAINTEXT with SCRAM-SHA-256 and SCRAM-SHA-512, on a port of its own, with this user
   * created when the storage is formatted (what a platform's authenticated broker looks like; the tests' Quix
   * Cloud connection logs in there). The plain listener stays as it is.
   */
  scram?: ScramUser;
  /** The folder the broker's directory (data, log) is made in; default the OS temp dir. */
  parentDir?: string;
}

/** A SCRAM user of the local broker; `tls`: also a SASL_SSL listener (a keytool-made CA, cached, see tls.ts). */
export interface ScramUser {
  username: string;
  password: string;
  tls?: boolean;
}

/** The SCRAM mechanisms the local broker's SASL listener accepts. */
export const SCRAM_MECHANISMS = ["SCRAM-SHA-256", "SCRAM-SHA-512"] as const;

/**
 * server.properties for a single-node KRaft broker on loopback. Topics are not auto-created: every quixlab
 * topic is created explicitly with its partition count (as in quix.yaml), and a typo should fail loudly
 * rather than produce into a fresh one-partition topic.
 */
export function serverProperties(o: { port: number; controllerPort: number; dataDir: string; scramPort?: number; ssl?: { port: number; tls: BrokerTls } }): string {
  const { port, controllerPort, dataDir, scramPort, ssl } = o;
  const sasl = (scramPort === undefined ? "" : `,SASL_PLAINTEXT://127.0.0.1:${scramPort}`) + (ssl ? `,SASL_SSL://127.0.0.1:${ssl.port}` : "");
  const names = ["sasl_plaintext", ...(ssl ? ["sasl_ssl"] : [])];
  return [
    "process.roles=broker,controller",
    "node.id=1",
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${port}${sasl},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}${sasl}`,
    "controller.listener.names=CONTROLLER",
    "inter.broker.listener.name=PLAINTEXT",
    `listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT${sasl ? ",SASL_PLAINTEXT:SASL_PLAINTEXT" : ""}${ssl ? ",SASL_SSL:SASL_SSL" : ""}`,
    // The users are in the cluster metadata (StorageTool --add-scram); the broker side of SCRAM needs no secret.
    ...(sasl
      ? [
          `sasl.enabled.mechanisms=${SCRAM_MECHANISMS.join(",")}`,
          ...names.flatMap((l) => SCRAM_MECHANISMS.map((m) => `listener.name.${l}.${m.toLowerCase()}.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;`)),
        ]
      : []),
    ...(ssl
      ? [`ssl.keystore.location=${ssl.tls.keystore}`, "ssl.keystore.type=PKCS12", `ssl.keystore.password=${ssl.tls.password}`, `ssl.key.password=${ssl.tls.password}`]
      : []),
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

async function distinctPorts(n: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < n) {
    const p = await freePort();
    if (!ports.includes(p)) ports.push(p);
  }
  return ports;
}

/** The JVM's arguments up to the main class: our flags (or QUIXLAB_KAFKA_JVM_FLAGS), log4j in `dir`, the jars. */
function jvmArgs(lib: string, dir: string, env: NodeJS.ProcessEnv): string[] {
  const flags = env.QUIXLAB_KAFKA_JVM_FLAGS?.split(/\s+/).filter(Boolean) ?? JVM_FLAGS;
  return [...flags, `-Dlog4j.configuration=file:${join(dir, "log4j.properties")}`, `-Dkafka.logs.dir=${dir}`, "-cp", `${lib}/*`];
}

/** How the broker of `dir` is run and awaited: kafka.Kafka with the dir's server.properties, ready on an admin call. */
function brokerLaunch(java: string, jvm: string[], dir: string, address: string, env: NodeJS.ProcessEnv, o: LocalBrokerOptions): LaunchOptions {
  return {
    command: java,
    args: [...jvm, "kafka.Kafka", join(dir, "server.properties")],
    cwd: dir,
    env,
    detached: Boolean(o.detached),
    logFile: join(dir, "java.out"),
    ready: async () => (await pingBroker([address], 1_000)) > 0,
    what: `Kafka on ${address}`,
    timeoutMs: o.startTimeoutMs ?? 120_000,
    intervalMs: 100,
    stopGraceMs: 5_000,
  };
}

function logTail(dir: string): string {
  return `${tailFile(join(dir, "server.log"), 8)}\n${tailFile(join(dir, "java.out"), 8)}`.trim();
}

const portTaken = (dir: string) => () => /Address already in use|BindException/.test(logTail(dir));

function launchFailed(dir: string, why: string): ServiceError {
  const tail = logTail(dir);
  return new ServiceError(`local Kafka broker ${why}${tail ? `; last log lines: ${tail.replace(/\n/g, " | ")}` : ""}`, {
    remedy: `see the broker's logs in ${dir}, or use --broker HOST:PORT for a broker you run yourself`,
    context: { dir },
  });
}

/**
 * Start Apache Kafka 3.9.1 (KRaft, broker+controller) with `java` from Maven Central jars, in a fresh temp dir,
 * and resolve once `describeCluster` sees the broker. `stop()` shuts it down (SIGTERM, then SIGKILL) and
 * removes the dir; unless `detached`, it is also killed when this process exits. `kill()` and `restart()`
 * end it and start it again in place (see `BrokerHandle`).
 */
export async function startLocalBroker(opts: LocalBrokerOptions = {}): Promise<BrokerHandle> {
  const env = opts.env ?? process.env;
  const started = Date.now();
  const java = requireProgram("java", JAVA_REMEDY, env);
  const lib = await ensureKafkaJars({ log: opts.log, env });
  const dir = mkdtempSync(join(opts.parentDir ?? tmpdir(), "quixlab-kafka-"));
  // Until it is ready the broker is ours even when detached: Ctrl-C during startup must not leave it behind.
  const cancelCleanup = onProcessExit(killAndRemove(undefined, dir));
  try {
    const dataDir = join(dir, "data");
    mkdirSync(dataDir);
    const propsFile = join(dir, "server.properties");
    writeFileSync(join(dir, "log4j.properties"), log4jProperties(join(dir, "server.log")));
    const jvm = jvmArgs(lib, dir, env);
    // keytool's JVMs (only the first time: the keystore is cached) run while ports are picked.
    const tls = opts.scram?.tls ? localBrokerTls(env) : undefined;
    tls?.catch(() => undefined);

    // Ports are picked free but bound later by the JVM; on the rare clash, retry with new ones.
    for (let attempt = 1; ; attempt++) {
      const [port, controllerPort, scramPort, sslPort] = (await distinctPorts(opts.scram ? (opts.scram.tls ? 4 : 3) : 2)) as [number, number, number?, number?];
      const ssl = sslPort && tls ? { port: sslPort, tls: await tls } : undefined;
      writeFileSync(propsFile, serverProperties({ port, controllerPort, dataDir, scramPort, ssl }));
      if (attempt === 1) await formatStorage(java, jvm, propsFile, env, opts.scram);
      const address = `127.0.0.1:${port}`;
      const launch = brokerLaunch(java, jvm, dir, address, env, opts);
      const result = await launchServer(launch);
      if (result.kind === "ready") {
        cancelCleanup();
        const scram =
          opts.scram && scramPort !== undefined
            ? {
                brokers: [`127.0.0.1:${scramPort}`],
                username: opts.scram.username,
                password: opts.scram.password,
                mechanisms: [...SCRAM_MECHANISMS],
                ...(ssl ? { tls: { brokers: [`127.0.0.1:${ssl.port}`], ca: ssl.tls.ca } } : {}),
              }
            : undefined;
        return handle(result.pid, address, dir, Date.now() - started, launch, opts, scram);
      }
      if (attempt < 3 && portTaken(dir)()) {
        opts.log?.(`kafka: port ${port}, ${controllerPort}${scramPort ? ` or ${scramPort}` : ""} was taken meanwhile; retrying with new ports`);
        continue;
      }
      throw launchFailed(dir, result.why);
    }
  } catch (e) {
    cancelCleanup();
    if (!(e instanceof ServiceError)) rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

export interface RestartLocalBrokerOptions extends Omit<LocalBrokerOptions, "parentDir"> {
  /** The broker's dir, as `startLocalBroker` made it (`BrokerHandle.dir`, or what `services up` recorded). */
  dir: string;
  /** Its address, `127.0.0.1:PORT`: the one in the dir's server.properties. */
  address: string;
  /** Its process, when known to be ours and maybe still running: ended with SIGTERM first. */
  previous?: number;
}

/**
 * Start the local broker of `dir` again, on the same ports with the same node id and data: its storage is
 * formatted already and is not formatted again. Resolves with the new pid once an admin call answers.
 * Example (what `quixlab services restart` does): `await restartLocalBroker({ dir, address, previous: pid, detached: true })`.
 */
export async function restartLocalBroker(o: RestartLocalBrokerOptions): Promise<{ pid: number; startupMs: number }> {
  const env = o.env ?? process.env;
  const started = Date.now();
  if (!existsSync(join(o.dir, "data", "meta.properties"))) {
    throw new ServiceError(`${o.dir} holds no formatted local Kafka broker`, {
      remedy: "start a new one with 'quixlab services down' and 'quixlab services up'",
      context: { dir: o.dir },
    });
  }
  const java = requireProgram("java", JAVA_REMEDY, env);
  const lib = await ensureKafkaJars({ log: o.log, env });
  const launch = brokerLaunch(java, jvmArgs(lib, o.dir, env), o.dir, o.address, env, o);
  const result = await relaunchServer(o.previous, launch, { portTaken: portTaken(o.dir), graceMs: STOP_GRACE_MS });
  if (result.kind !== "ready") throw launchFailed(o.dir, result.why);
  const startupMs = Date.now() - started;
  o.log?.(`kafka: Apache Kafka ${KAFKA_VERSION} (local, pid ${result.pid}) restarted at ${o.address} in ${startupMs} ms`);
  return { pid: result.pid, startupMs };
}

/** `--add-scram` arguments creating `user` for every SCRAM mechanism (StorageTool writes them into the metadata log). */
export function scramFormatArgs(user: ScramUser | undefined): string[] {
  if (!user) return [];
  if (/[,\]=]/.test(user.username) || /[,\]=]/.test(user.password)) {
    throw new InputError("a SCRAM user name or password may not contain ',', ']' or '='", { remedy: "use letters, digits, '-' and '_'", context: { field: "scram" } });
  }
  return SCRAM_MECHANISMS.flatMap((m) => ["--add-scram", `${m}=[name=${user.username},password=${user.password}]`]);
}

async function formatStorage(java: string, jvm: string[], propsFile: string, env: NodeJS.ProcessEnv, scram?: ScramUser): Promise<void> {
  try {
    const args = [...jvm, "kafka.tools.StorageTool", "format", "-t", randomClusterId(), "-c", propsFile, ...scramFormatArgs(scram)];
    await execOwned(java, args, { env, timeout: 120_000 });
  } catch (e) {
    throw new ServiceError(`formatting Kafka storage failed: ${execFailure(e)}`, {
      cause: e,
      remedy: "check the Java version (java -version must be 17 or newer) and the jar cache (quixlab services fetch)",
    });
  }
}

/** How long a broker gets to shut down cleanly on SIGTERM before SIGKILL. */
const STOP_GRACE_MS = 20_000;

function handle(pid: number, address: string, dir: string, startupMs: number, launch: LaunchOptions, opts: LocalBrokerOptions, scram?: ScramListener): BrokerHandle {
  opts.log?.(`kafka: Apache Kafka ${KAFKA_VERSION} (local, pid ${pid}) ready at ${address}${scram ? ` (SASL SCRAM at ${scram.brokers.join(",")}${scram.tls ? `, SASL_SSL at ${scram.tls.brokers.join(",")}` : ""})` : ""} in ${startupMs} ms`);
  const server = ownServer(pid, dir, Boolean(opts.detached), STOP_GRACE_MS);
  return {
    brokers: [address],
    provider: "local",
    ...(scram ? { scram } : {}),
    startupMs,
    dir,
    get pid() {
      return server.pid;
    },
    stop: server.stop,
    kill: (signal) => server.kill(signal),
    async restart() {
      const started = Date.now();
      const result = await server.restart(launch, portTaken(dir));
      if (result.kind !== "ready") throw launchFailed(dir, result.why);
      opts.log?.(`kafka: Apache Kafka ${KAFKA_VERSION} (local, pid ${result.pid}) restarted at ${address} in ${Date.now() - started} ms`);
    },
  };
}
