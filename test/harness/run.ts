/**
 * The test session: finds every `test/**\/*.test.ts`, starts ONE Kafka broker and ONE Redis for the whole run
 * (local providers: a JVM broker and redis-server, whether or not Docker answers), runs node's test runner
 * over the files with KAFKA_BROKERS and REDIS_URL set (and, on the local broker, its SASL SCRAM listener in
 * QUIXLAB_TEST_SCRAM_BROKERS with QUIXLAB_TEST_SCRAM_USERNAME/PASSWORD, a user made for this run, and the same
 * user over SASL_SSL in QUIXLAB_TEST_SCRAM_SSL_BROKERS, whose CA certificate is QUIXLAB_TEST_SCRAM_SSL_CA), stops the services at the end (also on failure, Ctrl-C
 * or SIGTERM), and exits with the runner's code.
 *
 * Docker: when dockerd is installed and no engine answers, the engine is started once for the run
 * (.ci/docker-engine.sh); when a `*testcontainers*` test is selected, the images it runs are built too
 * (.ci/images/build.sh, cached by tag). Tests see QUIXLAB_DOCKER=1, or 0 with QUIXLAB_DOCKER_WHY, and
 * TESTCONTAINERS_RYUK_DISABLED=true (the Ryuk image cannot be built here; providers' stop() removes).
 *
 *   node --import tsx test/harness/run.ts [FILTER...]      FILTER: a path, or a substring of one
 *   QUIXLAB_TEST_ONLY=unit  only test/unit, no services    QUIXLAB_TEST_ONLY=integration  only the others
 *   QUIXLAB_TEST_CONCURRENCY=N  test files run at once     QUIXLAB_TEST_TIMEOUT_MS=N  per-test timeout
 *   QUIXLAB_TEST_BROKER / QUIXLAB_TEST_REDIS=P  the session's providers (default: local; Redis embedded
 *                                              when no redis-server is on PATH)
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import { availableParallelism, constants } from "node:os";
import { join, relative, resolve, sep } from "node:path";
import { type BrokerHandle, startBroker } from "../../src/broker/index.js";
import { isQuixlabError } from "../../src/errors/index.js";
import { which } from "../../src/infra/process.js";
import { type RedisHandle, startRedis } from "../../src/redis/provider.js";
import { type DockerState, ensureDocker, TESTCONTAINERS_ENV } from "./docker.js";

const root = resolve(import.meta.dirname, "../..");
const testRoot = join(root, "test");
const say = (line: string) => process.stderr.write(`[harness] ${line}\n`);

/** All `*.test.ts` and `*.test.tsx` under `dir`, sorted (node 20's --test does not expand globs itself). */
export function findTestFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith(".") || entry.name === "node_modules") continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...findTestFiles(path));
    else if (entry.isFile() && /\.test\.tsx?$/.test(entry.name)) out.push(path);
  }
  return out.sort();
}

/** Files that match `only` (unit|integration) and any of `filters` (an existing path, or a substring of one). */
export function selectTestFiles(files: string[], only: string | undefined, filters: string[], cwd = process.cwd()): string[] {
  const unitDir = join(testRoot, "unit") + sep;
  let selected = files;
  if (only === "unit") selected = selected.filter((f) => f.startsWith(unitDir));
  else if (only === "integration") selected = selected.filter((f) => !f.startsWith(unitDir));
  else if (only) throw new Error(`QUIXLAB_TEST_ONLY must be 'unit' or 'integration', not '${only}'`);
  if (!filters.length) return selected;
  return selected.filter((f) =>
    filters.some((filter) => {
      const asPath = resolve(cwd, filter);
      if (existsSync(asPath)) return f === asPath || f.startsWith(asPath + sep);
      return relative(root, f).includes(filter);
    }),
  );
}

function needsServices(files: string[]): boolean {
  const unitDir = join(testRoot, "unit") + sep;
  return files.some((f) => !f.startsWith(unitDir));
}

