/** Timing helpers shared by the suites. */

/** Fastest of `repeat` runs of `fn`, in seconds, with the last run's result. */
export async function best<T>(repeat: number, fn: () => T | Promise<T>): Promise<{ s: number; result: T }> {
  let s = Number.POSITIVE_INFINITY;
  let result!: T;
  for (let i = 0; i < repeat; i++) {
    const t = performance.now();
    result = await fn();
    s = Math.min(s, (performance.now() - t) / 1000);
  }
  return { s, result };
}
