import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ServiceError } from "../errors/index.js";
import type { StepMetrics } from "../stream/metrics.js";
import { packageRoot } from "../util/paths.js";

/**
 * The streaming step in a child process, exactly as a deployment runs it (`quixlab run <ref>`), restartable for
 * chaos. Life cycle: `start`, then any number of `kill` + `start`; `kill("SIGTERM")` is a clean stop (the step
 * writes its final metrics), `kill("SIGKILL")` a crash.
 */
export class StepProcess {
  child: ChildProcess | undefined;
  /** The last 4,000 characters the step wrote to stderr (its log), over all its runs. */
  stderrTail = "";
  /** How each run ended: its signal, else its exit code. */
  readonly exits: (number | string | null)[] = [];
  private readonly args: string[];

  constructor(
    ref: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly cwd: string,
    private readonly log?: (s: string) => void,
  ) {
    this.args = [join(packageRoot(), "bin", "quixlab.js"), "run", ref];
  }

  start(): void {
    const child = spawn(process.execPath, this.args, { cwd: this.cwd, env: this.env, stdio: ["ignore", "ignore", "pipe"] });
    child.stderr?.on("data", (d: Buffer) => {
      this.stderrTail = (this.stderrTail + d.toString()).slice(-4000);
    });
    child.on("exit", (code, signal) => this.exits.push(signal ?? code));
    this.child = child;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get alive(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The last lines of the step's log, for error remedies. */
  logTail(lines = 8): string {
    return this.stderrTail.trim().split("\n").slice(-lines).join("\n");
  }

  /** End the running child (SIGKILL after 15 s when another signal is ignored); resolves once it has exited. */
  async kill(signal: NodeJS.Signals): Promise<void> {
    const c = this.child;
    if (!c || !this.alive) return;
    const exited = once(c, "exit");
    c.kill(signal);
    const t = signal === "SIGKILL" ? undefined : setTimeout(() => c.kill("SIGKILL"), 15_000);
    await exited;
    if (t) clearTimeout(t);
    this.log?.(`step: pid ${c.pid} ended (${signal})`);
  }
}

/** The metrics the step wrote at its clean stop; undefined when it wrote none. */
export function readMetricsFile(file: string): StepMetrics | undefined {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as StepMetrics;
  } catch {
    return undefined;
  }
}

/**
 * Rejects when the step exits on its own, or when `lastProgressAt()` is more than `stallMs` ago. A broker outage
 * shorter than `stallMs` only pauses progress, so it does not trip this. `stop` ends the checks.
 */
export function stepWatchdog(step: StepProcess, lastProgressAt: () => number, stallMs: number): { failed: Promise<never>; stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  const failed = new Promise<never>((_, reject) => {
    timer = setInterval(() => {
      if (!step.alive) {
        reject(new ServiceError(`the streaming step exited (${step.exits.at(-1)}) before the output was complete`, { remedy: `see its log:\n${step.logTail()}` }));
      } else if (Date.now() - lastProgressAt() > stallMs) {
        reject(new ServiceError(`no progress for ${Math.round(stallMs / 1000)} s: the output never completed`, {
          retriable: true,
          remedy: `check the broker; the step's log ends with:\n${step.logTail()}`,
        }));
      }
    }, 250);
  });
  failed.catch(() => undefined);
  return { failed, stop: () => clearInterval(timer) };
}