function positiveInt(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

async function main(): Promise<number> {
  const env = process.env;
  const files = selectTestFiles(findTestFiles(testRoot), env.QUIXLAB_TEST_ONLY || undefined, process.argv.slice(2));
  if (!files.length) {
    say(`no test files match ${JSON.stringify(process.argv.slice(2))} (QUIXLAB_TEST_ONLY=${env.QUIXLAB_TEST_ONLY ?? ""})`);
    return 2;
  }

  let broker: BrokerHandle | undefined;
  let redis: RedisHandle | undefined;
  let child: ChildProcess | undefined;
  let interrupted: NodeJS.Signals | undefined;
  const stopServices = async () => {
    const started = Date.now();
    const results = await Promise.allSettled([broker?.stop(), redis?.stop()]);
    for (const r of results) if (r.status === "rejected") say(`stopping a service failed: ${(r.reason as Error).message}`);
    if (broker || redis) say(`services stopped in ${Date.now() - started} ms`);
  };
  const onSignal = (sig: NodeJS.Signals) => {
    if (!child?.pid) {
      // Still starting services: hand the signal to the providers' hooks, which kill what has started and die.
      for (const s of signals) process.off(s, onSignal);
      process.kill(process.pid, sig);
      return;
    }
    // The runner and its test-file processes share a process group; signal all of them, harder the second time.
    const hard = interrupted !== undefined;
    interrupted = sig;
    say(`${sig}: stopping the tests${hard ? " (SIGKILL)" : ""}`);
    try {
      process.kill(-child.pid, hard ? "SIGKILL" : sig);
    } catch {
      // already gone
    }
  };
  const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
  for (const sig of signals) process.on(sig, onSignal);

  const childEnv: NodeJS.ProcessEnv = { ...TESTCONTAINERS_ENV, ...env };
  if (needsServices(files)) {
    const started = Date.now();
    // `auto` would pick Testcontainers whenever Docker answers, changing every test's broker: the session's
    // services stay local, and test/integration/testcontainers.test.ts covers the container providers.
    const images = files.some((f) => relative(root, f).includes("testcontainers"));
    let docker: DockerState;
    [broker, redis, docker] = await Promise.all([
      // A SCRAM listener beside the plain one, for the tests of authenticated (Quix Cloud) connections.
      startBroker({ provider: env.QUIXLAB_TEST_BROKER ?? "local", log: say, scram: { username: "quixlab-test", password: randomBytes(12).toString("hex"), tls: true } }),
      startRedis({ provider: env.QUIXLAB_TEST_REDIS ?? (which("redis-server", env) ? "local" : "embedded"), log: say }),
      ensureDocker({ images, log: say }),
    ]);
    childEnv.KAFKA_BROKERS = broker.brokers.join(",");
    if (broker.scram) {
      childEnv.QUIXLAB_TEST_SCRAM_BROKERS = broker.scram.brokers.join(",");
      childEnv.QUIXLAB_TEST_SCRAM_USERNAME = broker.scram.username;
      childEnv.QUIXLAB_TEST_SCRAM_PASSWORD = broker.scram.password;
      if (broker.scram.tls) {
        childEnv.QUIXLAB_TEST_SCRAM_SSL_BROKERS = broker.scram.tls.brokers.join(",");
        childEnv.QUIXLAB_TEST_SCRAM_SSL_CA = broker.scram.tls.ca;
      }
    }
    childEnv.REDIS_URL = redis.url ?? "";
    childEnv.QUIXLAB_DOCKER = docker.ok ? "1" : "0";
    if (docker.why) childEnv.QUIXLAB_DOCKER_WHY = docker.why;
    say(`services ready in ${Date.now() - started} ms: KAFKA_BROKERS=${childEnv.KAFKA_BROKERS} REDIS_URL=${childEnv.REDIS_URL}`);
    say(docker.ok ? "docker: an engine answers" : `docker: ${docker.why}`);
  }

  const concurrency = positiveInt(env.QUIXLAB_TEST_CONCURRENCY, Math.max(1, Math.min(4, availableParallelism() - 1)));
  const timeout = positiveInt(env.QUIXLAB_TEST_TIMEOUT_MS, 600_000);
  const args = ["--import", "tsx", "--test", "--test-reporter=spec", `--test-concurrency=${concurrency}`, `--test-timeout=${timeout}`, ...files];
  say(`running ${files.length} test files, ${concurrency} at a time`);
  try {
    child = spawn(process.execPath, args, { cwd: root, env: childEnv, stdio: ["ignore", "inherit", "inherit"], detached: true });
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((done, fail) => {
      child!.once("error", fail);
      child!.once("exit", (c, s) => done([c, s]));
    });
    if (interrupted) return 128 + constants.signals[interrupted];
    return code ?? 128 + constants.signals[signal ?? "SIGTERM"];
  } finally {
    await stopServices();
  }
}

if (process.argv[1] && resolve(process.argv[1]) === import.meta.filename) {
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      say(isQuixlabError(e) ? `error: ${e.oneLine()}` : `error: ${(e as Error).stack ?? String(e)}`);
      process.exit(isQuixlabError(e) ? e.exitCode : 1);
    },
  );
}
