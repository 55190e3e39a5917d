import { rmSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../errors/index.js";
import { pidRuns } from "../infra/process.js";
import { readJsonFile, writeJsonAtomic } from "../util/json-file.js";
import { stateDir } from "../util/paths.js";
import type { PipelineState, ReplicaRecord, StepRecord, StepState } from "./types.js";

/** `<cwd>/.quixlab/pipeline.json`: the running pipeline, written by its supervisor. */
export function pipelineFile(cwd: string): string {
  return join(stateDir(cwd), "pipeline.json");
}

/** `<cwd>/.quixlab/pipeline.log`: the supervisor's and every step's output, lines prefixed `[step#replica]`. */
export function pipelineLogFile(cwd: string): string {
  return join(stateDir(cwd), "pipeline.log");
}

/** The recorded pipeline under `cwd`, or undefined when none is (it does not check that it still runs). */
export function readPipelineState(cwd: string): PipelineState | undefined {
  const file = pipelineFile(cwd);
  const s = readJsonFile(file, corrupt) as Partial<PipelineState> | null | undefined;
  if (s === undefined) return undefined;
  if (typeof s !== "object" || s === null || s.version !== 1 || typeof s.supervisor?.pid !== "number" || !Array.isArray(s.steps)) {
    throw corrupt(file, "expected version 1 with a supervisor pid and steps");
  }
  return s as PipelineState;
}

function corrupt(file: string, why: string): InputError {
  return new InputError(`cannot read the pipeline state: ${why}`, {
    remedy: "run 'quixlab down' (it stops what it can find), or delete the file if nothing runs",
    context: { file },
  });
}

/** Replace the state file atomically (temp file + rename), so readers never see half of it. */
export function writePipelineState(cwd: string, state: PipelineState): void {
  writeJsonAtomic(pipelineFile(cwd), state);
}

export function removePipelineState(cwd: string): void {
  rmSync(pipelineFile(cwd), { force: true });
}

/** True while the recorded supervisor process runs (a reused pid running something else does not count). */
export function supervisorAlive(state: PipelineState): boolean {
  return pidRuns(state.supervisor.pid, "quixlab");
}

/**
 * A step's overall state from its replicas: `running` when every replica runs, `degraded` when only some do,
 * `restarting` when none does and some wait to be restarted; Jobs end `completed` or `failed`.
 */
export function stepState(step: Pick<StepRecord, "kind" | "replicas">): StepState {
  const rs = step.replicas;
  const count = (s: ReplicaRecord["state"]) => rs.filter((r) => r.state === s).length;
  if (rs.length === 0) return "stopped";
  if (count("stopping") > 0) return "stopping";
  if (step.kind === "Job" && count("running") + count("starting") === 0) {
    if (count("failed") > 0) return "failed";
    if (count("completed") === rs.length) return "completed";
  }
  if (step.kind === "Job" && count("running") > 0) return "running";
  const running = count("running");
  if (running === rs.length) return "running";
  if (count("stopped") === rs.length) return "stopped";
  if (running > 0) return "degraded";
  if (count("backoff") > 0) return "restarting";
  if (count("failed") > 0) return "failed";
  return "starting";
}

/** Restarts of all of a step's replicas. */
export function stepRestarts(step: Pick<StepRecord, "replicas">): number {
  return step.replicas.reduce((n, r) => n + r.restarts, 0);
}
