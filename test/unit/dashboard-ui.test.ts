/** The dashboard's components on fixed data (ink-testing-library), and the pure text helpers behind them. */
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { render } from "ink-testing-library";
import { createElement } from "react";
import { App, type AppProps } from "../../cli/ui/dashboard/App.js";
import { Candles } from "../../cli/ui/dashboard/Candles.js";
import { fit, formatRate, graphLines, sparkline, tableHeader } from "../../cli/ui/dashboard/format.js";
import { Graph } from "../../cli/ui/dashboard/Graph.js";
import { plainDashboard, statusTable } from "../../cli/ui/dashboard/plain.js";
import { Sparkline } from "../../cli/ui/dashboard/Sparkline.js";
import { StepTable } from "../../cli/ui/dashboard/StepTable.js";
import type { Candle } from "../../src/chart/candles.js";
import { candleChart, candleChartText } from "../../src/chart/terminal.js";
import type { DashboardData, DashboardQuery, StepView } from "../../src/pipeline/dashboard.js";
import type { PipelineStatus } from "../../src/pipeline/status.js";

const T0 = Date.UTC(2024, 0, 1, 12, 0, 0);

function candle(i: number, open: number, close: number, high: number, low: number, key = "ETH-USD"): Candle {
  return { key, start: T0 + i * 60_000, end: T0 + (i + 1) * 60_000, open, high, low, close, volume: 1 };
}

function stepView(over: Partial<StepView>): StepView {
  return {
    name: "ohlc",
    kind: "Service",
    role: "step",
    rank: 1,
    state: "running",
    replicas: 2,
    running: 2,
    restarts: 1,
    pids: [101, 102],
    instances: [
      { index: 0, pid: 101, alive: true, state: "running", restarts: 1, startedAt: "2024-01-01T12:00:00.000Z", lastExit: { code: null, signal: "SIGKILL", at: "2024-01-01T11:59:59.000Z" } },
      { index: 1, pid: 102, alive: true, state: "running", restarts: 0, startedAt: "2024-01-01T11:58:00.000Z", lastExit: null },
    ],
    consumerGroup: "ohlc",
    inputs: ["ticks"],
    outputs: ["candles"],
    consumedRate: 123.4,
    emittedRate: 2,
    rejectedRate: 0.5,
    lateRate: 0.25,
    updatesRate: 0,
    consumedHistory: [0, 50, 100, 123.4],
    emittedHistory: [0, 1, 2, 2],
    consumed: 5_000,
    emitted: 40,
    rejected: 3,
    late: 1,
    updates: 0,
    windowsOpen: 6,
    lastWindowEnd: T0 - 60_000,
    freshnessMs: 60_000,
    lag: [{ group: "ohlc", topic: "ticks", lag: 12, partitions: [{ partition: 0, high: 100, committed: 90, lag: 10 }, { partition: 1, high: 52, committed: 50, lag: 2 }] }],
    lagTotal: 12,
    lastError: null,
    feature: "ohlc1m",
    source: null,
    ...over,
  };
}

function data(over: Partial<DashboardData> = {}): DashboardData {
  return {
    at: T0,
    found: true,
    running: true,
    descriptor: "/p/quix.yaml",
    brokers: ["127.0.0.1:9092"],
    redisUrl: "redis://127.0.0.1:6379",
    supervisorPid: 100,
    steps: [
      stepView({}),
      stepView({
        name: "counter",
        replicas: 1,
        running: 1,
        restarts: 0,
        pids: [103],
        instances: [],
        consumerGroup: "counter",
        inputs: ["candles"],
        outputs: ["counts"],
        consumedRate: 2,
        emittedRate: 2,
        lag: [{ group: "counter", topic: "candles", lag: 0, partitions: [] }],
        lagTotal: 0,
        rank: 2,
        rejected: 0,
        late: 0,
        rejectedRate: 0,
        lateRate: 0,
        windowsOpen: 0,
        lastWindowEnd: null,
        freshnessMs: null,
        feature: null,
        lastError: "kafka consumer: boom",
      }),
    ],
    candles: {
      step: "ohlc",
      feature: "ohlc1m",
      product: "ETH-USD",
      products: ["BTC-USD", "ETH-USD"],
      records: [candle(0, 10, 12, 13, 9), candle(1, 12, 11, 12.5, 10.5), candle(2, 11, 12.8, 13, 11)],
      inProgress: null,
    },
    selected: "ohlc",
    logs: null,
    problems: [],
    refreshMs: 1,
    ...over,
  };
}

