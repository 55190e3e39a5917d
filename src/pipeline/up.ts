import { spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { startBroker } from "../broker/index.js";
import { pingBroker } from "../kafka/index.js";
import type { BrokerHandle } from "../broker/types.js";
import { CheckFailedError, ServiceError } from "../errors/index.js";
import { dockerAvailable } from "../infra/docker.js";
import { type Log, tailFile } from "../infra/process.js";
import { type RedisHandle, startRedis } from "../redis/provider.js";
import { packageRoot, stateDir } from "../util/paths.js";
import { controlDir, takeRequests } from "./control.js";
import { loadPipeline } from "./load.js";
import { buildImages, imageExists } from "./images.js";
import { planPipeline } from "./plan.js";
import { pipelineLabel, type Runtime } from "./runtime.js";
import { pipelineLogFile, readPipelineState, removePipelineState, supervisorAlive, writePipelineState } from "./state.js";
import { Supervisor, type SupervisorOptions } from "./supervisor.js";
import { ensureTopics } from "./topics.js";
import type { OwnedService, PipelineState } from "./types.js";

export interface UpOptions {
  cwd: string;
  /** quix.yaml, relative to `cwd` (default `quix.yaml`). */
  descriptor?: string;
  /** `auto` (default: KAFKA_BROKERS, a broker from 'quixlab services', Docker, else a local JVM broker), a provider, or HOST:PORT. */
  broker?: string;
  /** `auto` (default), `local`, `none`, or a redis:// URL. */
  redis?: string;
  /** `auto` (default: Node apps as processes, the others in Docker when an engine answers), `process`, or `docker`. */
  runtime?: Runtime;
  /** `--var NAME=VALUE`: values for quix.yaml's `{{NAME}}` placeholders (over .quix.yaml.variables and env). */
  vars?: Readonly<Record<string, string>>;
  env?: NodeJS.ProcessEnv;
  /** Every line of the run: the supervisor's and the steps' (prefixed `[step#replica]`). */
  log: Log;
  /** Record this process as the group to end if `down` finds leftovers (set when running detached). */
  processGroup?: boolean;
  /** Timings of the supervisor (tests shorten them). */
  supervisor?: Omit<SupervisorOptions, "log" | "onChange" | "env">;
}

/** A pipeline running in this process. `done` settles once `stop()` has stopped everything it started. */
export interface RunningPipeline {
  state(): PipelineState;
  restart(step: string): boolean;
  stop(): Promise<void>;
  done: Promise<void>;
}

/** Refuse to start a second pipeline in the same directory. */
function refuseIfRunning(cwd: string): void {
  const existing = readPipelineState(cwd);
  if (existing && existing.supervisor.pid !== process.pid && supervisorAlive(existing)) {
    throw new CheckFailedError(`a pipeline is already running here (supervisor pid ${existing.supervisor.pid}, ${existing.descriptor})`, {
      remedy: "watch it with 'quixlab status' or 'quixlab dashboard', or stop it with 'quixlab down' first",
    });
  }
}

const owned = (h: { provider: string; pid?: number; dir?: string }): OwnedService | undefined =>
  h.pid !== undefined || h.provider === "testcontainers" ? { provider: h.provider, ...(h.pid !== undefined && { pid: h.pid }), ...(h.dir && { dir: h.dir }) } : undefined;

/**
 * Run a descriptor here and now: provision Kafka and Redis, create the topics, start every runnable deployment
 * under a `Supervisor`, and keep `.quixlab/pipeline.json` current. Resolves once the steps are started;
 * restart requests (`requestRestart`) are picked up every second and on SIGUSR2.
 * @example const p = await runPipeline({ cwd, log: console.log }); process.once("SIGINT", () => p.stop())
 */
export async function runPipeline(opts: UpOptions): Promise<RunningPipeline> {
  const { cwd, log } = opts;
  const env = opts.env ?? process.env;
  refuseIfRunning(cwd);
  const loaded = await loadPipeline(opts.descriptor ?? "quix.yaml", cwd, { vars: opts.vars, env });
  const say = (line: string) => log(`[quixlab] ${line}`);
  const state: PipelineState = {
    version: 1,
    state: "starting",
    supervisor: { pid: process.pid, startedAt: new Date().toISOString(), ...(opts.processGroup && { processGroup: process.pid }) },
    descriptor: loaded.file,
    logFile: pipelineLogFile(cwd),
    brokers: [],
    redisUrl: null,
    owned: {},
    steps: [],
    skipped: [],
    updatedAt: new Date().toISOString(),
  };
  let supervisor: Supervisor | undefined;
  const save = () => {
    if (supervisor) state.steps = supervisor.records();
    state.updatedAt = new Date().toISOString();
    writePipelineState(cwd, state);
  };
  // Recorded before anything starts, so `down` finds this process even while the broker is still booting.
  save();

  let broker: BrokerHandle | undefined;
  let redis: RedisHandle | undefined;
  try {
    broker = await startBroker({ provider: opts.broker ?? "auto", cwd, env, log: say });
    state.brokers = broker.brokers;
    const ob = owned(broker);
    if (ob) state.owned.broker = ob;
    save();
    redis = await startRedis({ provider: opts.redis ?? "auto", cwd, env, log: say });
    state.redisUrl = redis.url;
    const or = owned(redis);
    if (or) state.owned.redis = or;
    save();
    const runtime = opts.runtime ?? "auto";
    const docker = runtime !== "process" && (await dockerAvailable(env));
    if (runtime === "docker" && !docker) {
      throw new ServiceError("--runtime docker: no Docker engine answers", { remedy: "start dockerd (or point DOCKER_HOST at an engine), or run with --runtime auto" });
    }
    const images = docker ? await imageExists(loaded.descriptor.deployments.flatMap((d) => (d.image ? [d.image] : [])), env) : new Set<string>();
    let plan = planPipeline({
      descriptor: loaded.descriptor,
      apps: loaded.apps,
      files: loaded.files,
      runtime,
      docker,
      hasImage: (image) => images.has(image),
      dir: loaded.dir,
      brokers: broker.brokers,
      brokerCount: await pingBroker(broker.brokers, 5_000),
      redisUrl: redis.url,
      node: process.execPath,
      tsx: import.meta.resolve("tsx"),
    });
    if (plan.steps.some((st) => st.runtime === "docker")) {
      state.containerLabel = pipelineLabel(loaded.dir);
      save();
      plan = await buildImages(plan, { env, log: say });
    }
    for (const w of plan.warnings) say(`warning: ${w}`);
    for (const s of plan.skipped) say(`not starting ${s.name}: ${s.reason}`);
    state.skipped = [...plan.skipped];
    const created = await ensureTopics(broker.brokers, plan.topics, log);
    if (created.length > 0) say(`created topics ${created.join(", ")}`);
    supervisor = new Supervisor(plan.steps, { ...opts.supervisor, log, env, onChange: save });
    supervisor.start();
    state.state = "running";
    save();
    say(`running ${plan.steps.map((s) => `${s.name}×${s.replicas}`).join(", ") || "no deployments"} (brokers ${broker.brokers.join(",")}, redis ${redis.url ?? "none"})`);
  } catch (e) {
    state.state = "failed";
    state.error = e instanceof Error ? e.message : String(e);
    await Promise.allSettled([redis?.stop(), broker?.stop()]);
    save();
    throw e;
  }

  const sup = supervisor;
  const poll = () => {
    for (const r of takeRequests(cwd)) if (!sup.restartStep(r.step)) say(`restart request for unknown step ${r.step} ignored`);
  };
  const timer = setInterval(poll, 1_000);
  process.on("SIGUSR2", poll);
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      clearInterval(timer);
      process.off("SIGUSR2", poll);
      state.state = "stopping";
      save();
      say("stopping the steps");
      await sup.stop();
      const results = await Promise.allSettled([redis?.stop(), broker?.stop()]);
      for (const r of results) if (r.status === "rejected") say(`stopping a service failed: ${(r.reason as Error).message}`);
      removePipelineState(cwd);
      rmSync(controlDir(cwd), { recursive: true, force: true });
      say("stopped");
      resolveDone();
    })();
    return stopping;
  };
  return { state: () => state, restart: (s) => sup.restartStep(s), stop, done };
}

