/**
 * Notebooks executed headless through real Jupyter (nbclient) with the real tslab kernel, via the CLI.
 * Needs `jupyter` (pip install jupyter) and a built dist/ (npm run build). Without Jupyter the suite is skipped,
 * except under CI, where it must run.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { KERNEL_NAME, installKernel } from "../../src/notebook/kernel.js";
import { type Cell, type Notebook, readNotebook, streamText } from "../../src/notebook/model.js";
import { INJECTED_TAG } from "../../src/notebook/params.js";
import { which } from "../../src/infra/process.js";
import { quixlab } from "../helpers/cli.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CSV = join(ROOT, "data", "binance-futures-btcusdt-trades-2020-02-22.csv");
const skip = !which("jupyter") && !process.env.CI ? "jupyter is not installed (pip install jupyter); under CI this fails instead" : false;

function cell(nb: Notebook, id: string): Cell {
  const c = nb.cells.find((x) => x.id === id);
  assert.ok(c, `cell ${id} is missing from ${nb.file}`);
  return c;
}

/** The SVG a cell displayed through tslab.display.svg (fails the test when it shows none). */
function svgOf(nb: Notebook, id: string): string {
  const out = cell(nb, id).outputs.find((o) => o.output_type === "display_data" && typeof o.data["image/svg+xml"] === "string");
  assert.ok(out && out.output_type === "display_data", `cell ${id} shows no image/svg+xml output`);
  const svg = out.data["image/svg+xml"] as string;
  assert.match(svg, /^<svg[^>]*>[\s\S]*<\/svg>$/);
  return svg;
}

/** The labels of a line chart's series, in drawing order. */
const seriesLabels = (svg: string) => [...svg.matchAll(/<g class="series" data-label="([^"]*)"/g)].map((m) => m[1]);

/** Window counts derived straight from the CSV's timestamps, independently of the library. */
function expectedWindows(): { hours: number; minutes: number; rolling: number; ticks: number } {
  const lines = readFileSync(CSV, "utf8").trim().split("\n").slice(1);
  const ms = lines.map((l) => Math.floor(Number(l.split(",")[2]) / 1000));
  const distinct = (size: number) => new Set(ms.map((t) => Math.floor(t / size))).size;
  // A 60 s window starting at second k holds a tick at second s when k <= s < k + 60.
  const starts = new Set<number>();
  for (const s of new Set(ms.map((t) => Math.floor(t / 1000)))) for (let k = s - 59; k <= s; k++) starts.add(k);
  return { hours: distinct(3_600_000), minutes: distinct(60_000), rolling: starts.size, ticks: ms.length };
}

