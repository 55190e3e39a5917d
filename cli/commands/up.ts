import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { relative } from "node:path";
import { InputError } from "../../src/errors/index.js";
import { INFRA_ENV } from "../../src/pipeline/plan.js";
import { pipelineLogFile } from "../../src/pipeline/state.js";
import { RUNTIMES, type Runtime } from "../../src/pipeline/runtime.js";
import { pipelineStatus } from "../../src/pipeline/status.js";
import { runPipeline, startDetached } from "../../src/pipeline/up.js";
import { stateDir } from "../../src/util/paths.js";
import { parse, parseVarFlags } from "../args.js";
import { type Command, colorEnabled, paint } from "../io.js";
import { statusTable } from "../ui/dashboard/plain.js";

const usage = "quixlab up [--descriptor quix.yaml] [--detach] [--broker auto|local|testcontainers|HOST:PORT] [--redis auto|local|none|URL] [--runtime auto|process|docker] [--var NAME=VALUE]... [--json]";

const infra = Object.entries(INFRA_ENV)
  .map(([name, what]) => `  ${name.padEnd(24)} ${what}`)
  .join("\n");

const command: Command = {
  summary: "run quix.yaml locally: Kafka, Redis, topics, and every deployment as supervised processes or containers",
  help: `usage: ${usage}

Provisions a Kafka broker and Redis (a broker/Redis from 'quixlab services up' is reused; otherwise the auto
providers: KAFKA_BROKERS / REDIS_URL, Docker, else a local JVM broker and redis-server), creates the topics of
quix.yaml with their partitions (replication capped at the brokers there are), and starts every deployment whose
desiredStatus is Running (or unset) and that is not disabled:

  a Node app         node --import tsx <application>/<runEntryPoint>   per replica, in its application folder
                     (runEntryPoint comes from the application's app.yaml; e.g. a main.ts that calls runStep)
  any other app      (Python, a Dockerfile that is not Node's, no runEntryPoint): its Dockerfile is built
                     (docker build, classic builder) and each replica runs in a container on the host network
  a prebuilt image   run as a container when the local engine has it

Without a Docker engine the deployments that need one are not started, and 'up' says which and why; so are
Managed deployments (Quix Cloud runs them from its own images) and disabled ones.

with the deployment's variables as environment variables of the same name (app.yaml defaults, overridden by
the deployment's values) and:
${infra}

Services have 'replicas' processes in one consumer group and are restarted with exponential backoff (0.5 s,
doubling to 30 s) when they exit; Jobs run once to completion. Output lines are prefixed [step#replica] and
also written to .quixlab/pipeline.log. State: .quixlab/pipeline.json (read by status, down and dashboard).

Without --detach it runs in the foreground until Ctrl-C, then stops everything it started.

options:
  --descriptor FILE  the project descriptor (default quix.yaml)
  --detach           run the supervisor in the background and return once every replica runs
  --broker P         auto (default), local, testcontainers, or HOST:PORT
  --redis P          auto (default), local, none, or redis://HOST:PORT
  --runtime R        auto (default): Node apps as processes, the others in Docker when an engine answers;
                     process: Node processes only; docker: every app with a Dockerfile in a container
  --var NAME=VALUE   a value for quix.yaml's {{NAME}} placeholders (repeatable); before it come the project's
                     .quix.yaml.variables (NAME=VALUE lines) and then the environment; one left without a value
                     is an error naming it and its line
  --timeout SEC      --detach: how long to wait for the steps (default 180)
  --json             --detach: print the status as one JSON object

exit codes: 0 running (foreground: stopped cleanly), 1 a step did not start, a pipeline already runs here, or
quix.yaml/app.yaml is invalid (every problem listed at its line, unresolved placeholders too), 2 bad flags, a
missing file, or a missing program (java, mvn, redis-server)`,

  async run(argv, io) {
    const { values, positionals } = parse(
      argv,
      {
        descriptor: { type: "string" },
        detach: { type: "boolean" },
        broker: { type: "string" },
        redis: { type: "string" },
        runtime: { type: "string" },
        var: { type: "string", multiple: true },
        timeout: { type: "string" },
        json: { type: "boolean" },
        // Internal: this process is the background supervisor started by --detach (output goes to the log file).
        supervisor: { type: "boolean" },
      },
      usage,
    );
    if (positionals.length > 0) throw new InputError(`unexpected argument '${positionals[0]}'`, { remedy: `usage: ${usage}` });
    const timeout = values.timeout === undefined ? 180 : Number(values.timeout);
    if (!Number.isFinite(timeout) || timeout <= 0) throw new InputError(`bad --timeout '${values.timeout}'`, { remedy: "give seconds, e.g. --timeout 120" });
    if (values.runtime !== undefined && !(RUNTIMES as readonly string[]).includes(values.runtime)) {
      throw new InputError(`bad --runtime '${values.runtime}'`, { remedy: `use one of ${RUNTIMES.join(", ")}` });
    }
    const runtime = values.runtime as Runtime | undefined;
    const vars = parseVarFlags(values.var ?? []);
    const common = { cwd: io.cwd, descriptor: values.descriptor, broker: values.broker, redis: values.redis, runtime, vars, env: io.env };

    if (values.detach) {
      await startDetached({ ...common, timeoutMs: timeout * 1000 });
      const status = await pipelineStatus(io.cwd, { metrics: false });
      const ok = status.steps.every((s) => (s.kind === "Job" ? s.state !== "failed" : s.running === s.replicas));
      if (values.json) io.stdout.write(`${JSON.stringify(status)}\n`);
      else {
        io.stdout.write(statusTable(status));
        io.stdout.write(`\nrunning in the background; logs in ${relative(io.cwd, pipelineLogFile(io.cwd))}; stop it with 'quixlab down'\n`);
      }
      if (!ok) io.stderr.write("error: some replicas exited while starting; the supervisor keeps restarting them — see 'quixlab status' and the log\n");
      return ok ? 0 : 1;
    }

    const color = colorEnabled(io.stdout, io.env) && !values.supervisor;
    let out: (line: string) => void;
    let fd: number | undefined;
    if (values.supervisor) {
      // Our stdout is the log file already.
      out = (line) => io.stdout.write(`${line}\n`);
    } else {
      mkdirSync(stateDir(io.cwd), { recursive: true });
      const file = openSync(pipelineLogFile(io.cwd), "w");
      fd = file;
      out = (line) => {
        writeSync(file, `${line}\n`);
        io.stdout.write(`${color ? colourPrefix(line) : line}\n`);
      };
    }
    try {
      const pipeline = await runPipeline({ ...common, log: out, processGroup: values.supervisor });
      let signals = 0;
      const onSignal = (sig: NodeJS.Signals) => {
        if (++signals > 1) {
          out(`[quixlab] ${sig} again: already stopping (replicas get SIGKILL after a 10 s grace)`);
          return;
        }
        out(`[quixlab] ${sig}: stopping`);
        void pipeline.stop();
      };
      const sigs = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
      for (const s of sigs) process.on(s, onSignal);
      try {
        await pipeline.done;
      } finally {
        for (const s of sigs) process.off(s, onSignal);
      }
      return 0;
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  },
};

export default command;

const PALETTE = [36, 35, 33, 34, 32, 96, 95, 93];

/** Colour a `[step#replica]` prefix by step, so interleaved output stays readable. */
function colourPrefix(line: string): string {
  const m = /^\[([^\]#]+)(#\d+)?\]/.exec(line);
  if (!m) return line;
  let h = 0;
  for (const ch of m[1]!) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return paint(true, m[1] === "quixlab" ? 2 : PALETTE[h % PALETTE.length]!, m[0]) + line.slice(m[0].length);
}
