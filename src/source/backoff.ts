/** Reconnect delays (pure): exponential from `baseMs`, capped at `capMs`, with jitter so many sources do not reconnect in step. */
export interface BackoffOptions {
  /** First delay, ms (default 250). */
  readonly baseMs?: number;
  /** Largest delay, ms (default 10 000). */
  readonly capMs?: number;
  /** 0..1 (default Math.random). */
  readonly random?: () => number;
}

/**
 * The delay before reconnect attempt `attempt` (0 = the first after a drop): base·2^attempt capped, then a
 * random point in its upper half ("equal jitter": never less than half, so a storm of failures still backs off).
 * @example backoffDelay(0, { random: () => 1 }) // 250; backoffDelay(10, { random: () => 1 }) // 10000
 */
export function backoffDelay(attempt: number, o: BackoffOptions = {}): number {
  const base = o.baseMs ?? 250;
  const cap = o.capMs ?? 10_000;
  const full = Math.min(cap, base * 2 ** Math.min(Math.max(0, attempt), 30));
  return Math.round(full / 2 + (full / 2) * (o.random ?? Math.random)());
}