describe("notebooks run headless with the tslab kernel", { skip, timeout: 900_000 }, () => {
  let out: string;

  before(async () => {
    // Under CI a missing jupyter must fail loudly, which installKernel does with a remedy.
    await installKernel();
    out = mkdtempSync(join(tmpdir(), "quixlab-nb-test-"));
  });
  after(() => rmSync(out, { recursive: true, force: true }));

  it("kernel install writes the spec once and is idempotent", async () => {
    const env = { ...process.env, JUPYTER_DATA_DIR: join(out, "jupyter-data") };
    const first = await installKernel({ env });
    const second = await installKernel({ env });
    assert.deepEqual([first.changed, second.changed], [true, false]);
    assert.equal(first.file, join(out, "jupyter-data", "kernels", KERNEL_NAME, "kernel.json"));
    const spec = JSON.parse(readFileSync(first.file, "utf8")) as { argv: string[]; display_name: string; language: string };
    assert.deepEqual(spec.argv, [process.execPath, join(ROOT, "node_modules", ".bin", "tslab"), "kernel", "--config-path", "{connection_file}"]);
    assert.equal(spec.display_name, "TypeScript (quixlab)");
    assert.equal(spec.language, "typescript");
  });

  it("kernel status reports this project's tslab", async () => {
    const res = await quixlab(["kernel", "status", "--json"]);
    assert.equal(res.code, 0, res.out + res.err);
    const st = JSON.parse(res.out) as { kernel: string; current: boolean; argv: string[] };
    assert.equal(st.kernel, KERNEL_NAME);
    assert.equal(st.current, true);
    assert.equal(st.argv[1], join(ROOT, "node_modules", ".bin", "tslab"));
  });

  it("ohlc.ipynb: loads the ticks, prints candle counts, draws an SVG and agrees with danfojs", async () => {
    assert.ok(existsSync(join(ROOT, "dist", "src", "index.js")), "dist/ is missing: run npm run build first");
    const file = join(out, "ohlc.ipynb");
    const res = await quixlab(["notebook", "run", "notebooks/ohlc.ipynb", "--out", file, "--json"]);
    assert.equal(res.code, 0, res.out + res.err);
    assert.equal((JSON.parse(res.out) as { ok: boolean }).ok, true);
    const nb = readNotebook(file);
    const want = expectedWindows();
    assert.match(streamText(cell(nb, "load")), new RegExp(`^ticks: ${want.ticks}, rejected: 0$`, "m"));
    const counts = streamText(cell(nb, "batch"), "stdout");
    assert.match(counts, new RegExp(`^1-hour candles: ${want.hours}$`, "m"));
    assert.match(counts, new RegExp(`^1-minute candles: ${want.minutes}$`, "m"));
    assert.match(counts, new RegExp(`^60s/1s rolling candles: ${want.rolling}$`, "m"));
    assert.equal(streamText(cell(nb, "builtins")).match(/identical windows = true/g)?.length, 3);
    assert.match(streamText(cell(nb, "compare")), /^naive and library agree: true$/m);
    for (const id of ["chart", "rolling-chart"]) svgOf(nb, id);
    const warnings = nb.cells.map((c) => streamText(c, "stderr")).filter(Boolean);
    assert.deepEqual(warnings, [], "no cell writes to stderr");
  });

  it("custom-feature.ipynb: the whole-window VWAP/volatility feature checks out on batch data and is charted", async () => {
    const file = join(out, "custom-feature.ipynb");
    const res = await quixlab(["notebook", "run", "notebooks/custom-feature.ipynb", "--out", file]);
    assert.equal(res.code, 0, res.out + res.err);
    assert.match(res.out, /custom-feature\.ipynb: 10 code cells ran/);
    const nb = readNotebook(file);
    const want = expectedWindows();
    assert.match(streamText(cell(nb, "batch")), new RegExp(`^1-minute VWAP/volatility windows: ${want.minutes}$`, "m"));
    assert.match(streamText(cell(nb, "by-hand")), /^feature matches the hand computation: true$/m);
    assert.deepEqual(seriesLabels(svgOf(nb, "chart")), ["VWAP, 1 min", "realised volatility, 1 min (√Σ r²)"]);
  });

  it("indicators.ipynb: 1 h rolled up from 1 min equals 1 h from ticks, the check can fail, and the indicators are charted", async () => {
    const file = join(out, "indicators.ipynb");
    const res = await quixlab(["notebook", "run", "notebooks/indicators.ipynb", "--out", file]);
    assert.equal(res.code, 0, res.out + res.err);
    const nb = readNotebook(file);
    const want = expectedWindows();
    const counts = streamText(cell(nb, "batch"), "stdout");
    assert.match(counts, new RegExp(`^1-minute candles: ${want.minutes}$`, "m"));
    assert.match(counts, new RegExp(`^1-hour candles from ticks: ${want.hours}$`, "m"));
    assert.match(counts, new RegExp(`^1-hour candles rolled up from 1-minute ones: ${want.hours}$`, "m"));
    assert.match(counts, new RegExp(`^EMA 12 values: ${want.minutes}$`, "m"), "one EMA per minute");
    assert.match(counts, new RegExp(`^RSI 14 values: ${want.minutes - 1} `, "m"), "from the second minute on");
    assert.match(counts, new RegExp(`^Bollinger 20 values: ${want.minutes - 19}$`, "m"), "from the 20th minute on");
    const check = streamText(cell(nb, "rollup-check"));
    for (const line of ["same windows \\(key, start, end\\): true", "open/high/low/close/count equal: true", "volume within 1e-9 relative: true", "1h rolled up from 1m equals 1h from ticks: true"]) {
      assert.match(check, new RegExp(`^${line}`, "m"));
    }
    const tampered = streamText(cell(nb, "tamper"));
    assert.match(tampered, /^same windows \(key, start, end\): false \(missing 1, extra 0\)$/m);
    assert.match(tampered, /^open\/high\/low\/close\/count equal: false$/m);
    assert.match(tampered, /^volume within 1e-9 relative: false /m);
    assert.match(tampered, /^a tampered roll-up equals 1h from ticks: false$/m);
    assert.equal(streamText(cell(nb, "shipped")).match(/identical records = true/g)?.length, 4);
    assert.deepEqual(seriesLabels(svgOf(nb, "chart")), ["close", "EMA 12", "Bollinger upper", "Bollinger lower", "RSI 14"]);
    const warnings = nb.cells.map((c) => streamText(c, "stderr")).filter(Boolean);
    assert.deepEqual(warnings, [], "no cell writes to stderr");

    // The exported indicator features extract and type-check outside the notebook (as npm run notebooks:check does).
    const checked = await quixlab(["notebook", "check", "notebooks/indicators.ipynb", "--json"]);
    assert.equal(checked.code, 0, checked.out + checked.err);
    const report = JSON.parse(checked.out) as { ok: boolean; exports: { name: string; ok: boolean }[] };
    assert.deepEqual(report.exports.map((e) => [e.name, e.ok]), [["ohlc1hRollup", true], ["ema12", true], ["rsi14", true], ["bb20", true]]);
  });

  it("model.ipynb: a training row per minute close, the exported weights are the fit's, predictions charted against actual", async () => {
    const file = join(out, "model.ipynb");
    const res = await quixlab(["notebook", "run", "notebooks/model.ipynb", "--out", file]);
    assert.equal(res.code, 0, res.out + res.err);
    const nb = readNotebook(file);
    const { minutes } = expectedWindows();
    // Every minute close but the first (one minute: no previous close) and the last (no next minute to learn).
    assert.match(streamText(cell(nb, "fit")), new RegExp(`^training rows: ${minutes - 2} \\(of ${minutes} minute closes`, "m"));
    assert.match(streamText(cell(nb, "weights-check")), /^exported weights equal the fit: true$/m);
    assert.match(streamText(cell(nb, "chart")), new RegExp(`^predictions: ${minutes - 1} \\(1 minute closes`, "m"));
    assert.deepEqual(seriesLabels(svgOf(nb, "chart")), ["actual", "predicted"]);
    const checked = await quixlab(["notebook", "check", "notebooks/model.ipynb", "--json"]);
    assert.equal(checked.code, 0, checked.out + checked.err);
    const report = JSON.parse(checked.out) as { exports: { name: string; ok: boolean }[] };
    assert.deepEqual(report.exports.map((e) => [e.name, e.ok]), [["WEIGHTS", true], ["nextMinute", true]]);
  });

  it("--param values reach the notebook through the injected-parameters cell", async () => {
    const file = join(out, "params.ipynb");
    const res = await quixlab([
      "notebook",
      "run",
      "test/fixtures/notebooks/params.ipynb",
      "--param",
      'who=Ada "the first"',
      "--param",
      "times=5",
      "-p",
      "loud=true",
      "--out",
      file,
    ]);
    assert.equal(res.code, 0, res.out + res.err);
    const nb = readNotebook(file);
    assert.deepEqual(nb.cells.map((c) => c.id), ["intro", "defaults", INJECTED_TAG, "show"]);
    assert.deepEqual(cell(nb, INJECTED_TAG).tags, [INJECTED_TAG]);
    assert.equal(streamText(cell(nb, "show")), 'PARAM who="Ada \\"the first\\"" times=5:number loud=true:boolean!\n');
  });

  it("a failing cell stops the run: exit 1 naming the cell, its id and the error", async () => {
    const file = join(out, "failing.ipynb");
    const res = await quixlab(["notebook", "run", "test/fixtures/notebooks/failing.ipynb", "--out", file]);
    assert.equal(res.code, 1, res.out + res.err);
    assert.match(res.out, /cell 4 \(code cell 2, id boom\) failed: RangeError: deliberate failure for the test/);
    assert.ok(!/node:vm|tslab[/\\]dist/.test(res.out), "kernel stack frames are not shown");
    const nb = readNotebook(file);
    assert.match(streamText(cell(nb, "setup")), /setup ran 2/);
    assert.deepEqual(cell(nb, "after").outputs, [], "cells after the failure do not run");
  });

  it("a TypeScript error is reported as a CompileError with its position (--json)", async () => {
    const res = await quixlab(["notebook", "run", "test/fixtures/notebooks/type-error.ipynb", "--out", join(out, "type-error.ipynb"), "--json"]);
    assert.equal(res.code, 1, res.out + res.err);
    const report = JSON.parse(res.out) as { ok: boolean; executed: number; failure: Record<string, unknown> };
    assert.equal(report.ok, false);
    assert.equal(report.executed, 2);
    assert.deepEqual(
      { cell: report.failure.cell, codeCell: report.failure.codeCell, id: report.failure.id, ename: report.failure.ename },
      { cell: 2, codeCell: 2, id: "bad", ename: "CompileError" },
    );
    assert.match(String(report.failure.evalue), /^1:7 - Type 'string' is not assignable to type 'number'/);
  });

  it("an undeclared parameter is a usage error before anything runs", async () => {
    const res = await quixlab(["notebook", "run", "test/fixtures/notebooks/params.ipynb", "--param", "nope=1"]);
    assert.equal(res.code, 2);
    assert.match(res.err, /no parameter 'nope'; its parameters cell 2 \(id defaults\) declares who, times, loud/);
  });
});
