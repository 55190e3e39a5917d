import { setTimeout as delay } from "node:timers/promises";
import { CheckFailedError, InputError } from "../../src/errors/index.js";
import { chartCapacity } from "../../src/chart/terminal.js";
import { requestRestart } from "../../src/pipeline/control.js";
import { collectDashboardData, type DashboardData, type DashboardQuery, openDashboardSource } from "../../src/pipeline/dashboard.js";
import { parse } from "../args.js";
import { type Command, colorEnabled } from "../io.js";
import { plainDashboard } from "../ui/dashboard/plain.js";

const usage = "quixlab dashboard [--interval MS] [--once] [--json] [--step NAME] [--product ID]";

const command: Command = {
  summary: "watch the running pipeline in the terminal: graph from the source, rates, lag, freshness, errors, candles",
  help: `usage: ${usage}

A live view of the pipeline 'quixlab up' runs here (.quixlab/pipeline.json):
- the graph in topic-flow order, the source (a deployment that reads no topic: coinbase, replay) at its head
  with its feed's health (connected, reconnects, duplicates dropped), then the steps reading its topics;
- per step: state, replicas, IN/s and OUT/s (a step's OUT/s is final windows per second; a source's, messages
  produced) with a trend, consumer lag per input topic (high watermark − committed, Kafka admin API),
  rejected and late ticks per second, FRESH (now − the end of its last final window; for a source, the time
  since its last message), restarts and the last error;
- the selected step's candles for one product from Redis, as many as fit the width (one column each: 68 at 80
  columns), with the in-progress candle (░, an open window's current value, for a feature with emit "update")
  and its open/high/low/close. Rising bodies are █, falling ▒, so the chart reads without colour too.
It only reads (metrics in Redis, Kafka admin calls), so it can be started and stopped at any time; each refresh
reads a bounded amount (the newest candles, never a whole history).

keys: ↑/↓ or j/k select a step · enter details (replicas, pids, lag per partition) · l logs · r restart the
      step (the supervisor restarts its replicas) · p next product · q quit

When stdout is not a terminal it prints a plain table every interval instead (until interrupted); no colour
then, nor under NO_COLOR.

options:
  --interval MS   refresh period (default 1000)
  --once          print one table (rates need two reads: it reads twice, one interval apart) and exit
  --json          print the data as JSON (one object per refresh)
  --step NAME     select this step first
  --product ID    show this product's candles first

exit codes: 0 ok, 1 no pipeline runs here, 2 bad flags`,

  async run(argv, io) {
    const { values, positionals } = parse(
      argv,
      { interval: { type: "string" }, once: { type: "boolean" }, json: { type: "boolean" }, step: { type: "string" }, product: { type: "string" } },
      usage,
    );
    if (positionals.length > 0) throw new InputError(`unexpected argument '${positionals[0]}'`, { remedy: `usage: ${usage}` });
    const interval = values.interval === undefined ? 1_000 : Number(values.interval);
    if (!Number.isFinite(interval) || interval < 100) throw new InputError(`bad --interval '${values.interval}'`, { remedy: "give milliseconds, at least 100" });
    const source = openDashboardSource(io.cwd);
    const width = io.stdout.columns ?? 100;
    const base: DashboardQuery = { step: values.step, product: values.product, candles: chartCapacity(Math.min(width, 200)), logLines: 200 };
    const load = (q: DashboardQuery) => collectDashboardData(source, { ...base, ...q });
    const print = (d: DashboardData) => io.stdout.write(values.json ? `${JSON.stringify(d)}\n` : plainDashboard(d, width));
    try {
      const first = await load({});
      if (!first.found) throw new CheckFailedError("no pipeline is running here", { remedy: "start one with 'quixlab up --detach'" });

      if (io.stdout.isTTY && process.stdin.isTTY && !values.once && !values.json) {
        const [{ render }, { createElement }, { App }] = await Promise.all([import("ink"), import("react"), import("../ui/dashboard/App.js")]);
        const app = render(
          createElement(App, {
            load,
            initial: first,
            refreshMs: interval,
            onRestart: (step: string) => requestRestart(io.cwd, step),
            step: values.step,
            product: values.product,
            color: colorEnabled(io.stdout, io.env),
          }),
          { stdout: io.stdout, stdin: process.stdin, exitOnCtrlC: true },
        );
        await app.waitUntilExit();
        return 0;
      }

      if (values.once) {
        // Rates are differences between two reads; the steps report once a second.
        await delay(Math.max(interval, 1_100));
        print(await load({}));
        return 0;
      }
      const ac = new AbortController();
      const stop = () => ac.abort();
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      try {
        print(first);
        while (!ac.signal.aborted) {
          await delay(interval, undefined, { signal: ac.signal }).catch(() => undefined);
          if (!ac.signal.aborted) print(await load({}));
        }
      } finally {
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
      }
      return 0;
    } finally {
      await source.close();
    }
  },
};

export default command;
