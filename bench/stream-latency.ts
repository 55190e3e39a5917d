/**
 * The stream suite's latency rows alone (no throughput rounds, no results file):
 * `node --import tsx bench/stream-latency.ts` (QUIXLAB_BENCH_RATES=2000,10000 and QUIXLAB_BENCH_LATENCY_S as for
 * `npm run bench -- stream`; QUIXLAB_BENCH_LATENCY_DISK=0 leaves out the 10k row on disk). For profiling a change to
 * the step's latency in a minute instead of ten.
 */
import { table } from "./run.js";
import { diskLatencyRows, latencyRows, withServices } from "./stream.js";

let fs = "";
const rows = await withServices("stream-latency", (s) => {
  fs = s.brokerFs;
  return latencyRows(s);
});
rows.push(...(await diskLatencyRows(fs)));
process.stdout.write(`${table(rows)}\n`);
for (const r of rows) process.stdout.write(`${r.name}: ${r.note ?? ""}\n`);