export interface DetachOptions extends Omit<UpOptions, "log" | "processGroup"> {
  /** How long to wait for every replica to be running (default 180 s: a first local broker start is slow). */
  timeoutMs?: number;
}

/**
 * Start the pipeline in a detached background supervisor (`quixlab up --supervisor`, output to
 * `.quixlab/pipeline.log`) and resolve once every replica runs, or has crashed at least once (the caller
 * reports that), with the recorded state. The supervisor keeps running after this process exits.
 */
export async function startDetached(opts: DetachOptions): Promise<PipelineState> {
  const { cwd } = opts;
  refuseIfRunning(cwd);
  const descriptor = resolve(cwd, opts.descriptor ?? "quix.yaml");
  // Validate here, so a bad descriptor is reported by this command with its own exit code.
  await loadPipeline(descriptor, cwd, { vars: opts.vars, env: opts.env });
  removePipelineState(cwd);
  const logFile = pipelineLogFile(cwd);
  mkdirSync(stateDir(cwd), { recursive: true });
  const fd = openSync(logFile, "w");
  const args = [join(packageRoot(), "bin/quixlab.js"), "up", "--supervisor", "--descriptor", descriptor];
  if (opts.broker) args.push("--broker", opts.broker);
  if (opts.redis) args.push("--redis", opts.redis);
  if (opts.runtime) args.push("--runtime", opts.runtime);
  for (const [k, v] of Object.entries(opts.vars ?? {})) args.push("--var", `${k}=${v}`);
  const child = spawn(process.execPath, args, { cwd, env: opts.env ?? process.env, detached: true, stdio: ["ignore", fd, fd] });
  closeSync(fd);
  child.unref();
  let exited: string | undefined;
  child.once("exit", (code, signal) => (exited = signal ? `killed by ${signal}` : `exited with code ${code}`));
  const deadline = Date.now() + (opts.timeoutMs ?? 180_000);
  for (;;) {
    const state = readPipelineState(cwd);
    const mine = state?.supervisor.pid === child.pid ? state : undefined;
    if (exited !== undefined || mine?.state === "failed") {
      const why = mine?.error ?? (tailFile(logFile, 5) || "no output");
      throw new ServiceError(`the pipeline supervisor ${exited ?? "failed"}: ${why}`, {
        remedy: `see ${logFile}; fix the cause and run 'quixlab up' again ('quixlab down' clears what is left)`,
      });
    }
    if (mine?.state === "running" && mine.steps.every((s) => s.replicas.every((r) => r.state !== "starting" || r.lastExit !== null))) return mine;
    if (Date.now() > deadline) {
      child.kill("SIGTERM");
      throw new ServiceError(`the pipeline did not start within ${Math.round((opts.timeoutMs ?? 180_000) / 1000)} s`, {
        retriable: true,
        remedy: `see ${logFile}; it was told to stop ('quixlab down' makes sure)`,
      });
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
