import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import type { Log } from "../infra/process.js";
import { replicaEnvironment } from "./plan.js";
import type { ReplicaRecord, StepPlan, StepRecord } from "./types.js";

export interface SupervisorOptions {
  /** Receives every line: the steps' output prefixed `[step#replica]`, the supervisor's own as `[quixlab]`. */
  log: Log;
  /** Called after every state change (the caller persists `records()`). */
  onChange?: () => void;
  /** The environment the steps' own variables are laid over (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** A replica still up after this long counts as running (default 1,000 ms). */
  settleMs?: number;
  /** First restart delay after a crash; it doubles per crash in a row up to `maxBackoffMs` (500 / 30,000 ms). */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** A replica up this long has its run of crashes forgotten (default 30,000 ms). */
  stableMs?: number;
  /** How long a stopping replica gets between SIGTERM and SIGKILL (default 10,000 ms). */
  stopGraceMs?: number;
}

/**
 * Delay before restarting a replica after its `streak`-th crash in a row: `base`, doubling, at most `max`.
 * @example restartDelay(3, 500, 30_000) === 2_000
 */
export function restartDelay(streak: number, base: number, max: number): number {
  return Math.min(max, base * 2 ** Math.max(0, streak - 1));
}

interface Replica {
  readonly step: StepPlan;
  readonly rec: ReplicaRecord;
  child?: ChildProcess;
  closed?: Promise<void>;
  timer?: NodeJS.Timeout;
  /** Crashes in a row (reset once a run lasts `stableMs`). */
  streak: number;
  restartRequested: boolean;
  lastLine?: string;
}

const iso = () => new Date().toISOString();

/**
 * Runs a pipeline's steps as child processes: `replicas` processes per step; Services are restarted with
 * exponential backoff when they exit, Jobs run once to completion. Life cycle: `start()`, then `records()` any
 * time, `restartStep(name)` on request, and `stop()` (SIGTERM, SIGKILL after the grace) at the end.
 */
export class Supervisor {
  private readonly replicas: Replica[];
  private readonly o: Required<Omit<SupervisorOptions, "onChange">> & Pick<SupervisorOptions, "onChange">;
  private stopping = false;

  constructor(
    private readonly steps: readonly StepPlan[],
    opts: SupervisorOptions,
  ) {
    this.o = { env: process.env, settleMs: 1_000, backoffMs: 500, maxBackoffMs: 30_000, stableMs: 30_000, stopGraceMs: 10_000, ...opts };
    this.replicas = steps.flatMap((step) =>
      Array.from({ length: step.replicas }, (_, index) => ({
        step,
        rec: { index, pid: null, state: "stopped", restarts: 0, startedAt: null, lastExit: null } as ReplicaRecord,
        streak: 0,
        restartRequested: false,
      })),
    );
  }

  /** Start every replica of every step. */
  start(): void {
    for (const r of this.replicas) this.spawn(r);
  }

  /** The steps and their replicas as they are now (copies, for the state file). */
  records(): StepRecord[] {
    return this.steps.map((s) => ({
      name: s.name,
      kind: s.kind,
      runtime: s.runtime,
      consumerGroup: s.consumerGroup,
      inputs: [...s.inputs],
      outputs: [...s.outputs],
      cwd: s.cwd,
      command: [...s.command],
      replicas: this.replicas.filter((r) => r.step === s).map((r) => ({ ...r.rec, lastExit: r.rec.lastExit && { ...r.rec.lastExit } })),
    }));
  }

  /** Restart every replica of `name` now (a running one gets SIGTERM first). False when there is no such step. */
  restartStep(name: string): boolean {
    const mine = this.replicas.filter((r) => r.step.name === name);
    if (mine.length === 0 || this.stopping) return mine.length > 0;
    this.say(`restarting ${name} on request`);
    for (const r of mine) {
      if (r.child) {
        r.restartRequested = true;
        this.terminate(r);
      } else {
        clearTimeout(r.timer);
        r.timer = undefined;
        r.rec.restarts++;
        this.spawn(r);
      }
    }
    return true;
  }

