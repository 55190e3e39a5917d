import { createWriteStream } from "node:fs";
import { once } from "node:events";
import { writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { candlestickSvg } from "../../src/chart/candles.js";
import { InputError } from "../../src/errors/index.js";
import { loadFeatureRef } from "../../src/feature/ref.js";
import type { WindowRecord } from "../../src/feature/types.js";
import type { TickFormat } from "../../src/tick/read.js";
import type { Rejection } from "../../src/tick/types.js";
import { describeWindow } from "../../src/window/spec.js";
import { parse } from "../args.js";
import type { Command, CommandIO } from "../io.js";
// Aliased: a name starting with "use" reads as a React hook to the linter.
import { paint, useColor as colorOn } from "../io.js";

const usage =
  "quixlab batch <module.ts#export> --ticks <file> [--format jsonl|csv|table] [--out file] [--csv-map MAP] [--input-format jsonl|json|csv] [--partitions N] [--chart out.svg] [--json]";

type OutFormat = "jsonl" | "csv" | "table";

const command: Command = {
  summary: "run a feature over a ticks file in batch and print its windows",
  help: `usage: ${usage}

Runs the feature over every tick of the file (JSON Lines, JSON array or CSV) and writes one record per
(key, window), sorted by key then window start:
  {"key":"ETH-USD","start":1686313560000,"end":1686313620000,"open":…,"high":…,"low":…,"close":…,"volume":…,"count":49}
Invalid lines are counted and the first few reasons (with line numbers) go to stderr; late ticks (in a window
already final for their key) are counted and dropped, as the stream step would drop them.

options:
  --ticks FILE          ticks file (required): .jsonl/.ndjson, .json or .csv
  --format F            jsonl, csv or table (default: table on a terminal, jsonl otherwise)
  --out FILE            write the records to FILE instead of stdout
  --csv-map MAP         CSV column mapping, e.g. product_id=symbol,price=price,last_size=amount,time=timestamp:us
                        (time units :s :ms :us :ns; none = ISO text). Default: the header's names, or Tardis trades.
  --input-format F      force the ticks format: jsonl, json or csv (default: from the extension)
  --partitions N        the input topic's partition count, for a feature with closing: "partition" (each
                        partition's watermark closes its windows, as on the stream; ticks go to partitions by
                        product_id as Kafka's default partitioner puts them). Default 1; other features ignore it.
  --chart FILE          also write a candlestick chart (SVG) of one key's windows
  --chart-key KEY       which key to chart (default: the first)
  --json                print a JSON summary on stdout (records go only to --out)

examples:
  quixlab batch src/feature/shipped/ohlc.ts#ohlc1m --ticks data/coinbase-ticker-2021-04-17.jsonl
  quixlab batch src/feature/shipped/ohlc.ts#ohlc1h --ticks data/binance-futures-btcusdt-trades-2020-02-22.csv --chart btc.svg

exit codes: 0 done, 2 bad flags, unreadable file or bad feature reference`,

  async run(argv, io) {
    const { values, positionals } = parse(
      argv,
      {
        ticks: { type: "string" },
        format: { type: "string" },
        out: { type: "string", short: "o" },
        "csv-map": { type: "string" },
        "input-format": { type: "string" },
        partitions: { type: "string" },
        chart: { type: "string" },
        "chart-key": { type: "string" },
        json: { type: "boolean" },
      },
      usage,
    );
    const ref = positionals[0];
    if (!ref) throw new InputError("missing the feature reference", { remedy: `usage: ${usage}` });
    if (positionals.length > 1) throw new InputError(`unexpected argument '${positionals[1]}'`, { remedy: `usage: ${usage}` });
    if (!values.ticks) throw new InputError("missing --ticks", { remedy: `usage: ${usage}` });
    const format = (values.format ?? (io.stdout.isTTY && !values.out ? "table" : "jsonl")) as OutFormat;
    if (!["jsonl", "csv", "table"].includes(format)) throw new InputError(`bad --format '${format}'`, { remedy: "use jsonl, csv or table" });

    const partitions = partitionsFlag(values.partitions);

    const feature = await loadFeatureRef(ref, io.cwd);
    if (feature.window.closing === "partition" && partitions === undefined) {
      const line = `${feature.name} closes windows by the input partition (closing: "partition"): this result assumes 1 partition; pass --partitions N (the input topic's partition count) to match the stream`;
      io.stderr.write(`${paint(colorOn(io.stderr, io.env), 33, `warning: ${line}`)}\n`);
    }
    const ticksPath = resolve(io.cwd, values.ticks);
    const progress = progressBar(io);
    const started = Date.now();
    const result = await feature.batchRecords(ticksPath, {
      onProgress: progress.update,
      partitions,
      read: { format: values["input-format"] as TickFormat | undefined, csvMap: values["csv-map"] },
    }).finally(progress.done);
    const durationMs = Date.now() - started;

    const records = result.records as WindowRecord[];
    const text = render(records, format, colorOn(io.stdout, io.env));
    if (values.out) await writeChunks(resolve(io.cwd, values.out), text);
    else if (!values.json) await writeOut(io.stdout, text);

    let chart: string | null = null;
    if (values.chart) {
      const key = values["chart-key"] ?? records[0]?.key;
      if (key !== undefined && !records.some((r) => r.key === key)) {
        throw new InputError(`--chart-key '${key}' has no windows`, { remedy: `use one of ${[...new Set(records.map((r) => r.key))].slice(0, 10).join(", ")}` });
      }
      chart = resolve(io.cwd, values.chart);
      const svg = candlestickSvg(records as never, { key, title: `${feature.name} · ${key ?? "no data"} · ${describeWindow(feature.window)}` });
      await writeFile(chart, svg);
    }

    const color = colorOn(io.stderr, io.env);
    if (values.json) {
      const summary = {
        feature: { ref, name: feature.name, version: feature.version },
        ticksFile: ticksPath,
        ticks: result.ticks,
        rejected: result.rejected,
        late: result.late,
        windows: records.length,
        rejections: result.rejections.slice(0, 20).map(({ line, reason, field, detail }) => ({ line, reason, field, detail })),
        out: values.out ? resolve(io.cwd, values.out) : null,
        chart,
        durationMs,
      };
      io.stdout.write(`${JSON.stringify(summary)}\n`);
    } else {
      io.stderr.write(summaryText(result, records.length, durationMs, color));
    }
    return 0;
  },
};

export default command;

/** --partitions as a count: a whole number >= 1 (undefined when absent). */
function partitionsFlag(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = /^\d+$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new InputError(`bad --partitions '${text}'`, { remedy: "give the input topic's partition count, a whole number >= 1 (e.g. --partitions 3)", context: { field: "partitions" } });
  }
  return n;
}

