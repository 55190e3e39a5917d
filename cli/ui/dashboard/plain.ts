/** Plain-text forms (no TTY, no colour): the `status` table and the dashboard's periodic table. */
import { type DashboardData, describeExit } from "../../../src/pipeline/dashboard.js";
import type { PipelineStatus } from "../../../src/pipeline/status.js";
import { candleChart, candleChartText } from "../../../src/chart/terminal.js";
import { clock, formatAge, formatCount, formatRate, graphLines, ohlcLine, sparkline } from "./format.js";

/** Columns padded to their widest cell, two spaces apart. */
export function columns(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ").trimEnd());
}

const time = (iso: string | undefined) => (iso ? iso.slice(11, 19) : "-");

/** The `quixlab status` report: a heading, one row per step, then skipped deployments. */
export function statusTable(s: PipelineStatus): string {
  if (!s.found) return "no pipeline is running here — start one with 'quixlab up'\n";
  const out: string[] = [];
  const sup = s.supervisor!;
  out.push(
    `pipeline ${s.descriptor} — ${s.running ? `supervisor pid ${sup.pid}, up since ${time(sup.startedAt)}` : `supervisor pid ${sup.pid} is NOT running${s.error ? ` (${s.error})` : ""}`}`,
    `kafka ${s.brokers.join(",") || "-"} · redis ${s.redisUrl ?? "none"} · logs ${s.logFile ?? "-"}`,
    "",
  );
  const rows = [["STEP", "KIND", "STATE", "REPLICAS", "PIDS", "RESTARTS", "CONSUMED", "EMITTED", "REJECTED", "LATE", "OPEN", "LAST ERROR"]];
  for (const st of s.steps) {
    const m = st.metrics;
    const crash = st.instances.map((r) => r.lastExit).find((e) => e && (e.code !== 0 || e.signal));
    rows.push([
      st.name,
      st.runtime === "docker" ? `${st.kind} (docker)` : st.kind,
      st.state,
      `${st.running}/${st.replicas}`,
      st.pids.join(",") || "-",
      String(st.restarts),
      formatCount(m?.consumed),
      formatCount(m?.emitted),
      formatCount(m?.rejected),
      formatCount(m?.late),
      formatCount(m?.windowsOpen),
      (m?.lastError ?? (crash ? describeExit(crash) : "")).slice(0, 60),
    ]);
  }
  out.push(...columns(rows));
  for (const k of s.skipped) out.push(`not started: ${k.name} (${k.reason})`);
  if (s.running && s.metrics !== "ok" && s.metrics !== "off") out.push(`metrics unavailable: ${s.metrics}`);
  return `${out.join("\n")}\n`;
}

/** One refresh of the dashboard as plain text: graph, step table with rates, lag and freshness, the candles, problems. */
export function plainDashboard(d: DashboardData, width = 100): string {
  if (!d.found) return `${d.problems.join("\n")}\n`;
  const out = [`quixlab dashboard — ${d.descriptor} — ${new Date(d.at).toISOString().slice(11, 19)} — kafka ${d.brokers.join(",")} · redis ${d.redisUrl ?? "none"}`, ""];
  out.push(...graphLines(d.steps, width), "");
  const rows = [["STEP", "STATE", "REPL", "IN/s", "OUT/s", "TREND", "LAG", "REJ/s", "LATE/s", "FRESH", "OPEN", "RST", "LAST ERROR"]];
  for (const s of d.steps) {
    rows.push([
      s.name,
      s.state,
      `${s.running}/${s.replicas}`,
      formatRate(s.consumedRate),
      formatRate(s.emittedRate),
      sparkline(s.consumedHistory, 10),
      formatCount(s.lagTotal),
      s.rejected === null ? "-" : formatRate(s.rejectedRate),
      s.late === null ? "-" : formatRate(s.lateRate),
      formatAge(s.freshnessMs),
      formatCount(s.windowsOpen),
      String(s.restarts),
      (s.lastError ?? "").slice(0, 50),
    ]);
  }
  out.push(...columns(rows));
  const c = d.candles;
  if (c && (c.records.length > 0 || c.inProgress)) {
    out.push("", `candles ${c.feature} ${c.product} (${c.step}; products: ${c.products.join(", ")})`);
    out.push(...candleChartText(candleChart(c.records, Math.min(width, 80), 8, c.inProgress)));
    const last = c.records[c.records.length - 1];
    if (c.inProgress) out.push(`░ in progress ${clock(c.inProgress.start)} ${ohlcLine(c.inProgress)}`);
    else if (last) out.push(`last final ${clock(last.start)} ${ohlcLine(last)} · no window in progress`);
  }
  for (const p of d.problems) out.push(`! ${p}`);
  return `${out.join("\n")}\n`;
}