  /** Stop every replica (SIGTERM, then SIGKILL after the grace); resolves when all have exited. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const r of this.replicas) {
      clearTimeout(r.timer);
      r.timer = undefined;
      if (r.child) {
        r.rec.state = "stopping";
        this.terminate(r);
      } else if (r.rec.state === "backoff" || r.rec.state === "starting") r.rec.state = "stopped";
    }
    this.changed();
    await Promise.all(this.replicas.map((r) => r.closed));
  }

  private spawn(r: Replica): void {
    const { step, rec } = r;
    const [exe, ...args] = step.command;
    const prefix = `[${step.name}#${rec.index}]`;
    const started = Date.now();
    const child = spawn(exe!, args, { cwd: step.cwd, env: replicaEnvironment(step, rec.index, this.o.env), stdio: ["ignore", "pipe", "pipe"] });
    r.child = child;
    r.lastLine = undefined;
    rec.pid = child.pid ?? null;
    rec.state = "starting";
    rec.startedAt = iso();
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream!, crlfDelay: Number.POSITIVE_INFINITY }).on("line", (line) => {
        if (line.trim()) r.lastLine = line;
        this.o.log(`${prefix} ${line}`);
      });
    }
    const settle = setTimeout(() => {
      if (r.child === child && rec.state === "starting") {
        rec.state = "running";
        this.changed();
      }
    }, this.o.settleMs);
    let spawnError: Error | undefined;
    child.once("error", (e) => {
      spawnError = e;
    });
    // 'close' (not 'exit') so the last lines of output are in before we record how it ended.
    r.closed = new Promise((resolve) => {
      child.once("close", (code, signal) => {
        clearTimeout(settle);
        this.exited(r, code, signal, Date.now() - started, spawnError);
        resolve();
      });
    });
    this.changed();
  }

  private exited(r: Replica, code: number | null, signal: NodeJS.Signals | null, upMs: number, spawnError?: Error): void {
    const { step, rec } = r;
    const prefix = `[${step.name}#${rec.index}]`;
    r.child = undefined;
    rec.pid = null;
    const line = spawnError ? `cannot start ${step.command[0]}: ${spawnError.message}` : r.lastLine;
    rec.lastExit = { code, signal, at: iso(), ...(line !== undefined && { line }) };
    const how = spawnError ? line! : signal ? `killed by ${signal}` : `exited with code ${code}`;
    if (this.stopping) {
      rec.state = "stopped";
      this.say(`${prefix} stopped (${how})`);
    } else if (r.restartRequested) {
      r.restartRequested = false;
      r.streak = 0;
      rec.restarts++;
      this.spawn(r);
      return;
    } else if (step.kind === "Job") {
      rec.state = code === 0 ? "completed" : "failed";
      this.say(`${prefix} ${code === 0 ? "completed" : `failed: ${how}`}`);
    } else {
      r.streak = upMs >= this.o.stableMs ? 1 : r.streak + 1;
      const delay = restartDelay(r.streak, this.o.backoffMs, this.o.maxBackoffMs);
      rec.state = "backoff";
      this.say(`${prefix} ${how}; restarting in ${delay} ms`);
      r.timer = setTimeout(() => {
        r.timer = undefined;
        rec.restarts++;
        this.spawn(r);
      }, delay);
    }
    this.changed();
  }

  private terminate(r: Replica): void {
    const child = r.child;
    if (!child) return;
    child.kill("SIGTERM");
    const hard = setTimeout(() => {
      if (child.exitCode === null && child.signalCode === null) {
        this.say(`[${r.step.name}#${r.rec.index}] did not stop within ${this.o.stopGraceMs} ms; SIGKILL`);
        child.kill("SIGKILL");
      }
    }, this.o.stopGraceMs);
    child.once("exit", () => clearTimeout(hard));
  }

  private say(line: string): void {
    this.o.log(line.startsWith("[") ? line : `[quixlab] ${line}`);
  }

  private changed(): void {
    this.o.onChange?.();
  }
}