function summaryText(r: { ticks: number; rejected: number; late: number; rejections: Rejection[] }, windows: number, ms: number, color: boolean): string {
  const lines = [`${r.ticks.toLocaleString("en-US")} ticks → ${windows.toLocaleString("en-US")} windows in ${ms} ms`];
  if (r.late) lines.push(paint(color, 33, `${r.late.toLocaleString("en-US")} late ticks dropped (their window was already final)`));
  if (r.rejected) {
    lines.push(paint(color, 33, `${r.rejected.toLocaleString("en-US")} lines rejected`) + ", first reasons:");
    for (const x of r.rejections.slice(0, 5)) {
      lines.push(`  line ${x.line ?? "?"}: ${x.reason}${x.field ? ` (${x.field})` : ""}${x.detail ? ` — ${x.detail}` : ""}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

/** Records as text chunks in the chosen format (chunked so a large result is never one giant string). */
function* render(records: readonly WindowRecord[], format: OutFormat, color: boolean): Generator<string> {
  if (format === "jsonl") {
    for (let i = 0; i < records.length; i += 5000) yield `${records.slice(i, i + 5000).map((r) => JSON.stringify(r)).join("\n")}\n`;
    return;
  }
  const first = records[0];
  const cols = first ? Object.keys(first) : ["key", "start", "end"];
  if (format === "csv") {
    const cell = (v: unknown) => {
      const s = v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v);
      return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
    };
    yield `${cols.join(",")}\n`;
    for (let i = 0; i < records.length; i += 5000) {
      yield `${records.slice(i, i + 5000).map((r) => cols.map((c) => cell(r[c])).join(",")).join("\n")}\n`;
    }
    return;
  }
  const show = (c: string, v: unknown) =>
    (c === "start" || c === "end") && typeof v === "number" ? new Date(v).toISOString().replace(".000Z", "Z") : typeof v === "object" ? JSON.stringify(v) : String(v);
  const cells = records.map((r) => cols.map((c) => show(c, r[c])));
  const widths = cols.map((c, j) => Math.max(c.length, ...cells.map((row) => row[j]!.length)));
  const numeric = cols.map((c) => c !== "key" && c !== "start" && c !== "end" && typeof first?.[c] === "number");
  const line = (row: string[]) => row.map((v, j) => (numeric[j] ? v.padStart(widths[j]!) : v.padEnd(widths[j]!))).join("  ").trimEnd();
  yield `${paint(color, 1, line(cols))}\n`;
  for (let i = 0; i < cells.length; i += 5000) yield `${cells.slice(i, i + 5000).map(line).join("\n")}\n`;
  if (!first) yield "(no windows)\n";
}

async function writeOut(stream: NodeJS.WritableStream, chunks: Iterable<string>): Promise<void> {
  for (const c of chunks) if (!stream.write(c)) await once(stream, "drain");
}

async function writeChunks(path: string, chunks: Iterable<string>): Promise<void> {
  const out = createWriteStream(path);
  await once(out, "open").catch((e: Error) => {
    throw new InputError(`cannot write '${path}': ${e.message}`, { remedy: "check the --out path and permissions", cause: e, context: { file: path } });
  });
  await writeOut(out, chunks);
  out.end();
  await once(out, "finish");
}

/** A one-line progress bar on stderr, only on a terminal and only for files large enough to take a moment. */
function progressBar(io: CommandIO): { update(p: { bytes: number; total: number }): void; done(): void } {
  const on = Boolean(io.stderr.isTTY) && !("QUIXLAB_NO_PROGRESS" in io.env);
  let shown = false;
  let last = 0;
  return {
    update({ bytes, total }) {
      if (!on || total < 8 << 20) return;
      const now = Date.now();
      if (now - last < 100 && bytes < total) return;
      last = now;
      shown = true;
      const frac = total ? bytes / total : 1;
      const width = 30;
      const filled = Math.round(frac * width);
      const mb = (n: number) => (n / (1 << 20)).toFixed(0);
      io.stderr.write(`\r\u001b[2Kreading [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${(frac * 100).toFixed(0)}% ${mb(bytes)}/${mb(total)} MiB`);
    },
    done() {
      if (shown) io.stderr.write("\r\u001b[2K");
    },
  };
}
