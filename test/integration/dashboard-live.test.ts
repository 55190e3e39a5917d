/**
 * `quixlab dashboard` as a user sees it: the real CLI in tmux at 80×24 over a live pipeline on the session's real
 * Redis and Kafka (test/fixtures/dashboard-live.ts: a source and a candles step publishing metrics, 90 final
 * 1-minute candles per product, the open minute's update rewritten five times a second). The captured screen
 * must show the source at the head of the graph, the rates, freshness, at least 30 candles and the in-progress
 * candle changing between two captures; under NO_COLOR the pane holds no colour code.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { DashboardData } from "../../src/pipeline/dashboard.js";
import { waitFor } from "../../src/util/net.js";
import { type LivePipeline, startLivePipeline } from "../fixtures/dashboard-live.js";
import { testServices } from "../harness/services.js";
import { bin, quixlab } from "../helpers/cli.js";

const socket = `quixlab-dash-${randomBytes(3).toString("hex")}`;
const tmux = (...args: string[]) => spawnSync("tmux", ["-L", socket, ...args], { encoding: "utf8" });

/** Start the dashboard in a detached 80×24 session; its exit code lands in `<dir>/<name>.exit`. */
function startDashboard(p: LivePipeline, name: string, env = ""): void {
  // CI unset: Ink draws only a final frame when it thinks it runs under CI, and chalk draws no colour when CI is
  // set at all (even CI=false); this pane is a real terminal, as a user's is.
  const cmd = `env -u CI ${env} ${process.execPath} ${bin} dashboard --step ${p.step} --product ETH-USD; echo $? > ${join(p.dir, `${name}.exit`)}`;
  const r = tmux("new-session", "-d", "-s", name, "-x", "80", "-y", "24", "-c", p.dir, cmd);
  assert.equal(r.status, 0, r.stderr);
}

const screen = (name: string, escapes = false) => tmux("capture-pane", "-p", ...(escapes ? ["-e"] : []), "-t", name).stdout ?? "";

/** What the in-progress line says: its start and values. */
const progressLine = (s: string) => s.split("\n").find((l) => l.startsWith("░ in progress"));

