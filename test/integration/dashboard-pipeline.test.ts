/**
 * The dashboard over a real pipeline that `quixlab up` runs on the session's Kafka and Redis: a replay source
 * deployment (src/source, paced at 1x over ticks timed from now) → the OHLC fixture step with 1-minute candles and
 * `emit: "update"` → Redis. Forty minutes of earlier ticks go in first with `quixlab source replay --speed max`,
 * so there is a trend to draw. `quixlab dashboard --once --json` must put the source first with its feed's health,
 * time the step's freshness, hold ≥30 final candles and an in-progress candle that changes between two reads; and
 * in tmux at 80×24 the screen shows the in-progress minute updating.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { after, before, describe, it } from "node:test";
import type { DashboardData } from "../../src/pipeline/dashboard.js";
import { waitFor } from "../../src/util/net.js";
import { testServices, uniqueName } from "../harness/services.js";
import { bin, quixlab, repoRoot } from "../helpers/cli.js";

const MINUTE = 60_000;
const PRODUCTS = ["BTC-USD", "ETH-USD", "SOL-USD"];

/** Ticker messages for every product each `everyMs` from `from` to `to` (epoch ms), prices walking upward. */
function ticks(from: number, to: number, everyMs: number, seq: { n: number }): string {
  const lines: string[] = [];
  for (let t = from; t < to; t += everyMs) {
    for (const [i, product] of PRODUCTS.entries()) {
      const n = seq.n++;
      const price = (100 * (i + 1) + (t - from) / 20_000 + Math.sin(n / 7)).toFixed(2);
      lines.push(JSON.stringify({ type: "ticker", sequence: n, trade_id: n, product_id: product, price, last_size: "0.5", time: new Date(t).toISOString() }));
    }
  }
  return `${lines.join("\n")}\n`;
}

