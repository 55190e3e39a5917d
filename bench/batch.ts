/**
 * Batch OHLCV throughput against pandas on the same generated data, in the same run:
 *  - from parsed columns: our single-pass loop over typed arrays vs pandas groupby(product).resample().agg()
 *    (pandas timed inside Python, compute only, no sort — the conservative comparison);
 *  - from the JSON Lines file: feature.batchRecords(file) vs pandas read_json + convert + resample.
 * Size: QUIXLAB_BENCH_N ticks (default 1,000,000) over 3 products.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { ohlcvTumblingColumns } from "../src/feature/fast.js";
import { ohlc, ohlc1h, ohlc1m } from "../src/feature/shipped/ohlc.js";
import { columnTick } from "../src/tick/columns.js";
import { writeTicksFile } from "../src/tick/generate.js";
import { readTickColumns } from "../src/tick/read.js";
import { best } from "./time.js";
import type { Row } from "./types.js";

export const name = "batch";

const exec = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));

interface Pandas {
  pandas: string;
  ticks: number;
  read_s: number;
  file_total_s: number;
  compute_1m_s: number;
  compute_1h_s: number;
  windows_1m: number;
  windows_1h: number;
}

/** Generate the data, run pandas and quixlab on it, return the comparison rows. */
export async function run(): Promise<Row[]> {
  const n = Number(process.env.QUIXLAB_BENCH_N ?? 1_000_000);
  const dir = mkdtempSync(join(tmpdir(), "quixlab-bench-"));
  try {
    const file = join(dir, "ticks.jsonl");
    process.stderr.write(`bench batch: generating ${n.toLocaleString("en-US")} ticks…\n`);
    // Disorder within the 2 s grace keeps every tick on time, so pandas (which sorts) computes the same windows.
    const { bytes } = await writeTicksFile(file, { n, products: 3, seed: 42, outOfOrderMs: 500 });

    process.stderr.write("bench batch: pandas…\n");
    const { stdout } = await exec("python3", [join(here, "pandas_batch.py"), file, "5"], { maxBuffer: 1 << 20 });
    const pd = JSON.parse(stdout) as Pandas;

    process.stderr.write("bench batch: quixlab…\n");
    const { columns } = await readTickColumns(file);
    const c1m = await best(7, () => ohlcvTumblingColumns(columns, ohlc1m.window));
    const c1h = await best(7, () => ohlcvTumblingColumns(columns, ohlc1h.window));
    const fromFile = await best(3, () => ohlc1m.batchRecords(file));
    // The hopping feature runs on the generic engine (60 window updates per tick): a fifth of the ticks.
    const hopTicks = Array.from({ length: Math.floor(n / 5) }, (_, i) => columnTick(columns, i));
    const hop = await best(1, () => ohlc({ size: "60s", step: "1s" }).batchRecords(hopTicks));

    for (const [what, ours, theirs] of [
      ["1m", c1m.result.records.length, pd.windows_1m],
      ["1h", c1h.result.records.length, pd.windows_1h],
    ] as const) {
      if (ours !== theirs) throw new Error(`bench batch: ${what} window counts differ (quixlab ${ours}, pandas ${theirs})`);
    }
    const rate = (s: number, count = n) => count / s;
    const row = (nameOf: string, ours: number, pandas: number, target: number, note: string): Row => ({
      suite: name,
      name: nameOf,
      value: ours,
      unit: "ticks/s",
      baseline: { name: `pandas ${pd.pandas}`, value: pandas },
      ratio: ours / pandas,
      target,
      ok: ours / pandas >= target,
      note,
    });
    return [
      row("ohlcv 1m, parsed columns", rate(c1m.s), rate(pd.compute_1m_s), 3, "groupby+resample, best of 5 vs best of 7"),
      row("ohlcv 1h, parsed columns", rate(c1h.s), rate(pd.compute_1h_s), 3, "groupby+resample"),
      row(`ohlcv 1m, JSONL file (${(bytes / 1e6).toFixed(0)} MB)`, rate(fromFile.s), rate(pd.file_total_s), 1, "read + validate + window vs read_json + convert + resample"),
      { suite: name, name: "ohlcv 60s/1s hopping, engine", value: rate(hop.s, hopTicks.length), unit: "ticks/s", note: `${hopTicks.length} ticks, 60 windows each` },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
