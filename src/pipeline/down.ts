import { readdirSync, readFileSync, rmSync } from "node:fs";
import { dockerApi } from "../infra/docker.js";
import type { Log } from "../infra/process.js";
import { pidAlive, pidRuns, stopPid } from "../infra/process.js";
import { controlDir } from "./control.js";
import { readPipelineState, removePipelineState, supervisorAlive } from "./state.js";

export interface DownResult {
  /** A pipeline was recorded here. */
  found: boolean;
  supervisorPid?: number;
  /** Processes of the pipeline that were running when `down` began. */
  running: number[];
  /** Those `down` had to end itself because the supervisor did not (it had died, or hung). */
  forced: number[];
  /** Containers of the pipeline `down` removed itself (ids), left by a supervisor that died. */
  containers: string[];
}

/**
 * Stop the pipeline recorded under `cwd`: SIGTERM its supervisor (which stops the steps and the broker/Redis
 * it started), wait, then end whatever it left behind — replicas, owned services, the process group of a
 * detached supervisor — and remove the state. Safe to run when nothing runs.
 * @example const { running, forced } = await pipelineDown(process.cwd())
 */
export async function pipelineDown(cwd: string, opts: { timeoutMs?: number; log?: Log } = {}): Promise<DownResult> {
  const state = readPipelineState(cwd);
  if (!state) return { found: false, running: [], forced: [], containers: [] };
  const log = opts.log ?? (() => undefined);
  // What counts as ours: a replica runs its step's entry point, owned services their program.
  const ours: { pid: number; needle: string }[] = [];
  for (const s of state.steps) {
    const entry = s.command[s.command.length - 1] ?? s.name;
    for (const r of s.replicas) if (r.pid !== null) ours.push({ pid: r.pid, needle: entry });
  }
  if (state.owned.broker?.pid !== undefined) ours.push({ pid: state.owned.broker.pid, needle: "kafka.Kafka" });
  if (state.owned.redis?.pid !== undefined) ours.push({ pid: state.owned.redis.pid, needle: "redis-server" });
  const sup = state.supervisor.pid;
  const supAlive = supervisorAlive(state);
  const running = [...(supAlive ? [sup] : []), ...ours.filter((o) => pidRuns(o.pid, o.needle)).map((o) => o.pid)];
  const forced: number[] = [];

  if (supAlive) {
    log(`stopping the supervisor (pid ${sup})`);
    // Its own shutdown waits up to 10 s per step and 20 s for a broker; give it that and a margin.
    await stopPid(sup, opts.timeoutMs ?? 45_000).catch(() => undefined);
    log(pidAlive(sup) ? `the supervisor (pid ${sup}) would not exit` : "supervisor stopped");
  }
  for (const o of ours) {
    if (!pidRuns(o.pid, o.needle)) continue;
    log(`ending leftover process ${o.pid}`);
    forced.push(o.pid);
    await stopPid(o.pid, 5_000).catch(() => undefined);
  }
  const group = state.supervisor.processGroup;
  if (group !== undefined && groupExists(group)) {
    log(`ending what is left of process group ${group}`);
    try {
      process.kill(-group, "SIGKILL");
    } catch {
      // gone meanwhile
    }
  }
  const containers = state.containerLabel ? await removeContainers(state.containerLabel, log) : [];
  for (const o of [state.owned.broker, state.owned.redis]) if (o?.dir) rmSync(o.dir, { recursive: true, force: true });
  removePipelineState(cwd);
  rmSync(controlDir(cwd), { recursive: true, force: true });
  return { found: true, supervisorPid: sup, running, forced, containers };
}

/** Remove the containers labelled `quixlab.pipeline=<label>` that are still there (their supervisor died); their ids. */
async function removeContainers(label: string, log: Log): Promise<string[]> {
  const filters = encodeURIComponent(JSON.stringify({ label: [`quixlab.pipeline=${label}`] }));
  const list = await dockerApi("GET", `/containers/json?all=1&filters=${filters}`).catch(() => undefined);
  if (list?.status !== 200) return [];
  const ids = (JSON.parse(list.body) as { Id: string }[]).map((c) => c.Id);
  for (const id of ids) {
    log(`removing leftover container ${id.slice(0, 12)}`);
    await dockerApi("DELETE", `/containers/${id}?force=1`).catch(() => undefined);
  }
  return ids;
}

/** True when some live process (not a zombie) is still in process group `pgid`. */
function groupExists(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  // The group answers even when only zombies are left in it; look for a live member.
  try {
    return readdirSync("/proc").some((p) => /^\d+$/.test(p) && memberOf(Number(p), pgid));
  } catch {
    return true;
  }
}

function memberOf(pid: number, pgid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // After the command: state, ppid, pgrp.
    return fields[2] === String(pgid) && fields[0] !== "Z";
  } catch {
    return false;
  }
}
