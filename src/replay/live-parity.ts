import type { WindowRecord } from "../window/types.js";
import { diffRecords, windowId } from "./parity.js";

/**
 * Parity as the output arrives: once the batch result is known, each window the step writes is checked against it
 * when it is read, so the progress shows matched and differing windows while the replay runs (and a run whose
 * stream differs says so long before its end). The verdict stays `compareWindows`' over everything at the end.
 */
export class LiveParity {
  private expected?: Map<string, WindowRecord>;
  private checked = 0;
  private readonly matchedIds = new Set<string>();
  private readonly differingIds = new Set<string>();

  /** The batch result arrived. */
  expect(records: readonly WindowRecord[]): void {
    this.expected = new Map(records.map((r) => [windowId(r), r]));
  }

  /** Check the windows read since the last call (`all` grows by appending); false while the batch is not known. */
  check(all: readonly WindowRecord[]): boolean {
    if (!this.expected) return false;
    for (; this.checked < all.length; this.checked++) {
      const w = all[this.checked]!;
      const id = windowId(w);
      const e = this.expected.get(id);
      // A redelivered window counts once; one that differs once stays differing.
      if (e && diffRecords(e, w, 0).length === 0 && !this.differingIds.has(id)) this.matchedIds.add(id);
      else {
        this.matchedIds.delete(id);
        this.differingIds.add(id);
      }
    }
    return true;
  }

  /** Distinct windows equal to batch so far. */
  get matched(): number {
    return this.matchedIds.size;
  }

  /** Distinct windows that differ from batch, or that batch does not have, so far. */
  get differing(): number {
    return this.differingIds.size;
  }
}