/** Poll the rendered frame until it matches (ink renders asynchronously after input). */
async function frame(inst: { lastFrame(): string | undefined }, re: RegExp, ms = 3_000): Promise<string> {
  const deadline = Date.now() + ms;
  for (;;) {
    const f = inst.lastFrame() ?? "";
    if (re.test(f)) return f;
    if (Date.now() > deadline) throw new Error(`no frame matching ${re} within ${ms} ms; last frame:\n${f}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The App on fixed data, recording every query it loads with. */
function app(props: Partial<AppProps> = {}) {
  const queries: DashboardQuery[] = [];
  const fixed = data();
  const inst = render(
    createElement(App, {
      load: async (q) => {
        queries.push(q);
        return q.logs ? { ...fixed, logs: [`[${q.step}#0] first line`, `[${q.step}#0] second line`] } : fixed;
      },
      initial: fixed,
      refreshMs: 60_000,
      columns: 80,
      rows: 24,
      ...props,
    }),
  );
  mounted.push(inst);
  return { inst, queries };
}

// Unmounted after each test even when it fails: a mounted app keeps its input stream, and so the process, alive.
const mounted: { unmount(): void }[] = [];
afterEach(() => {
  for (const m of mounted.splice(0)) m.unmount();
});

describe("text helpers", () => {
  it("draws sparklines scaled to the maximum, blank-padded on the left", () => {
    assert.equal(sparkline([0, 1, 2, 4], 4), "▁▃▅█");
    assert.equal(sparkline([5, 5], 4), "  ██");
    assert.equal(sparkline([0, 0, 0], 3), "▁▁▁");
    assert.equal(sparkline([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 3), "▇▇█");
  });

  it("formats rates and fits cells", () => {
    assert.deepEqual([0, 0.001, 1 / 60, 0.42, 12.34, 123.4, 4_321, 2_500_000].map(formatRate), ["0", "0", "0.02", "0.4", "12.3", "123", "4.3k", "2.5M"]);
    assert.equal(fit("abcdef", 4), "abc…");
    assert.equal(fit("ab", 4, "right"), "  ab");
  });

  it("draws candles: rising bodies █, falling ▒, wicks │ to high and low, price axis", () => {
    const chart = candleChart([candle(0, 10, 12, 13, 9), candle(1, 12, 11, 12.5, 10.5)], 80, 5);
    assert.equal(chart.lo, 9);
    assert.equal(chart.hi, 13);
    assert.equal(chart.step, 2, "room for both: a blank column after each");
    // Column 0 rises (wick 13..9, body 12..10); column 1 falls (body 12..11, wick 12.5..10.5).
    assert.deepEqual(
      chart.rows.map((r) => r.cells.filter((_, i) => i % 2 === 0).map((c) => c.ch).join("")),
      ["│ ", "█▒", "█▒", "█│", "│ "],
    );
    assert.deepEqual(
      chart.rows[1]!.cells.filter((_, i) => i % 2 === 0).map((c) => c.tone),
      ["up", "down"],
    );
    const text = candleChartText(chart);
    assert.match(text[0]!, /^\s+13\.000 │/);
    assert.match(text[4]!, /^\s+9\.000 │/);
    assert.equal(text[5], `${" ".repeat(10)}12:00`, "the time axis: labels that would overlap are left out");
  });

  it("packs candles one per column when they do not all fit with gaps, newest kept", () => {
    const many = Array.from({ length: 100 }, (_, i) => candle(i, 10 + i, 11 + i, 12 + i, 9 + i));
    const chart = candleChart(many, 30, 4);
    assert.equal(chart.step, 1);
    assert.equal(chart.shown, 20);
    assert.equal(chart.hi, 12 + 99);
    // 80 columns: 70 for candles, enough for over an hour of 1-minute candles.
    const wide = candleChart(many, 80, 4);
    assert.equal(wide.shown, 70);
    // Start times under the oldest, middle and newest candles.
    assert.equal(wide.axis, `${" ".repeat(10)}12:30${" ".repeat(29)}13:04${" ".repeat(26)}13:39`);
  });

  it("draws the in-progress candle rightmost, ░ with a ┊ wick, a blank column apart, inside the price range", () => {
    const many = Array.from({ length: 100 }, (_, i) => candle(i, 10, 11, 12, 9));
    const live = candle(100, 11, 14, 15, 10.5);
    const chart = candleChart(many, 80, 6, live);
    assert.equal(chart.inProgress, true);
    assert.equal(chart.shown, 68);
    assert.equal(chart.hi, 15, "the range includes the open window");
    const cols = chart.rows.map((r) => r.cells.map((c) => c.ch).join(""));
    assert.ok(cols.every((c) => c.length === 70));
    assert.ok(cols.every((c) => c[68] === " "), "a blank column before it");
    assert.ok(cols.some((c) => c[69] === "░") && cols.some((c) => c[69] === "┊"));
    assert.ok(cols.every((c) => !c.slice(0, 68).includes("░")), "no final candle looks in progress");
    assert.equal(chart.rows.find((r) => r.cells[69]!.ch === "░")!.cells[69]!.tone, "open");
    assert.match(candleChartText(chart).at(-1)!, /13:40$/, "the axis ends at the in-progress candle's start");
  });

  it("draws the graph in flow order with the source at its head, states, lags and the source's health", () => {
    const source = stepView({ name: "feed", role: "source", rank: 0, replicas: 1, inputs: [], outputs: ["ticks"], lag: [], feature: null, source: { type: "coinbase", endpoint: "wss://x", products: ["ETH-USD"], connected: true, reconnects: 2, duplicates: 1, lastMessageAt: T0 } });
    assert.deepEqual(graphLines([source, ...data().steps], 80), [
      "source [feed] running · coinbase connected, 2 reconnects, 1 dup ─▶ ticks",
      "└▶ ticks (lag 12) ─▶ [ohlc ×2] running ─▶ candles",
      "  └▶ candles (lag 0) ─▶ [counter] running ─▶ counts",
    ]);
  });

  it("fits the step table in 80 columns", () => {
    assert.ok(tableHeader(80).length <= 80);
    assert.match(tableHeader(80), /STEP.*STATE.*REPL.*IN\/s.*OUT\/s.*TREND.*LAG.*REJ\/s.*LATE\/s.*FRESH.*RST/);
  });
});

describe("dashboard components", () => {
  it("Graph shows which step reads and writes which topic", () => {
    const { lastFrame } = render(createElement(Graph, { steps: data().steps, width: 80, maxLines: 4 }));
    assert.equal(lastFrame(), "ticks (lag 12) ─▶ [ohlc ×2] running ─▶ candles\n└▶ candles (lag 0) ─▶ [counter] running ─▶ counts");
  });

  it("Graph says how many steps it could not show", () => {
    const steps = Array.from({ length: 6 }, (_, i) => stepView({ name: `s${i}` }));
    const { lastFrame } = render(createElement(Graph, { steps, width: 80, maxLines: 3 }));
    assert.match(lastFrame() ?? "", /\[s1 ×2\][\s\S]*… 4 more steps/);
    assert.doesNotMatch(lastFrame() ?? "", /\[s2/);
  });

  it("StepTable shows state, replicas, rates with a trend, lag, rejected and late per second, freshness, restarts", () => {
    const { lastFrame } = render(createElement(StepTable, { steps: data().steps, selected: 0, columns: 80, maxRows: 5 }));
    const [header, ohlc, counter] = (lastFrame() ?? "").split("\n");
    assert.match(header!, /STEP\s+STATE\s+REPL\s+IN\/s\s+OUT\/s\s+TREND\s+LAG\s+REJ\/s\s+LATE\/s\s+FRESH\s+RST/);
    assert.match(ohlc!, /^▶ ohlc\s+running\s+2\/2\s+123\s+2\s+▁▄▇█\s+12\s+0\.5\s+0\.3\s+1m\s+1$/);
    assert.match(counter!, /^ {2}counter\s+running\s+1\/1\s+2\s+2\s+▁▄▇█\s+0\s+0\s+0\s+-\s+0$/);
    assert.ok((lastFrame() ?? "").split("\n").every((l) => l.length <= 80));
  });

  it("Sparkline renders the bars", () => {
    const { lastFrame } = render(createElement(Sparkline, { values: [0, 1, 2, 4], width: 6 }));
    assert.equal(lastFrame(), "  ▁▃▅█");
  });

  it("Candles draws the selected product's chart with a title, a time axis and the last candle's values", () => {
    const { lastFrame } = render(createElement(Candles, { view: data().candles, step: "ohlc", width: 80, height: 6 }));
    const lines = (lastFrame() ?? "").split("\n");
    assert.match(lines[0]!, /candles ohlc1m · ETH-USD · 3 × 1m · 12:00–12:03 · 2\/2 \(p: next\)/);
    assert.equal(lines.length, 9);
    assert.match(lines[1]!, /^\s+13\.000 │ {3}█/);
    assert.equal(lines[7], `${" ".repeat(10)}12:00`);
    assert.match(lines[8]!, /last final 12:02 O 11\.000 H 13\.000 L 11\.000 C 12\.800 V 1 · no window in progress/);
  });

  it("Candles marks the in-progress candle and shows its values", () => {
    const live = { ...candle(3, 12.8, 12.1, 13.5, 12), count: 7 };
    const { lastFrame } = render(createElement(Candles, { view: { ...data().candles!, inProgress: live }, step: "ohlc", width: 80, height: 6 }));
    const lines = (lastFrame() ?? "").split("\n");
    assert.ok(lines.slice(1, 7).some((l) => l.includes("░")));
    assert.match(lines[8]!, /^░ in progress 12:03 O 12\.800 H 13\.500 L 12\.000 C 12\.100 V 1 · 7 ticks$/);
  });

  it("Candles says how far apart hopping windows start", () => {
    const hopping = Array.from({ length: 5 }, (_, i) => ({ ...candle(0, 10, 11, 12, 9), start: T0 + i * 1_000, end: T0 + i * 1_000 + 60_000 }));
    const { lastFrame } = render(createElement(Candles, { view: { ...data().candles!, records: hopping }, step: "ohlc", width: 80, height: 4 }));
    assert.match(lastFrame() ?? "", /5 × 1m every 1s · 12:00–12:01:04/);
  });

  it("Candles says why there is no chart", () => {
    const none = render(createElement(Candles, { view: null, step: "counter", width: 80, height: 3 }));
    assert.match(none.lastFrame() ?? "", /no candles for counter \(it publishes no feature windows\)/);
    const empty = render(createElement(Candles, { view: { ...data().candles!, records: [] }, step: "ohlc", width: 80, height: 3 }));
    assert.match(empty.lastFrame() ?? "", /no candles of ohlc1m in Redis yet/);
  });
});

describe("App", () => {
  it("shows the graph, the table, the candles and the keys, within 80×24", () => {
    const { inst } = app();
    const f = inst.lastFrame() ?? "";
    assert.match(f, /quixlab dashboard · quix\.yaml · 2 steps · kafka 127\.0\.0\.1:9092 · 12:00:00/);
    assert.match(f, /ticks \(lag 12\) ─▶ \[ohlc ×2\] running ─▶ candles/);
    assert.match(f, /▶ ohlc\s+running/);
    assert.match(f, /candles ohlc1m · ETH-USD/);
    assert.match(f, /q quit/);
    const lines = f.split("\n");
    assert.ok(lines.length <= 23, `${lines.length} lines: one short of the terminal, so Ink never clears the screen`);
    for (const l of lines) assert.ok(l.length <= 80, `too wide (${l.length}): ${l}`);
  });

  it("puts the source at the head, selects the step the data was read for, and shows its in-progress candle at 80×24", async () => {
    const feed = stepView({ name: "feed", role: "source", rank: 0, replicas: 1, running: 1, inputs: [], outputs: ["ticks"], lag: [], lagTotal: null, feature: null, freshnessMs: 300, source: { type: "replay", endpoint: "t.jsonl", products: ["ETH-USD"], connected: true, reconnects: 0, duplicates: 0, lastMessageAt: T0 } });
    const many = Array.from({ length: 100 }, (_, i) => candle(i - 100, 10 + (i % 5), 11 + (i % 3), 13, 9));
    const fixed = data({ steps: [feed, ...data().steps], candles: { ...data().candles!, records: many.slice(-68), inProgress: { ...candle(0, 11, 12, 12.5, 10.5), count: 9 } } });
    const queries: DashboardQuery[] = [];
    const inst = render(createElement(App, { load: async (q) => {
          queries.push(q);
          return fixed;
        }, initial: fixed, refreshMs: 60_000, columns: 80, rows: 24, color: false }));
    mounted.push(inst);
    const f = await frame(inst, /in progress/);
    const lines = f.split("\n");
    assert.match(lines[1]!, /^source \[feed\] running · replay connected, 0 reconnects, 0 dup ─▶ ticks$/);
    assert.match(f, /^▶ ohlc /m, "the step with candles is selected, not the source");
    assert.match(f, /^ {2}feed\s+running\s+1\/1 .* 0\.3s\s+1$/m);
    assert.match(f, /candles ohlc1m · ETH-USD · 68 × 1m · 10:52–12:00/);
    assert.match(f, /^░ in progress 12:00 O 11\.000 H 12\.500 L 10\.500 C 12\.000 V 1 · 9 ticks$/m);
    assert.ok(lines.length <= 23 && lines.every((l) => l.length <= 80), f);
    await waitFor(() => queries.length > 0);
    assert.equal(queries[0]!.candles, 68, "asks for as many candles as the chart shows");
  });

  it("j/k and the arrows move the selection; the selected step is what gets loaded", async () => {
    const { inst, queries } = app();
    await frame(inst, /▶ ohlc/);
    inst.stdin.write("j");
    await frame(inst, /▶ counter/);
    assert.match(inst.lastFrame() ?? "", /counter: kafka consumer: boom/, "the selected step's last error is on the status line");
    await waitFor(() => queries.some((q) => q.step === "counter"));
    inst.stdin.write("j");
    await frame(inst, /▶ counter/);
    inst.stdin.write("k");
    await frame(inst, /▶ ohlc/);
    inst.stdin.write("\u001B[B");
    await frame(inst, /▶ counter/);
    inst.stdin.write("\u001B[A");
    await frame(inst, /▶ ohlc/);
  });

  it("Enter opens the details (replicas, lag per partition), Enter again goes back", async () => {
    const { inst } = app();
    inst.stdin.write("\r");
    const f = await frame(inst, /lag \(group ohlc/);
    assert.match(f, /ohlc — Service, running, 2\/2 replicas, 1 restarts/);
    assert.match(f, /#0\s+101\s+running\s+1\s+12:00:00 killed by SIGKILL at 11:59:59/);
    assert.match(f, /ticks\s+12 p0 100−90=10 · p1 52−50=2/);
    inst.stdin.write("\r");
    await frame(inst, /TREND/);
  });

  it("Enter on a source shows its feed: health, time since the last message, endpoint and products", async () => {
    const feed = stepView({ name: "feed", role: "source", rank: 0, replicas: 1, running: 1, instances: [], inputs: [], outputs: ["ticks"], lag: [], lagTotal: null, feature: null, freshnessMs: 2_500, source: { type: "coinbase", endpoint: "wss://ws-feed.example", products: ["ETH-USD", "BTC-USD"], connected: false, reconnects: 3, duplicates: 2, lastMessageAt: T0 } });
    const { inst } = app({ initial: data({ steps: [feed, ...data().steps], selected: "feed" }), load: async () => data({ steps: [feed, ...data().steps], selected: "feed" }) });
    inst.stdin.write("\r");
    const f = await frame(inst, /last message/);
    assert.match(f, /source coinbase DISCONNECTED, 3 reconnects, 2 dup · last message 2\.5s ago/);
    assert.match(f, /reads wss:\/\/ws-feed\.example · products ETH-USD, BTC-USD/);
  });

  it("l shows the selected step's logs", async () => {
    const { inst, queries } = app();
    inst.stdin.write("l");
    const f = await frame(inst, /second line/);
    assert.match(f, /logs of ohlc/);
    assert.match(f, /\[ohlc#0\] first line/);
    assert.ok(queries.some((q) => q.logs === true && q.step === "ohlc"));
  });

  it("r asks for a restart of the selected step", async () => {
    const restarted: string[] = [];
    const { inst } = app({ onRestart: (s) => void restarted.push(s) });
    inst.stdin.write("j");
    await frame(inst, /▶ counter/);
    inst.stdin.write("r");
    await frame(inst, /restart of counter requested/);
    assert.deepEqual(restarted, ["counter"]);
  });

  it("p moves to the next product", async () => {
    const { inst, queries } = app();
    inst.stdin.write("p");
    await waitFor(() => queries.some((q) => q.product === "BTC-USD"));
  });

  it("q quits", async () => {
    let quit = 0;
    const { inst } = app({ onQuit: () => quit++ });
    inst.stdin.write("q");
    await waitFor(() => quit === 1);
  });

  it("reports a failed refresh and keeps the last data", async () => {
    let calls = 0;
    const { inst } = app({
      load: async () => {
        calls++;
        throw new Error("redis went away");
      },
      refreshMs: 50,
    });
    const f = await frame(inst, /refresh failed: redis went away/);
    assert.match(f, /▶ ohlc/);
    await waitFor(() => calls >= 2);
  });
});

describe("plain tables", () => {
  it("prints the dashboard as a plain table with the lag, rate and freshness columns", () => {
    const text = plainDashboard(data(), 100);
    assert.match(text, /ticks \(lag 12\) ─▶ \[ohlc ×2\] running ─▶ candles/);
    assert.match(text, /STEP\s+STATE\s+REPL\s+IN\/s\s+OUT\/s\s+TREND\s+LAG\s+REJ\/s\s+LATE\/s\s+FRESH/);
    assert.match(text, /ohlc\s+running\s+2\/2\s+123\s+2\s+▁▄▇█\s+12\s+0\.5\s+0\.3\s+1m\s+6/);
    assert.match(text, /candles ohlc1m ETH-USD/);
    assert.ok(!text.includes("\u001b["), "no colour");
  });

  it("prints the status table", () => {
    const status: PipelineStatus = {
      file: "/p/.quixlab/pipeline.json",
      found: true,
      running: true,
      state: "running",
      supervisor: { pid: 100, alive: true, startedAt: "2024-01-01T12:00:00.000Z" },
      descriptor: "/p/quix.yaml",
      logFile: "/p/.quixlab/pipeline.log",
      brokers: ["127.0.0.1:9092"],
      redisUrl: null,
      steps: [
        {
          name: "ohlc",
          kind: "Service",
          state: "degraded",
          consumerGroup: "ohlc",
          inputs: ["ticks"],
          outputs: ["candles"],
          replicas: 2,
          running: 1,
          restarts: 3,
          pids: [101],
          instances: [{ index: 0, pid: null, alive: false, state: "backoff", restarts: 3, startedAt: null, lastExit: { code: 2, signal: null, at: "2024-01-01T12:00:05.000Z", line: "error: no input topic" } }],
          metrics: null,
        },
      ],
      skipped: [{ name: "seed", reason: "desiredStatus is Stopped" }],
      metrics: "off",
    };
    const text = statusTable(status);
    assert.match(text, /supervisor pid 100, up since 12:00:00/);
    assert.match(text, /ohlc\s+Service\s+degraded\s+1\/2\s+101\s+3\s+-\s+-\s+-\s+-\s+-\s+exit 2 at 12:00:05: error: no input topic/);
    assert.match(text, /not started: seed \(desiredStatus is Stopped\)/);
    assert.equal(statusTable({ ...status, found: false }), "no pipeline is running here — start one with 'quixlab up'\n");
  });
});

async function waitFor(pred: () => boolean, ms = 3_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}
