/** @jsxRuntime automatic @jsxImportSource react */
import { resolve } from "node:path";
import { render } from "ink";
import { InputError } from "../../src/errors/index.js";
import { MAX_PARTITIONS } from "../../src/replay/plan.js";
import { type ReplayOptions, type ReplayProgress, replay } from "../../src/replay/replay.js";
import { type ReplayReport, replayOk, reportJson, reportText } from "../../src/replay/report.js";
import { parse } from "../args.js";
import { type Command, colorEnabled, paint } from "../io.js";
import { ReplayView } from "../ui/replay/ReplayView.js";

const usage =
  "quixlab replay (<module.ts#export> | --chain <module.ts#export> | --vectors SPEC | --model <module.ts#export>) --ticks <file> [--broker auto|local|testcontainers|HOST:PORT] [--redis auto|URL|none] [--speed max|1x|Nx] [--partitions N] [--out file] [--json] [--chaos N] [--keep]";

/** The flag of each option src/replay's plan checks, with the remedy in flag terms. */
const FLAGS: Partial<Record<keyof ReplayOptions, { flag: string; remedy: string }>> = {
  ticks: { flag: "--ticks", remedy: "give the recorded ticks, e.g. --ticks data/coinbase-ticker-2021-04-17.jsonl" },
  partitions: { flag: "--partitions", remedy: `give a whole number from 1 to ${MAX_PARTITIONS}, e.g. --partitions 3` },
  speed: { flag: "--speed", remedy: "use max, 1x, or Nx (e.g. --speed 10x, --speed 0.5x)" },
  chaos: { flag: "--chaos", remedy: "give a whole number of kills, e.g. --chaos 5" },
  seed: { flag: "--seed", remedy: "give a whole number, e.g. --seed 1" },
};

/** The plan names the option it rejects (in the error's context, not its message); the user typed a flag, so name that. */
function asFlagError(e: unknown): unknown {
  if (!(e instanceof InputError)) return e;
  const f = FLAGS[e.context.option as keyof ReplayOptions];
  if (!f) return e;
  return new InputError(`bad ${f.flag} '${String(e.context.value)}'`, { remedy: f.remedy, cause: e, context: { field: f.flag } });
}

