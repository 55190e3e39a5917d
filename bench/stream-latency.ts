/**
 * The stream suite's latency rows alone (no throughput rounds, no results file):
 * `node --import tsx bench/stream-latency.ts` (QUIXLAB_BENCH_RATES=2000,10000 and QUIXLAB_BENCH_LATENCY_S as for
 * `npm run bench -- stream`). For profiling a change to the step's latency in a minute instead of ten.
 */
import { table } from "./run.js";
import { latencyRows, withServices } from "./stream.js";

const rows = await withServices("stream-latency", latencyRows);
process.stdout.write(`${table(rows)}\n`);
for (const r of rows) process.stdout.write(`${r.name}: ${r.note ?? ""}\n`);
