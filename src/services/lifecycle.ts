import { rmSync } from "node:fs";
import { join } from "node:path";
import { restartLocalBroker, startBroker } from "../broker/index.js";
import { pingBroker } from "../kafka/index.js";
import { InputError } from "../errors/index.js";
import { ownRedisProvider, pingRedis, restartOwnRedis, startRedis } from "../redis/provider.js";
import { stateDir } from "../util/paths.js";
import { withLock } from "../infra/lock.js";
import { killPid, type Log, pidRuns, stopPid, which } from "../infra/process.js";
import { type BrokerRecord, type RedisRecord, readServices, type ServiceRecord, type ServicesState, servicesFile, writeServices } from "./state.js";

/** What identifies our processes in /proc/<pid>/cmdline, so a reused pid is never signalled. */
const BROKER_CMD = "kafka.Kafka";
// Also in the embedded binary's name (redis-server-6.2.6-v5-linux-amd64).
const REDIS_CMD = "redis-server";

export interface ServicesUpOptions {
  cwd: string;
  /** `auto` (KAFKA_BROKERS if set, else local), `local`, or `HOST:PORT` to record a broker you run. */
  broker?: string;
  /** `auto` (REDIS_URL if set, else local, else embedded), `local`, `embedded`, `none`, or a `redis://` URL. */
  redis?: string;
  env?: NodeJS.ProcessEnv;
  log?: Log;
}

export interface ServicesUpResult {
  state: ServicesState;
  /** Which services were already running and were kept. */
  reused: { broker: boolean; redis: boolean };
}

export interface ServicesRestartOptions {
  cwd: string;
  /** Only this one; default every recorded service quixlab runs itself (not a broker or Redis you run). */
  only?: "kafka" | "redis";
  /** End the process with SIGKILL (a crash) instead of a clean shutdown before starting it again. */
  kill?: boolean;
  env?: NodeJS.ProcessEnv;
  log?: Log;
}

export interface ServicesRestartResult {
  state: ServicesState;
  /** Which services were started again (on the same address, with the same dir). */
  restarted: { broker: boolean; redis: boolean };
}

export type Live<R> = R & { alive: boolean };

export interface ServicesStatus {
  file: string;
  broker?: Live<BrokerRecord>;
  redis?: Live<RedisRecord>;
  /** Every recorded service answers (and at least one is recorded). */
  running: boolean;
}

function lockPath(cwd: string): string {
  return join(stateDir(cwd), "services.lock");
}

function refuseContainers(flag: string | undefined, which: "broker" | "redis"): void {
  if (flag === "testcontainers") {
    throw new InputError(`'services up' cannot keep a Testcontainers ${which} running after it exits`, {
      remedy: `use --${which} local (the default), or pass --${which} testcontainers to the command that needs it`,
      context: { field: `--${which}` },
    });
  }
}

async function brokerAlive(r: BrokerRecord): Promise<boolean> {
  if (r.pid !== undefined && !pidRuns(r.pid, BROKER_CMD)) return false;
  return pingBroker(r.brokers, 2_000).then((n) => n > 0, () => false);
}

async function redisAlive(r: RedisRecord): Promise<boolean> {
  if (r.pid !== undefined && !pidRuns(r.pid, REDIS_CMD)) return false;
  return pingRedis(r.url, 1_000);
}

/** Stop a recorded process if it is still ours, and remove its temp dir. */
async function release(r: ServiceRecord, needle: string): Promise<void> {
  if (r.pid !== undefined && pidRuns(r.pid, needle)) await stopPid(r.pid, 20_000);
  if (r.dir) rmSync(r.dir, { recursive: true, force: true });
}

/**
 * Start Kafka and Redis in the background (they outlive this process) and record them in
 * `.quixlab/services.json`; services already running are kept. Later commands find them with `readServices`.
 */
export async function servicesUp(opts: ServicesUpOptions): Promise<ServicesUpResult> {
  const env = opts.env ?? process.env;
  refuseContainers(opts.broker, "broker");
  refuseContainers(opts.redis, "redis");
  return withLock(lockPath(opts.cwd), async () => {
    const state: ServicesState = readServices(opts.cwd) ?? { version: 1 };
    const reused = { broker: false, redis: false };

    if (state.broker && (await brokerAlive(state.broker))) {
      reused.broker = true;
    } else {
      if (state.broker) await release(state.broker, BROKER_CMD);
      const flag = !opts.broker || opts.broker === "auto" ? (env.KAFKA_BROKERS ? "external" : "local") : opts.broker;
      const b = await startBroker({ provider: flag, env, log: opts.log, detached: true });
      state.broker = { provider: b.provider, brokers: b.brokers, pid: b.pid, dir: b.dir, startupMs: b.startupMs, startedAt: new Date().toISOString() };
      // Record at once: if Redis fails next, `down` still finds the broker.
      writeServices(opts.cwd, state);
    }

    if (opts.redis === "none") {
      // Nothing to start; a Redis recorded earlier is left as it is.
    } else if (state.redis && (await redisAlive(state.redis))) {
      reused.redis = true;
    } else {
      if (state.redis) await release(state.redis, REDIS_CMD);
      // Not plain `auto`: a Testcontainers Redis would not outlive this process.
      const auto = env.REDIS_URL ? "url" : ownRedisProvider(which("redis-server", env) !== undefined).provider;
      const flag = !opts.redis || opts.redis === "auto" ? auto : opts.redis;
      const r = await startRedis({ provider: flag, env, log: opts.log, detached: true });
      if (r.url) {
        state.redis = { provider: r.provider, url: r.url, pid: r.pid, dir: r.dir, startupMs: r.startupMs, startedAt: new Date().toISOString() };
      }
      writeServices(opts.cwd, state);
    }
    return { state, reused };
  });
}

