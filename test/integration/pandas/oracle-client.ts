import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import type { Ohlcv } from "../../../src/feature/ohlcv.js";
import type { WindowRecord } from "../../../src/feature/types.js";

const run = promisify(execFile);
const ORACLE = join(resolve(import.meta.dirname, "../../.."), "test/integration/pandas/oracle.py");

/** A window as our batch and stream write it (and as the oracle prints it). */
export type Bar = WindowRecord<Ohlcv>;

export interface OracleWindow {
  kind: "tumbling" | "hopping";
  sizeMs: number;
  stepMs?: number;
  origin?: "epoch" | "start";
}

/** The independent pandas oracle's windows for a file (python3 + pandas, run here and now). */
export async function pandasOracle(file: string, w: OracleWindow, csvMap?: string): Promise<{ records: Bar[]; summary: { ticks: number; rejected: number; windows: number } }> {
  const args = [ORACLE, file, "--kind", w.kind, "--size-ms", String(w.sizeMs), "--origin", w.origin ?? "epoch"];
  if (w.stepMs) args.push("--step-ms", String(w.stepMs));
  if (csvMap) args.push("--csv-map", csvMap);
  const { stdout } = await run("python3", args, { maxBuffer: 1 << 30 });
  const lines = stdout.trim().split("\n").map((l) => JSON.parse(l));
  const summary = lines.pop().summary;
  return { records: lines, summary };
}

/** Window-for-window equality: same (key, start, end) set, OHLC and count exact, volume within 1e-9 relative. */
export function assertSameBars(ours: readonly Bar[], theirs: readonly Bar[], label: string): void {
  const id = (b: Bar) => `${b.key}|${b.start}|${b.end}`;
  const want = new Map(theirs.map((b) => [id(b), b]));
  const got = new Map(ours.map((b) => [id(b), b]));
  const missing = [...want.keys()].filter((k) => !got.has(k));
  const extra = [...got.keys()].filter((k) => !want.has(k));
  assert.deepEqual({ missing: missing.slice(0, 5), extra: extra.slice(0, 5) }, { missing: [], extra: [] }, `${label}: window sets differ`);
  // Equal sets, so a count that differs means a window we wrote twice.
  assert.equal(ours.length, theirs.length, `${label}: window count ours ${ours.length} vs pandas ${theirs.length}`);
  for (const [k, t] of want) {
    const o = got.get(k)!;
    for (const f of ["open", "high", "low", "close", "count"] as const) assert.equal(o[f], t[f], `${label}: ${k} ${f}`);
    const tol = 1e-9 * Math.max(Math.abs(o.volume), Math.abs(t.volume));
    assert.ok(Math.abs(o.volume - t.volume) <= tol, `${label}: ${k} volume ${o.volume} vs ${t.volume}`);
  }
}