const command: Command = {
  summary: "replay recorded ticks through a real Kafka into the streaming step and prove parity with batch",
  help: `usage: ${usage}

Runs the feature in batch over the file, then produces the same ticks (keyed by product, timestamped with their
event time) to a fresh topic on a real Kafka broker, runs the feature as a streaming step in a child process
('quixlab run', as a deployment runs it), marks the end of input, reads the step's output back and compares it
window for window with the batch result.

options:
  --ticks FILE       recorded ticks: .jsonl, .json (array) or .csv (required)
  --csv-map MAP      CSV column mapping, e.g. product_id=symbol,price=price,last_size=amount,time=timestamp:us
  --broker B         auto (default: a given address / KAFKA_BROKERS, a broker from 'quixlab services up',
                     testcontainers when Docker answers, else a local Kafka), local, testcontainers, HOST:PORT
  --redis R          auto (default), none (no online store), local, or redis://HOST:PORT
  --speed S          max (default) or Nx: play event time back N times faster than it happened (1x = real time)
  --partitions N     input/output partitions (default 3)
  --out FILE         write the windows the stream produced (JSON Lines, output record format)
  --json             print the report as one JSON object on stdout
  --chaos N          SIGKILL the step N times at random points and restart it; parity must still hold
  --exactly-once     run the step with Kafka transactions instead of at-least-once
  --keep             keep the topics and consumer groups (they are deleted by default)
  --vectors SPEC     e.g. ohlc1h:30d,ohlc1m:today,ohlc60s:latest: run each feature's step on the ticks into the
                     online store (a fresh one: --redis local), read every key's vector from Redis at random
                     moments while the ticks go in (best with --speed 50x) and after the end, and check each equals
                     the batch vector at its asOf (features: exports of those names in the reference's module, or
                     quixlab's ohlc.ts without one); exit 1 when any differs
  --model REF        a model made by defineModel (e.g. a notebook's exported cell, extracted): its vector's features
                     run as with --vectors, the model step beside them reads the trigger feature's output and the
                     store, and its predictions must equal the batch predictions (batchPredictions) one for one
  --chain REF        the feature, when it reads another feature (input: ohlc1m): every step of the chain runs,
                     each on the step before's output, and the report has one section per step (a positional
                     reference of such a feature does the same)

exit codes: 0 parity holds, 1 parity failed, 2 bad flags or input`,
  async run(argv, io) {
    const { values, positionals } = parse(
      argv,
      {
        ticks: { type: "string" },
        "csv-map": { type: "string" },
        broker: { type: "string" },
        redis: { type: "string" },
        speed: { type: "string" },
        partitions: { type: "string" },
        out: { type: "string", short: "o" },
        json: { type: "boolean" },
        chaos: { type: "string" },
        keep: { type: "boolean" },
        "exactly-once": { type: "boolean" },
        seed: { type: "string" },
        chain: { type: "string" },
        vectors: { type: "string" },
        model: { type: "string" },
      },
      usage,
    );
    if (values.chain !== undefined && positionals.length) {
      throw new InputError(`give the feature once: '${positionals[0]}' or --chain ${values.chain}`, { remedy: `usage: ${usage}` });
    }
    const ref = values.chain ?? positionals[0] ?? (values.vectors !== undefined || values.model !== undefined ? "" : undefined);
    if (ref === undefined) throw new InputError("missing the feature reference", { remedy: `usage: ${usage}` });
    if (positionals.length > 1) throw new InputError(`unexpected argument '${positionals[1]}'`, { remedy: `usage: ${usage}` });
    if (!values.ticks) throw new InputError("missing --ticks", { remedy: `usage: ${usage}` });
    const int = (v: string | undefined, flag: string) => {
      if (v === undefined) return undefined;
      if (!/^\d+$/.test(v)) throw new InputError(`bad ${flag} '${v}'`, { remedy: `give a whole number, e.g. ${flag} 3` });
      return Number(v);
    };
    const tty = Boolean(io.stdout.isTTY) && !values.json;
    const color = colorEnabled(io.stdout, io.env);
    const logs: string[] = [];
    let progress: ReplayProgress = { phase: "starting", ticks: 0, produced: 0, windowsExpected: 0, windowsReceived: 0, producedPerSec: 0, kills: 0 };
    const ink = tty ? render(<ReplayView progress={progress} />, { stdout: io.stdout, stderr: io.stderr, patchConsole: false }) : undefined;
    let lastDraw = 0;
    let report: ReplayReport;
    try {
      report = await replay({
        ref,
        ticks: values.ticks,
        cwd: io.cwd,
        broker: values.broker,
        redis: values.redis,
        speed: values.speed,
        partitions: int(values.partitions, "--partitions"),
        out: values.out === undefined ? undefined : resolve(io.cwd, values.out),
        chaos: int(values.chaos, "--chaos"),
        seed: int(values.seed, "--seed"),
        keep: values.keep,
        exactlyOnce: values["exactly-once"],
        vectors: values.vectors,
        model: values.model,
        csvMap: values["csv-map"],
        log: (line) => {
          logs.push(line);
          if (ink) ink.rerender(<ReplayView progress={progress} logs={[...logs]} />);
          else if (!values.json) io.stderr.write(`${line}\n`);
        },
        onProgress: (p) => {
          progress = p;
          const now = Date.now();
          if (ink && (now - lastDraw > 100 || p.phase !== "producing")) {
            lastDraw = now;
            ink.rerender(<ReplayView progress={progress} logs={[...logs]} />);
          }
        },
      });
    } catch (e) {
      ink?.unmount();
      throw asFlagError(e);
    }
    if (ink) {
      ink.rerender(<ReplayView progress={progress} report={report} logs={[...logs]} />);
      ink.unmount();
      await ink.waitUntilExit();
    } else if (values.json) {
      io.stdout.write(`${JSON.stringify(reportJson(report))}\n`);
    } else {
      io.stdout.write(reportText(report, (s) => paint(color, replayOk(report) ? 32 : 31, s)));
    }
    return replayOk(report) ? 0 : 1;
  },
};

export default command;
