import { prng } from "../tick/generate.js";

/**
 * Chaos: SIGKILL the step at random points and restart it at once; parity must still hold. The schedule is a pure
 * function of the seed, so a failing run can be repeated with its `seed`.
 */

/** Shortest and longest wait before each kill (ms): long enough for a restarted step to join and do some work. */
export const KILL_DELAY_MS = { min: 300, max: 2_500 } as const;

/**
 * The wait before each of `kills` kills, in ms, drawn from `seed`.
 * @example killSchedule(3, 11) // three delays in [300, 2500), the same for every call with seed 11
 */
export function killSchedule(kills: number, seed: number): number[] {
  const rnd = prng(seed);
  return Array.from({ length: kills }, () => KILL_DELAY_MS.min + rnd() * (KILL_DELAY_MS.max - KILL_DELAY_MS.min));
}

/** What chaos needs of the step: a crash and a fresh start (`StepProcess`). */
export interface Killable {
  kill(signal: "SIGKILL"): Promise<void>;
  start(): void;
  readonly pid: number | undefined;
}

export interface ChaosResult {
  kills: number;
  restarts: number;
}

/**
 * Carry out a schedule: wait, SIGKILL, restart, for each delay. `onKill` hears the running count after each kill.
 * `sleep` is replaceable for tests.
 */
export async function runChaos(
  step: Killable,
  delays: readonly number[],
  o: { onKill?(kills: number): void; log?(line: string): void; sleep?(ms: number): Promise<void> } = {},
): Promise<ChaosResult> {
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const result: ChaosResult = { kills: 0, restarts: 0 };
  for (const delay of delays) {
    await sleep(delay);
    await step.kill("SIGKILL");
    result.kills++;
    o.onKill?.(result.kills);
    step.start();
    result.restarts++;
    o.log?.(`chaos: kill ${result.kills}/${delays.length}, restarted as pid ${step.pid}`);
  }
  return result;
}
