/**
 * Asking a running supervisor to do something (today: restart a step). A request is a small JSON file in
 * `.quixlab/control/`, written atomically, followed by SIGUSR2 to wake the supervisor; the supervisor also
 * looks every second, so a lost signal only delays it.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CheckFailedError, InputError } from "../errors/index.js";
import { stateDir } from "../util/paths.js";
import { readPipelineState, supervisorAlive } from "./state.js";

export interface ControlRequest {
  action: "restart";
  step: string;
}

export function controlDir(cwd: string): string {
  return join(stateDir(cwd), "control");
}

/**
 * Ask the running pipeline's supervisor to restart every replica of `step` (SIGTERM, then start again).
 * @example await requestRestart(process.cwd(), "ohlc-1m")
 */
export function requestRestart(cwd: string, step: string): void {
  const state = readPipelineState(cwd);
  if (!state || !supervisorAlive(state)) {
    throw new CheckFailedError("no pipeline is running here", { remedy: "start one with 'quixlab up'" });
  }
  if (!state.steps.some((s) => s.name === step)) {
    throw new InputError(`no step named "${step}" in the running pipeline`, {
      remedy: `use one of: ${state.steps.map((s) => s.name).join(", ")}`,
      context: { field: "step" },
    });
  }
  const dir = controlDir(cwd);
  mkdirSync(dir, { recursive: true });
  const name = `${Date.now()}-${randomBytes(4).toString("hex")}`;
  writeFileSync(join(dir, `.${name}.tmp`), JSON.stringify({ action: "restart", step } satisfies ControlRequest));
  renameSync(join(dir, `.${name}.tmp`), join(dir, `${name}.json`));
  try {
    process.kill(state.supervisor.pid, "SIGUSR2");
  } catch {
    // It will still find the request on its next look.
  }
}

/** Take (read and delete) the pending requests, oldest first; unreadable files are dropped. */
export function takeRequests(cwd: string): ControlRequest[] {
  const dir = controlDir(cwd);
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith(".json") && !n.startsWith(".")).sort();
  } catch {
    return [];
  }
  const out: ControlRequest[] = [];
  for (const n of names) {
    const file = join(dir, n);
    try {
      const r = JSON.parse(readFileSync(file, "utf8")) as Partial<ControlRequest>;
      if (r.action === "restart" && typeof r.step === "string") out.push({ action: "restart", step: r.step });
    } catch {
      // A request we cannot read is not one we can act on.
    }
    rmSync(file, { force: true });
  }
  return out;
}
