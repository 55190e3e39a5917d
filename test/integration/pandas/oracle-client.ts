import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join, resolve } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const ORACLE = join(resolve(import.meta.dirname, "../../.."), "test/integration/pandas/oracle.py");

export interface Bar {
  key: string;
  start: number;
  end: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  count: number;
}

export interface OracleWindow {
  kind: "tumbling" | "hopping";
  sizeMs: number;
  stepMs?: number;
  origin?: "epoch" | "start";
}

/** The independent pandas oracle's windows for a file (python3 + pandas, run here and now). */
export async function pandasOracle(file: string, w: OracleWindow, csvMap?: string): Promise<{ records: Bar[]; summary: { ticks: number; rejected: number } }> {
  const args = [ORACLE, file, "--kind", w.kind, "--size-ms", String(w.sizeMs), "--origin", w.origin ?? "epoch"];
  if (w.stepMs) args.push("--step-ms", String(w.stepMs));
  if (csvMap) args.push("--csv-map", csvMap);
  const { stdout } = await run("python3", args, { maxBuffer: 1 << 30 });
  const lines = stdout.trim().split("\n").map((l) => JSON.parse(l));
  const summary = lines.pop().summary;
  return { records: lines, summary };
}

/** Window-for-window equality: same (key, start, end) set, OHLC and count exact, volume within 1e-9 relative. */
export function assertSameBars(ours: Bar[], theirs: Bar[], label: string): void {
  const id = (b: Bar) => `${b.key}|${b.start}|${b.end}`;
  const mine = new Map(ours.map((b) => [id(b), b]));
  assert.equal(mine.size, ours.length, `${label}: duplicate windows in our output`);
  assert.equal(ours.length, theirs.length, `${label}: window count ours ${ours.length} vs pandas ${theirs.length}`);
  for (const t of theirs) {
    const o = mine.get(id(t));
    assert.ok(o, `${label}: pandas has ${id(t)}, we do not`);
    for (const f of ["open", "high", "low", "close", "count"] as const) assert.equal(o[f], t[f], `${label}: ${id(t)} ${f}`);
    const tol = 1e-9 * Math.max(Math.abs(o.volume), Math.abs(t.volume));
    assert.ok(Math.abs(o.volume - t.volume) <= tol, `${label}: ${id(t)} volume ${o.volume} vs ${t.volume}`);
  }
}
