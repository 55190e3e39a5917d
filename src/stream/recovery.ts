/**
 * What to do with a fetched batch of an assigned partition, given the state the step holds for it: the pure core
 * of recovery (the changelog read and the seeks are restore.ts and loop.ts). The checkpoint is the truth: the
 * group's committed offset can trail it after a crash between the changelog write and the commit.
 */

/** The state of a partition as the decision sees it; undefined when the step holds none (never restored). */
export interface PartitionView {
  /** Position of the processor (the next offset it expects); undefined when it has none yet. */
  position?: number;
  /** The position came from the changelog and no fetch has matched it yet. */
  restored: boolean;
  /** Seeks to the checkpoint tried so far without the fetch arriving there. */
  seeks: number;
}

export type Decision =
  /** Read the changelog first; `replace`: the state held is stale (another replica moved the partition). */
  | { kind: "restore"; replace: boolean }
  /** Start an empty engine at the fetch position (no checkpoint, or the fetch never reaches it). */
  | { kind: "fresh"; why: "no checkpoint" | "seek failed" }
  /** Skip the batch and fetch from the checkpoint's offset. */
  | { kind: "seek"; to: number }
  /** The state continues at the fetch position: process the batch. */
  | { kind: "process" };

/** A partition whose fetch does not arrive at its checkpoint after this many seeks starts empty where it is. */
export const MAX_SEEKS = 3;

/**
 * Decide for one batch fetched at `fetched`.
 * @example decide(undefined, 0) // { kind: "restore", replace: false }
 */
export function decide(st: PartitionView | undefined, fetched: number): Decision {
  if (!st) return { kind: "restore", replace: false };
  if (st.position === undefined) return { kind: "fresh", why: "no checkpoint" };
  if (st.position === fetched) return { kind: "process" };
  // Matched a fetch once, so the partition was processed here; a fetch elsewhere means another replica had it.
  if (!st.restored) return { kind: "restore", replace: true };
  if (st.seeks >= MAX_SEEKS) return { kind: "fresh", why: "seek failed" };
  return { kind: "seek", to: st.position };
}
