/** Reconnect delays (pure): exponential from `baseMs`, capped at `capMs`, with jitter so many sources do not reconnect in step. */

/**
 * The default cap, ms. Kept short because a feed does not replay what it sent while the source was away: with
 * 10 s a reconnect could land seconds after the server was back, losing ticks beyond the outage itself.
 */
export const DEFAULT_MAX_BACKOFF_MS = 2_000;

export interface BackoffOptions {
  /** First delay, ms (default 250). */
  readonly baseMs?: number;
  /** Largest delay, ms (default DEFAULT_MAX_BACKOFF_MS, 2000). */
  readonly capMs?: number;
  /** 0..1 (default Math.random). */
  readonly random?: () => number;
}

/**
 * The delay before reconnect attempt `attempt` (0 = the first after a drop): base·2^attempt capped, then a
 * random point in its upper half ("equal jitter": never less than half, so a storm of failures still backs off).
 * @example backoffDelay(0, { random: () => 1 }) // 250; backoffDelay(10, { random: () => 1 }) // 2000
 */
export function backoffDelay(attempt: number, o: BackoffOptions = {}): number {
  const base = o.baseMs ?? 250;
  const cap = o.capMs ?? DEFAULT_MAX_BACKOFF_MS;
  const full = Math.min(cap, base * 2 ** Math.min(Math.max(0, attempt), 30));
  return Math.round(full / 2 + (full / 2) * (o.random ?? Math.random)());
}
