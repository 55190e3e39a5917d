/**
 * Micro-benchmark of the tick byte scanner, outside Kafka: the work `decodeMessage` does per message (scan + tick())
 * and the work the JSONL reader does per line (scan + the four fields), over generated ticks each in its own Buffer
 * as kafkajs hands them; then decode again over the same ticks spaced as Python's json.dumps writes them (the
 * scanner's general path). Best of several rounds, in ns per tick.
 *
 *   node --import tsx bench/scan-micro.ts [path/to/other/scan.ts]   # another TickLineScanner, e.g. an old copy
 *
 * An old copy outside this package needs a package.json with "type": "module" beside it: without one tsx loads it as
 * CommonJS, where module constants are compiled differently, and the comparison measures that instead.
 *
 * Env: QUIXLAB_SCAN_TICKS (default 300,000), QUIXLAB_SCAN_ROUNDS (default 15).
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { generateTickLines } from "../src/tick/generate.js";
import { TickLineScanner as Current } from "../src/tick/scan.js";

interface Scanner {
  productId: string;
  price: number;
  size: number;
  time: number;
  scan(buf: Uint8Array, from: number, to: number): boolean;
  tick(): { price: number; time: number };
}

const n = Number(process.env.QUIXLAB_SCAN_TICKS ?? 300_000);
const rounds = Number(process.env.QUIXLAB_SCAN_ROUNDS ?? 15);
const other = process.argv[2];
const Impl: new () => Scanner = other ? (await import(pathToFileURL(resolve(other)).href)).TickLineScanner : Current;

const lines = [...generateTickLines({ n, products: 3, seed: 7, outOfOrderMs: 500 })];
const compact = lines.map((line) => Buffer.from(line));
// The same ticks as Python's json.dumps writes them (`", "` and `": "`): no value holds a quote, comma or `":`.
const spaced = lines.map((line) => Buffer.from(line.replaceAll(',"', ', "').replaceAll('":', '": ')));
const bytes = compact.reduce((s, b) => s + b.length, 0);

// Each round returns a checksum so the work cannot be optimised away, and so two implementations can be compared.
function decodeRound(scanner: Scanner, bufs = compact): number {
  let sum = 0;
  for (const b of bufs) {
    if (!scanner.scan(b, 0, b.length)) throw new Error(`declined a generated tick: ${b.toString()}`);
    const t = scanner.tick();
    sum += t.price + (t.time & 1023);
  }
  return sum;
}

function fieldsRound(scanner: Scanner): number {
  let sum = 0;
  for (const b of compact) {
    if (!scanner.scan(b, 0, b.length)) throw new Error(`declined a generated tick: ${b.toString()}`);
    sum += scanner.price + scanner.size + (scanner.time & 1023) + scanner.productId.length;
  }
  return sum;
}

function best(label: string, round: (s: Scanner) => number): void {
  const scanner = new Impl();
  let min = Number.POSITIVE_INFINITY;
  let check = 0;
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    check = round(scanner);
    min = Math.min(min, Number(process.hrtime.bigint() - t0));
  }
  console.log(`${label.padEnd(28)} ${(min / n).toFixed(1).padStart(7)} ns/tick  (best of ${rounds}, checksum ${check.toFixed(2)})`);
}

console.log(`${other ?? "src/tick/scan.ts"}: ${n} ticks, ${(bytes / n).toFixed(0)} bytes each, node ${process.version}`);
best("scan + tick() (decode)", decodeRound);
best("scan + fields (JSONL read)", fieldsRound);
best("scan + tick(), spaced JSON", (s) => decodeRound(s, spaced));
