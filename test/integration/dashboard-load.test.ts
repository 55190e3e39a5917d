/**
 * What a dashboard refresh costs while the pipeline writes at the rate 10 k ticks/s gives (the step's early results:
 * 10,000 updates/s into the latest hashes, plus 1,000 final windows/s of another key), on the session's real Redis
 * and Kafka, with 100 and then 10,000 final windows of history per product. A refresh reads a bounded amount (the
 * chart's 68 candles, the latest hash), so its cost must not grow with the history, and neither may drawing it.
 * The measurements are printed (test diagnostics) for the record.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { candleChart } from "../../src/chart/terminal.js";
import { collectDashboardData, openDashboardSource } from "../../src/pipeline/dashboard.js";
import { plainDashboard } from "../../cli/ui/dashboard/plain.js";
import { type LivePipeline, startLivePipeline } from "../fixtures/dashboard-live.js";
import { testServices } from "../harness/services.js";
import { repoRoot } from "../helpers/cli.js";
import { waitFor } from "../../src/util/net.js";

const REFRESHES = 40;
const CANDLES = 68;

const pct = (xs: readonly number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
};

interface Cost {
  history: number;
  refreshP50: number;
  refreshP99: number;
  renderP50: number;
  renderP99: number;
  updatesPerSecond: number;
  finalsPerSecond: number;
}

/** The writer's totals, from the last line it printed. */
function totals(out: string): { updates: number; finals: number; at: number } {
  const lines = out.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]!) as { updates: number; finals: number; at: number };
}

/**
 * REFRESHES refreshes, ten a second, of a pipeline with `history` final windows while two other processes write
 * up to 10,000 updates/s and 2,000 finals/s (test/fixtures/dashboard-writer.ts); the cost of each read and drawing it.
 */
async function measure(history: number): Promise<Cost> {
  const { brokers, redisUrl } = await testServices();
  // The fixture's own updater idles (one update a minute): the writer process makes the load.
  const p = await startLivePipeline({ brokers, redisUrl, windows: history, products: ["ETH-USD"], updateEveryMs: 60_000 });
  live.push(p);
  // Two writers of 5,000 updates/s each (one Node process cannot drive Redis's scripts faster on this machine).
  const writers = [0, 1].map(() => {
    const w = spawn(process.execPath, ["--import", "tsx", join(repoRoot, "test/fixtures/dashboard-writer.ts"), redisUrl, p.feature, "ETH-USD", String(p.openStart), String(1_000 + history * 1.5), "5000"], {
      cwd: repoRoot,
      stdio: ["ignore", "pipe", "inherit"],
    });
    const state = { w, out: "" };
    w.stdout.setEncoding("utf8").on("data", (s: string) => (state.out += s));
    return state;
  });
  const sum = () => {
    const t = writers.map((w) => totals(w.out));
    return { updates: t.reduce((n, x) => n + x.updates, 0), finals: t.reduce((n, x) => n + x.finals, 0), at: Math.max(...t.map((x) => x.at)) };
  };
  const source = openDashboardSource(p.dir);
  try {
    await waitFor(async () => writers.every((w) => w.out.includes("\n")), { timeoutMs: 30_000, intervalMs: 50, what: "the writers to start" });
    // The first refresh connects; rates need a second report.
    await collectDashboardData(source, { step: p.step, product: "ETH-USD", candles: CANDLES });
    const from = sum();
    const refresh: number[] = [];
    const render: number[] = [];
    for (let i = 0; i < REFRESHES; i++) {
      const started = performance.now();
      const d = await collectDashboardData(source, { step: p.step, product: "ETH-USD", candles: CANDLES });
      refresh.push(performance.now() - started);
      assert.deepEqual(d.problems, [], "the refresh read everything");
      assert.equal(d.candles?.records.length, Math.min(CANDLES, history), "the newest candles, however long the history");
      assert.ok(d.candles?.inProgress, "the open window");
      const drawn = performance.now();
      candleChart(d.candles.records, 80, 10, d.candles.inProgress);
      plainDashboard(d, 80);
      render.push(performance.now() - drawn);
      await new Promise((r) => setTimeout(r, 100));
    }
    const to = sum();
    const secs = (to.at - from.at) / 1000;
    return {
      history,
      refreshP50: pct(refresh, 0.5),
      refreshP99: pct(refresh, 0.99),
      renderP50: pct(render, 0.5),
      renderP99: pct(render, 0.99),
      updatesPerSecond: Math.round((to.updates - from.updates) / secs),
      finalsPerSecond: Math.round((to.finals - from.finals) / secs),
    };
  } finally {
    for (const w of writers) w.w.kill("SIGTERM");
    await Promise.all(writers.map((w) => (w.w.exitCode === null ? once(w.w, "exit") : undefined)));
    await source.close();
    await p.stop();
    live.splice(live.indexOf(p), 1);
  }
}

const live: LivePipeline[] = [];

describe("dashboard refresh cost under load", () => {
  after(async () => {
    for (const p of live.splice(0)) await p.stop();
  });

  it("stays bounded and independent of the history while two writers push updates as fast as Redis takes them (aiming at 10k/s)", async (t) => {
    const small = await measure(100);
    const big = await measure(10_000);
    const ms = (n: number) => `${n.toFixed(1)} ms`;
    for (const c of [small, big]) {
      t.diagnostic(
        `history ${c.history} windows: refresh p50 ${ms(c.refreshP50)} p99 ${ms(c.refreshP99)} · draw p50 ${ms(c.renderP50)} p99 ${ms(c.renderP99)} · load ${c.updatesPerSecond} updates/s + ${c.finalsPerSecond} finals/s`,
      );
    }
    for (const c of [small, big]) {
      // The premise, not a figure: the dashboard read while Redis was busy. Half the aim holds on a loaded 2-core host
      // (4,823/s was seen with other runs beside it).
      assert.ok(c.updatesPerSecond >= 2_500, `the writer kept a high rate: ${c.updatesPerSecond} updates/s`);
      // Generous bounds: this machine is shared; a refresh includes the Kafka admin calls for lag.
      assert.ok(c.refreshP99 < 500, `refresh p99 ${ms(c.refreshP99)}`);
      assert.ok(c.renderP99 < 50, `draw p99 ${ms(c.renderP99)}`);
    }
    // A hundred times the history: the refresh may not cost much more (it reads the same 68 candles).
    assert.ok(big.refreshP50 < small.refreshP50 * 3 + 20, `refresh p50 ${ms(small.refreshP50)} → ${ms(big.refreshP50)} with 100× the history`);
  });
});
