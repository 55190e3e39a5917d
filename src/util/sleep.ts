/**
 * Wait `ms`, or less when `signal` aborts (resolves, never rejects): how a stopping loop stops waiting at once.
 * @example await sleep(backoff, stop.signal); if (stop.signal.aborted) return;
 */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
