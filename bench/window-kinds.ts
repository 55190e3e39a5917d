/**
 * Sliding and session OHLCV throughput against pandas on the same generated data, in the same run (#16):
 *  - from the JSON Lines file: feature.batchRecords(file) vs pandas read_json + convert + the window computation
 *    (the read timed once, the compute best of 3, as the batch suite's file row counts pandas);
 *  - from parsed ticks: feature.batchRecords(ticks) vs pandas compute only (its sort included: the ticks carry
 *    disorder).
 * sliding 60 s: pandas groupby(product).rolling("60s", on=time, closed="right"), the last row per timestamp kept;
 * session 30 s gap: pandas sort, diff() >= gap cumsum session ids, groupby agg (bench/pandas_kinds.py).
 * Every quixlab result must match pandas' in windows and in their tick counts, or the suite fails: a bench that
 * measures a wrong result is worthless.
 * Size: QUIXLAB_BENCH_N ticks (default 1,000,000) over 3 products, with silences so sessions end.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { defineFeature } from "../src/feature/define.js";
import { ohlcv } from "../src/feature/ohlcv.js";
import type { BatchResult } from "../src/feature/types.js";
import { columnTick } from "../src/tick/columns.js";
import { writeTicksFile } from "../src/tick/generate.js";
import { readTickColumns } from "../src/tick/read.js";
import { session, sliding } from "../src/window/spec.js";
import { best } from "./time.js";
import type { Row } from "./types.js";

export const name = "window-kinds";

const exec = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));

const SLIDING_MS = 60_000;
const GAP_MS = 30_000;

/** Windows, and the sum and sum of squares of their tick counts: equal shapes mean the same windows, almost surely. */
interface Shape {
  windows: number;
  ticks: number;
  ticks_sq: number;
}

interface Pandas {
  pandas: string;
  ticks: number;
  read_s: number;
  sliding_s: number;
  session_s: number;
  sliding: Shape;
  session: Shape;
}

function shapeOf(r: BatchResult<{ count: number }>): Shape {
  let ticks = 0;
  let sq = 0;
  for (const w of r.records) {
    ticks += w.count;
    sq += w.count * w.count;
  }
  return { windows: r.records.length, ticks, ticks_sq: sq };
}

/** Throws unless quixlab's windows match pandas' and no tick was late (a late tick would be dropped, not windowed). */
function check(what: string, r: BatchResult<{ count: number }>, pandas: Shape): void {
  const ours = shapeOf(r);
  if (r.late > 0 || ours.windows !== pandas.windows || ours.ticks !== pandas.ticks || ours.ticks_sq !== pandas.ticks_sq) {
    throw new Error(
      `bench ${name}: ${what} disagrees with pandas (quixlab ${JSON.stringify({ ...ours, late: r.late })}, pandas ${JSON.stringify(pandas)}); ` +
        "fix the window or the baseline before trusting any figure",
    );
  }
}

/** Generate the data, run pandas and quixlab on it, return the comparison rows. */
export async function run(): Promise<Row[]> {
  const n = Number(process.env.QUIXLAB_BENCH_N ?? 1_000_000);
  const dir = mkdtempSync(join(tmpdir(), "quixlab-bench-"));
  try {
    const file = join(dir, "ticks.jsonl");
    process.stderr.write(`bench ${name}: generating ${n.toLocaleString("en-US")} ticks…\n`);
    // Disorder within the 2 s grace keeps every tick on time, so pandas (which sorts) computes the same windows;
    // the silences (90 s – 3 h) are what end sessions: without them each product would be one session.
    const { bytes } = await writeTicksFile(file, { n, products: 3, seed: 42, outOfOrderMs: 500, gaps: true });

    process.stderr.write(`bench ${name}: pandas…\n`);
    const { stdout } = await exec("python3", [join(here, "pandas_kinds.py"), file, String(SLIDING_MS), String(GAP_MS), "3"], { maxBuffer: 1 << 20 });
    const pd = JSON.parse(stdout) as Pandas;

    const kinds = [
      { kind: "sliding" as const, label: "sliding 60s", window: sliding(SLIDING_MS, { grace: "2s" }), pandasS: pd.sliding_s, shape: pd.sliding,
        how: 'sort + groupby.rolling("60s", closed="right") + searchsorted open, last row per timestamp' },
      { kind: "session" as const, label: "session gap 30s", window: session(GAP_MS, { grace: "2s" }), pandasS: pd.session_s, shape: pd.session,
        how: "sort + diff() >= gap cumsum + groupby.agg" },
    ];
    const features = kinds.map((k) => defineFeature({ name: `bench_${k.kind}`, window: k.window, agg: ohlcv() }));
    process.stderr.write(`bench ${name}: quixlab from the file…\n`);
    const fromFile: number[] = [];
    for (const [i, k] of kinds.entries()) {
      const r = await best(2, () => features[i]!.batchRecords(file));
      check(`${k.label} from the file`, r.result, k.shape);
      fromFile.push(r.s);
    }
    // Parsed after the file runs, so a million tick objects on the heap do not slow those.
    process.stderr.write(`bench ${name}: quixlab from parsed ticks…\n`);
    const { columns } = await readTickColumns(file);
    const ticks = Array.from({ length: columns.n }, (_, i) => columnTick(columns, i));
    const row = (nameOf: string, ours: number, pandas: number, note: string): Row => ({
      suite: name,
      name: nameOf,
      value: ours,
      unit: "ticks/s",
      baseline: { name: `pandas ${pd.pandas}`, value: pandas },
      ratio: ours / pandas,
      note,
    });
    const rows: Row[] = [];
    for (const [i, k] of kinds.entries()) {
      const fromTicks = await best(2, () => features[i]!.batchRecords(ticks));
      check(`${k.label} from parsed ticks`, fromTicks.result, k.shape);
      const agree = `${k.shape.windows.toLocaleString("en-US")} windows agree`;
      rows.push(
        row(`${k.label}, JSONL file (${(bytes / 1e6).toFixed(0)} MB)`, n / fromFile[i]!, n / (pd.read_s + k.pandasS),
          `read + validate + window, best of 2, vs read_json + convert (once) + ${k.how} (best of 3); ${agree}`),
        row(`${k.label}, parsed ticks`, n / fromTicks.s, n / k.pandasS, `validate + window, best of 2, vs pandas compute only, best of 3; ${agree}`),
      );
    }
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