describe("quixlab dashboard in tmux at 80×24", () => {
  let p: LivePipeline;
  before(async () => {
    assert.ok(spawnSync("tmux", ["-V"]).status === 0, "tmux is needed for this test (apt-get install tmux)");
    const { brokers, redisUrl } = await testServices();
    p = await startLivePipeline({ brokers, redisUrl });
  });
  after(async () => {
    tmux("kill-server");
    await p?.stop();
  });

  it("shows the source at the head, rates, freshness, ≥30 candles and the in-progress candle updating; q quits", async () => {
    startDashboard(p, "dash");
    const clock = new Date(p.openStart).toISOString().slice(11, 16);
    const row = (name: string) => new RegExp(`^. ${name}\\s+running\\s+1/1\\s+(\\S+)\\s+(\\S+)\\s+\\S+\\s+(\\S+)\\s+(\\S+)\\s+(\\S+)\\s+(\\S+)\\s+(\\d+)$`, "m");
    try {
      // Rates need two reports: wait until the step's row shows its rejected rate.
      const first = await waitFor(
        async () => {
          const s = screen("dash");
          const m = row(p.step).exec(s);
          return m && m[4] !== "0" && progressLine(s) ? s : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 250, what: "the dashboard to show rates and the in-progress candle" },
      ).catch((e: Error) => {
        throw new Error(`${e.message}; screen:\n${screen("dash")}`);
      });
      const lines = first.split("\n");
      assert.ok(lines.every((l) => l.length <= 80), "fits 80 columns");

      // The graph: the source first (the descriptor lists it second), then the step reading its topic.
      assert.match(lines[1]!, new RegExp(`^source \\[${p.source}\\] running · replay connected, 0 reconnects, 0 dup ─▶ ticks-`));
      // (No lag: nothing was produced to the topic, so the group has no offsets on it.)
      assert.match(lines[2]!, new RegExp(`^└▶ ticks-\\S+ ─▶ \\[${p.step}\\] running ─▶ candles-`));

      // The table: the source's messages in and out per second and the time since its last message; the
      // step's ticks in, windows out, rejected 2/s, late 1/s and freshness (now − the open minute's start).
      const src = row(p.source).exec(first)!;
      assert.ok(src, `a row for the source:\n${first}`);
      assert.match(src[1]!, /^[45](\.\d)?k$/, `source IN/s ${src[1]}`);
      assert.match(src[2]!, /^[45](\.\d)?k$/, `source OUT/s ${src[2]}`);
      assert.match(src[6]!, /^\d\.\ds$/, `the source's last message is fresh: ${src[6]}`);
      const stp = row(p.step).exec(first)!;
      assert.match(stp[1]!, /^[45](\.\d)?k$/);
      assert.match(stp[2]!, /^0\.[45]$/, `windows/s ${stp[2]}`);
      assert.match(stp[4]!, /^(1\.9|2)$/, `rejected/s ${stp[4]}`);
      assert.match(stp[5]!, /^(0\.9|1)$/, `late/s ${stp[5]}`);
      const age = (Date.now() - p.openStart) / 1000;
      const fresh = /^(\d+(?:\.\d)?)s$|^(\d+)m$/.exec(stp[6]!);
      assert.ok(fresh, `freshness ${stp[6]}`);
      const shownAge = fresh[1] ? Number(fresh[1]) : Number(fresh[2]) * 60;
      assert.ok(Math.abs(shownAge - age) < 70, `freshness ${stp[6]} ≈ ${age.toFixed(0)} s since the last final window ended`);
      assert.match(lines[lines.findIndex((l) => /STEP\s+STATE/.test(l)) + 1]!, new RegExp(`^  ${p.source}`), "the table lists the source first too");

      // The chart: the selected product, at least 30 one-minute candles (one per column), the time axis, and
      // the in-progress candle after them.
      const title = lines.findIndex((l) => l.startsWith("candles "));
      const m = new RegExp(`^candles ${p.feature} · ETH-USD · (\\d+) × 1m`).exec(lines[title]!);
      assert.ok(m, lines[title]);
      assert.ok(Number(m[1]) >= 30, `${m[1]} candles`);
      const progress = lines.findIndex((l) => l.startsWith("░ in progress"));
      const chart = lines.slice(title + 1, progress - 1);
      const columns = new Set<number>();
      for (const l of chart) for (const [i, ch] of [...l].entries()) if (i >= 10 && "█▒│".includes(ch)) columns.add(i);
      assert.ok(columns.size >= 30, `${columns.size} candle columns drawn:\n${chart.join("\n")}`);
      assert.ok(chart.some((l) => l.includes("░")), "the in-progress candle is drawn, distinct from the finals");
      assert.match(lines[progress - 1]!, /^ {10}\d\d:\d\d .* \d\d:\d\d$/, "a time axis under the chart");
      assert.match(lines[progress]!, new RegExp(`^░ in progress ${clock} O \\S+ H \\S+ L \\S+ C \\S+ V \\S+ · \\d+ ticks$`));

      // The open window keeps changing: a later capture shows other values for the same minute.
      const before = progressLine(first)!;
      const later = await waitFor(
        async () => {
          const l = progressLine(screen("dash"));
          return l && l !== before ? l : undefined;
        },
        { timeoutMs: 10_000, intervalMs: 250, what: "the in-progress candle to change" },
      );
      assert.match(later, new RegExp(`^░ in progress ${clock} `));
      const count = (l: string) => Number(/· (\d+) ticks$/.exec(l)![1]);
      assert.ok(count(later) > count(before), `${before}\n${later}`);

      tmux("send-keys", "-t", "dash", "q");
      const exit = join(p.dir, "dash.exit");
      const code = await waitFor(async () => existsSync(exit) && readFileSync(exit, "utf8").trim(), { timeoutMs: 10_000, intervalMs: 100, what: "the dashboard to exit on q" });
      assert.equal(code, "0");
    } finally {
      tmux("kill-session", "-t", "dash");
    }
  });

  it("off a terminal: --once prints a plain table with the source first and the in-progress candle; --once --json the data", async () => {
    const plain = await quixlab(["dashboard", "--once", "--step", p.step, "--product", "ETH-USD"], { cwd: p.dir, env: { NO_COLOR: undefined } });
    assert.equal(plain.code, 0, plain.err);
    assert.ok(!plain.out.includes(String.fromCharCode(27)), "no escape codes off a terminal");
    const lines = plain.out.split("\n");
    assert.match(lines[2]!, new RegExp(`^source \\[${p.source}\\] running`));
    assert.match(plain.out, new RegExp(`^${p.step}\\s+running\\s+1/1\\s+\\S+\\s+0\\.[45]\\s+\\S+\\s+\\S+\\s+(1\\.9|2)\\s+(0\\.9|1)\\s+(\\d+(\\.\\d)?s|1m)\\s`, "m"));
    assert.match(plain.out, /^░ in progress \d\d:\d\d O /m);

    const json = await quixlab(["dashboard", "--once", "--json", "--step", p.step, "--product", "ETH-USD"], { cwd: p.dir });
    assert.equal(json.code, 0, json.err);
    const d = JSON.parse(json.out) as DashboardData;
    assert.deepEqual(d.steps.map((x) => [x.name, x.role, x.rank]), [[p.source, "source", 0], [p.step, "step", 1]]);
    assert.equal(d.selected, p.step);
    assert.equal(d.steps[1]!.lastWindowEnd, p.openStart);
    assert.ok(d.steps[1]!.rejectedRate > 1.5 && d.steps[1]!.lateRate > 0.5, JSON.stringify(d.steps[1]));
    assert.equal(d.steps[0]!.source?.connected, true);
    // Off a terminal the width is taken as 100 columns: the candles a 100-column chart shows.
    assert.equal(d.candles?.records.length, 88);
    assert.equal(d.candles?.inProgress?.start, p.openStart);
  });

  it("draws in colour on a terminal, and under NO_COLOR writes no colour code while the chart still reads", async () => {
    // An SGR sequence that sets a foreground colour (30–37, 90–97, 38;…), after each ESC of the pane's text.
    const colourCode = /^\[(?:[0-9;]*;)?(?:3[0-7]|9[0-7]|38)(?:;[0-9;]*)?m/;
    const coloured = (text: string) => text.split(String.fromCharCode(27)).some((chunk) => colourCode.test(chunk));
    startDashboard(p, "colour");
    startDashboard(p, "mono", "NO_COLOR=1");
    try {
      for (const name of ["colour", "mono"]) {
        await waitFor(async () => progressLine(screen(name)), { timeoutMs: 30_000, intervalMs: 250, what: `${name}: the chart` }).catch((e: Error) => {
          throw new Error(`${e.message}; screen:\n${screen(name)}`);
        });
      }
      assert.ok(coloured(screen("colour", true)), "colour codes on a terminal");
      const mono = screen("mono", true);
      assert.ok(!coloured(mono), `no colour code under NO_COLOR:\n${JSON.stringify(mono)}`);
      // Rising, falling and in-progress candles are told apart by their glyphs alone.
      for (const glyph of ["█", "▒", "░"]) assert.ok(mono.includes(glyph), `${glyph} on the screen:\n${mono}`);
    } finally {
      tmux("kill-session", "-t", "colour");
      tmux("kill-session", "-t", "mono");
    }
  });
});
