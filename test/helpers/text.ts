/** Assertions over edited text files. */

/** Every line of `before` is still in `after`, in order: nothing was removed or rewritten, only lines added. */
export function keepsEveryLine(before: string, after: string): boolean {
  const a = after.split("\n");
  let i = 0;
  for (const line of before.split("\n")) {
    while (i < a.length && a[i] !== line) i++;
    if (i === a.length) return false;
    i++;
  }
  return true;
}
