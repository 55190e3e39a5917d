/**
 * Write a synthetic Coinbase ticker recording (JSON Lines) without the CLI, for replay tests and benches:
 *   node --import tsx bench/gen-ticks.ts out.jsonl --n 100000 [--seed 1] [--products 3|BTC-USD,ETH-USD]
 *     [--gaps] [--out-of-order-ms 1500] [--malformed-rate 0.01] [--interval-ms 10] [--start 2023-06-09T12:00:00Z]
 * Deterministic for a given seed. Keep --out-of-order-ms at or below the feature's grace for a late-free file.
 */
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { type GenerateOptions, writeTicksFile } from "../src/tick/generate.js";
import { parseIsoTime } from "../src/tick/time.js";

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      n: { type: "string", default: "100000" },
      seed: { type: "string", default: "1" },
      products: { type: "string", default: "3" },
      gaps: { type: "boolean", default: false },
      "out-of-order-ms": { type: "string", default: "0" },
      "malformed-rate": { type: "string", default: "0" },
      "interval-ms": { type: "string", default: "10" },
      start: { type: "string" },
    },
  });
  const out = positionals[0];
  if (!out) {
    process.stderr.write("usage: node --import tsx bench/gen-ticks.ts out.jsonl [--n N] [--seed S] [--gaps] …\n");
    return 2;
  }
  const products = /^\d+$/.test(values.products) ? Number(values.products) : values.products.split(",");
  const opts: GenerateOptions = {
    n: Number(values.n),
    seed: Number(values.seed),
    products,
    gaps: values.gaps,
    outOfOrderMs: Number(values["out-of-order-ms"]),
    malformedRate: Number(values["malformed-rate"]),
    intervalMs: Number(values["interval-ms"]),
    startMs: values.start === undefined ? undefined : parseIsoTime(values.start),
  };
  const { lines, bytes } = await writeTicksFile(resolve(out), opts);
  process.stderr.write(`wrote ${lines} lines (${(bytes / 1e6).toFixed(1)} MB) to ${out}\n`);
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) process.exitCode = await main();
