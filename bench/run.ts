/**
 * `npm run bench [-- suite…] [--list]`: runs the named suites (all by default), prints a table and writes
 * bench/results/latest.json (rows of suites not run this time are kept from the previous file).
 * A suite is a module exporting `name` and `run(): Promise<Row[]>` (`Suite` in types.ts); register it in SUITES below.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { Row, Suite } from "./types.js";

const SUITES: { name: string; load: () => Promise<Suite> }[] = [
  { name: "batch", load: () => import("./batch.js") },
  { name: "stream", load: () => import("./stream.js") },
  { name: "replay", load: () => import("./replay.js") },
  { name: "live", load: () => import("./live.js") },
  { name: "window-kinds", load: () => import("./window-kinds.js") },
  { name: "store-memory", load: () => import("./store-memory.js") },
  { name: "serving", load: () => import("./serving.js") },
  { name: "produce", load: () => import("./produce.js") },
];

const here = dirname(fileURLToPath(import.meta.url));
const LATEST = join(here, "results", "latest.json");

const fmt = (n: number) => (Math.abs(n) >= 100 ? Math.round(n).toLocaleString("en-US") : n.toPrecision(3));

/** The rows as an aligned text table. */
export function table(rows: readonly Row[]): string {
  const head = ["suite", "case", "value", "unit", "baseline", "ratio", "target", ""];
  const body = rows.map((r) => [
    r.suite,
    r.name,
    fmt(r.value),
    r.unit,
    r.baseline ? `${r.baseline.name} ${fmt(r.baseline.value)}` : "",
    r.ratio === undefined ? "" : `${r.ratio.toFixed(2)}x`,
    r.target === undefined ? "" : `>= ${r.target}x`,
    r.ok === undefined ? "" : r.ok ? "ok" : "MISSED",
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 2 || i === 5 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ").trimEnd();
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n");
}

async function main(): Promise<number> {
  const { positionals, values } = parseArgs({ allowPositionals: true, options: { list: { type: "boolean" } } });
  if (values.list) {
    process.stdout.write(`${SUITES.map((s) => s.name).join("\n")}\n`);
    return 0;
  }
  const unknown = positionals.filter((p) => !SUITES.some((s) => s.name === p));
  if (unknown.length) {
    process.stderr.write(`unknown suite ${unknown.join(", ")} — known: ${SUITES.map((s) => s.name).join(", ")}\n`);
    return 2;
  }
  const chosen = positionals.length ? SUITES.filter((s) => positionals.includes(s.name)) : SUITES;
  const rows: Row[] = [];
  for (const s of chosen) {
    process.stderr.write(`bench: ${s.name}…\n`);
    const suite = await s.load();
    rows.push(...(await suite.run()));
  }
  process.stdout.write(`${table(rows)}\n`);
  let previous: Row[] = [];
  try {
    previous = (JSON.parse(readFileSync(LATEST, "utf8")) as { rows: Row[] }).rows ?? [];
  } catch {
    // First run, or an unreadable file: start afresh.
  }
  const ran = new Set(chosen.map((s) => s.name));
  const merged = [...previous.filter((r) => !ran.has(r.suite)), ...rows];
  mkdirSync(dirname(LATEST), { recursive: true });
  const meta = { date: new Date().toISOString(), node: process.version, platform: `${process.platform}-${process.arch}`, cpus: cpus().length, cpu: cpus()[0]?.model };
  writeFileSync(LATEST, `${JSON.stringify({ ...meta, rows: merged }, null, 2)}\n`);
  process.stderr.write(`bench: wrote ${LATEST}\n`);
  return rows.some((r) => r.ok === false) ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = await main();