/** The recorded services and whether each answers now (pid alive and a real admin call / PING). */
export async function servicesStatus(cwd: string): Promise<ServicesStatus> {
  const state = readServices(cwd);
  const status: ServicesStatus = { file: servicesFile(cwd), running: false };
  if (state?.broker) status.broker = { ...state.broker, alive: await brokerAlive(state.broker) };
  if (state?.redis) status.redis = { ...state.redis, alive: await redisAlive(state.redis) };
  const alive = [status.broker?.alive, status.redis?.alive].filter((a) => a !== undefined);
  status.running = alive.length > 0 && alive.every(Boolean);
  return status;
}

/** Stop what `servicesUp` started under `cwd`, remove their temp dirs and the state file. */
export async function servicesDown(cwd: string): Promise<ServicesState> {
  return withLock(lockPath(cwd), async () => {
    const state = readServices(cwd) ?? { version: 1 };
    await Promise.all([
      state.broker ? release(state.broker, BROKER_CMD) : undefined,
      state.redis ? release(state.redis, REDIS_CMD) : undefined,
    ]);
    writeServices(cwd, { version: 1 });
    return state;
  });
}

/** Whether `services restart` can start `r` again itself: a process of ours with its dir, not an address we were given. */
function restartable(r: ServiceRecord | undefined, providers: readonly string[]): r is ServiceRecord & { pid: number; dir: string } {
  return r !== undefined && providers.includes(r.provider) && r.pid !== undefined && r.dir !== undefined;
}

/**
 * Before a restart: with `kill`, SIGKILL the recorded process now (a crash). Returns the pid the restart must
 * still end with SIGTERM: the recorded one while it runs our program, else none.
 */
async function endForRestart(r: ServiceRecord & { pid: number }, needle: string, kill: boolean): Promise<number | undefined> {
  if (!pidRuns(r.pid, needle)) return undefined;
  if (!kill) return r.pid;
  await killPid(r.pid);
  return undefined;
}

/**
 * Start the services `servicesUp` started under `cwd` again, each on the same address and in the same dir: the
 * broker's topics, messages and offsets survive (its storage is not formatted again); Redis runs without
 * persistence, so only its address does. A service that is down is started again too. Services you run
 * yourself (an address recorded by `up`) are left alone, and refused when named by `only`.
 */
export async function servicesRestart(opts: ServicesRestartOptions): Promise<ServicesRestartResult> {
  const env = opts.env ?? process.env;
  return withLock(lockPath(opts.cwd), async () => {
    const state = readServices(opts.cwd);
    if (!state?.broker && !state?.redis) {
      throw new InputError("no services are recorded, so there is nothing to restart", { remedy: "start them with 'quixlab services up'" });
    }
    const restarted = { broker: false, redis: false };
    const refuse = (name: string, r: ServiceRecord | undefined, where: string) =>
      new InputError(r ? `the recorded ${name} is not one quixlab runs (${r.provider} at ${where}), so it cannot restart it` : `no ${name} is recorded`, {
        remedy: r ? `restart it where it runs, or leave out --only ${name}` : "start it with 'quixlab services up'",
        context: { field: "--only" },
      });
    const now = () => new Date().toISOString();

    const broker = state.broker;
    if (!opts.only || opts.only === "kafka") {
      if (restartable(broker, ["local"])) {
        const previous = await endForRestart(broker, BROKER_CMD, Boolean(opts.kill));
        const b = await restartLocalBroker({ dir: broker.dir, address: broker.brokers[0]!, previous, env, log: opts.log, detached: true });
        state.broker = { ...broker, pid: b.pid, startupMs: b.startupMs, startedAt: now() };
        restarted.broker = true;
        // Record at once: if Redis fails next, `down` still finds the new broker process.
        writeServices(opts.cwd, state);
      } else if (opts.only) {
        throw refuse("kafka", broker, broker?.brokers.join(",") ?? "");
      }
    }

    const redis = state.redis;
    if (!opts.only || opts.only === "redis") {
      if (restartable(redis, ["local", "embedded"])) {
        const previous = await endForRestart(redis, REDIS_CMD, Boolean(opts.kill));
        const provider = redis.provider as "local" | "embedded";
        const r = await restartOwnRedis({ provider, dir: redis.dir, url: redis.url, previous, env, log: opts.log, detached: true });
        state.redis = { ...redis, pid: r.pid, startupMs: r.startupMs, startedAt: now() };
        restarted.redis = true;
        writeServices(opts.cwd, state);
      } else if (opts.only) {
        throw refuse("redis", redis, redis?.url ?? "");
      }
    }
    return { state, restarted };
  });
}
