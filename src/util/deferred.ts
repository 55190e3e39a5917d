/**
 * A promise with its resolve and reject outside it (Node 22's Promise.withResolvers, which Node 20 lacks).
 * @example const ready = deferred(); setTimeout(ready.resolve, 10); await ready.promise
 */
export function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void } {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