describe("the dashboard over a pipeline quixlab up runs: replay source → 1m candles with updates → Redis", () => {
  const tag = randomBytes(2).toString("hex");
  const source = `feed-${tag}`;
  const step = `ohlc-${tag}`;
  const topic = uniqueName("dashboard-pipeline", "ticks");
  const candles = uniqueName("dashboard-pipeline", "candles");
  const feature = uniqueName("dashboard-pipeline", "ohlc1m").replace(/-/g, "_");
  const socket = `quixlab-dashp-${tag}`;
  let dir: string;
  let brokers: string[];
  let redisUrl: string;
  const cli = (...args: string[]) => quixlab(args, { cwd: dir, timeoutMs: 240_000 });
  const logTail = () => {
    try {
      return readFileSync(join(dir, ".quixlab", "pipeline.log"), "utf8").split("\n").slice(-30).join("\n");
    } catch {
      return "(no log)";
    }
  };

  before(async () => {
    ({ brokers, redisUrl } = await testServices());
    dir = mkdtempSync(join(tmpdir(), "quixlab-dashboard-pipeline-"));
    const now = Date.now();
    const seq = { n: 1 };
    writeFileSync(join(dir, "history.jsonl"), ticks(Math.floor(now / MINUTE) * MINUTE - 40 * MINUTE, now, 5_000, seq));
    // The source app, as 'quixlab add source replay' would write it, but on this repository's src/.
    const app = join(dir, "feed");
    mkdirSync(app);
    writeFileSync(join(app, "package.json"), '{ "type": "module" }\n');
    writeFileSync(join(app, "live.jsonl"), ticks(now + 3_000, now + 20 * MINUTE, 400, seq));
    writeFileSync(
      join(app, "main.ts"),
      [
        `import { resolveSourceConfig, runSource } from ${JSON.stringify(join(repoRoot, "src/source/index.ts"))};`,
        'const log = (line: string) => process.stderr.write(line + "\\n");',
        "const stop = new AbortController();",
        'process.once("SIGTERM", () => stop.abort());',
        'const config = await resolveSourceConfig("replay", process.env, {}, { log });',
        "await runSource(config, { log, signal: stop.signal }).done;",
        "",
      ].join("\n"),
    );
    writeFileSync(
      join(app, "app.yaml"),
      [
        `name: ${source}`,
        "language: nodejs",
        "variables:",
        "  - { name: output, inputType: OutputTopic, required: true }",
        "  - { name: ticks, inputType: FreeText, defaultValue: live.jsonl }",
        "  - { name: speed, inputType: FreeText, defaultValue: 1x }",
        // Named as Quix requires; a Node app with a .ts entry point runs as a process, so it is never built.
        "dockerfile: Dockerfile",
        "runEntryPoint: main.ts",
        "defaultFile: main.ts",
        "",
      ].join("\n"),
    );
    const ohlcApp = relative(dir, join(repoRoot, "test/fixtures/pipeline/ohlc"));
    const deployment = (name: string, application: string, vars: [string, string, string][]) => [
      `  - name: ${name}`,
      `    application: ${application}`,
      "    version: v1",
      "    deploymentType: Service",
      "    resources: { cpu: 100, memory: 256, replicas: 1 }",
      "    desiredStatus: Running",
      "    variables:",
      ...vars.map(([n, type, value]) => `      - { name: ${n}, inputType: ${type}, required: false, value: '${value}' }`),
    ];
    writeFileSync(
      join(dir, "quix.yaml"),
      [
        "metadata:",
        "  version: 1.0",
        "deployments:",
        // The step first: the dashboard orders by topic flow, not by the file.
        ...deployment(step, ohlcApp, [
          ["input", "InputTopic", topic],
          ["output", "OutputTopic", candles],
          ["window", "FreeText", "1m"],
          ["feature_name", "FreeText", feature],
          ["emit", "FreeText", "update"],
        ]),
        ...deployment(source, "feed", [
          ["output", "OutputTopic", topic],
          ["ticks", "FreeText", "live.jsonl"],
          ["speed", "FreeText", "1x"],
        ]),
        "topics:",
        `  - { name: ${topic}, persisted: false, configuration: { partitions: 1, replicationFactor: 1, retentionInMinutes: 60, retentionInBytes: -1 } }`,
        `  - { name: ${candles}, persisted: false, configuration: { partitions: 1, replicationFactor: 1, retentionInMinutes: 60, retentionInBytes: -1 } }`,
        "",
      ].join("\n"),
    );
    // The forty minutes before now, as fast as the broker takes them, before the pipeline starts.
    const history = await cli("source", "replay", "--ticks", join(dir, "history.jsonl"), "--topic", topic, "--speed", "max", "--broker", brokers.join(","), "--redis", "none");
    assert.equal(history.code, 0, history.out + history.err);
    const up = await cli("up", "--detach", "--broker", brokers.join(","), "--redis", redisUrl, "--timeout", "120");
    assert.equal(up.code, 0, up.out + up.err);
  });

  after(async () => {
    spawnSync("tmux", ["-L", socket, "kill-server"], { stdio: "ignore" });
    if (dir) {
      await cli("down");
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("--once --json: the source first, freshness, ≥30 final candles and an in-progress candle that moves", async () => {
    const read = async () => {
      const r = await cli("dashboard", "--once", "--json", "--step", step, "--product", "ETH-USD");
      assert.equal(r.code, 0, r.err);
      return JSON.parse(r.out) as DashboardData;
    };
    const first = await waitFor(
      async () => {
        const d = await read();
        const s = d.steps.find((x) => x.name === step);
        return s?.lastWindowEnd && d.candles?.inProgress && d.candles.records.length >= 30 && d.steps[0]!.consumedRate > 0 ? d : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 1_000, what: "the pipeline's candles and the in-progress one" },
    ).catch((e: Error) => {
      throw new Error(`${e.message}; the pipeline's log ends:\n${logTail()}`);
    });
    assert.deepEqual(first.steps.map((x) => [x.name, x.role, x.rank]), [[source, "source", 0], [step, "step", 1]]);
    const src = first.steps[0]!;
    assert.equal(src.source?.type, "replay");
    assert.ok(src.emittedRate > 0 && src.freshnessMs !== null && src.freshnessMs < 10_000, JSON.stringify(src));
    const s = first.steps[1]!;
    assert.equal(s.feature, feature);
    assert.ok(s.freshnessMs !== null && s.freshnessMs < 2 * MINUTE + 10_000, `freshness ${s.freshnessMs} ms`);
    const c = first.candles!;
    assert.ok(c.records.length >= 30, `${c.records.length} candles`);
    assert.ok(c.inProgress!.start >= c.records.at(-1)!.end, "the open minute comes after the finals");

    const later = await waitFor(
      async () => {
        const d = await read();
        const live = d.candles?.inProgress;
        return live && (live.start !== c.inProgress!.start || (live as { count?: number }).count !== (c.inProgress as { count?: number }).count) ? d : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 1_000, what: "the in-progress candle to change" },
    );
    assert.ok(later.candles!.inProgress);
  });

  it("in tmux at 80×24 the in-progress minute updates on screen", async () => {
    const r = spawnSync("tmux", ["-L", socket, "new-session", "-d", "-s", "d", "-x", "80", "-y", "24", "-c", dir, `env -u CI ${process.execPath} ${bin} dashboard --step ${step} --product ETH-USD`], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const screen = () => spawnSync("tmux", ["-L", socket, "capture-pane", "-p", "-t", "d"], { encoding: "utf8" }).stdout ?? "";
    const line = (s: string) => s.split("\n").find((l) => l.startsWith("░ in progress"));
    const first = await waitFor(async () => line(screen()), { timeoutMs: 30_000, intervalMs: 250, what: "the in-progress line" }).catch((e: Error) => {
      throw new Error(`${e.message}; screen:\n${screen()}`);
    });
    const s = screen();
    assert.match(s.split("\n")[1]!, new RegExp(`^source \\[${source}\\] running`));
    assert.match(s, /candles \S+ · ETH-USD · (\d{2,}) × 1m/);
    await waitFor(async () => {
      const l = line(screen());
      return l && l !== first ? l : undefined;
    }, { timeoutMs: 20_000, intervalMs: 250, what: "the in-progress candle to change on screen" });
    spawnSync("tmux", ["-L", socket, "send-keys", "-t", "d", "q"]);
  });
});
