import { InputError } from "../../src/errors/index.js";
import { pipelineStatus } from "../../src/pipeline/status.js";
import { parse } from "../args.js";
import type { Command } from "../io.js";
import { statusTable } from "../ui/dashboard/plain.js";

const usage = "quixlab status [--json] [--no-metrics]";

const command: Command = {
  summary: "list the running pipeline's steps, replicas, pids, states and restarts (+ metrics)",
  help: `usage: ${usage}

Reads .quixlab/pipeline.json (kept by the supervisor 'quixlab up' started) and shows, per step: kind, state
(running, degraded, restarting, starting, completed, failed), replicas running/asked, their pids, restarts,
and — when Redis is reachable — what the replicas report: consumed, emitted, rejected, late, open windows and
their last error.

options:
  --json         one JSON object: {found, running, supervisor, brokers, redisUrl, steps: [{name, kind, state,
                 replicas, running, restarts, pids, instances: [{index, pid, alive, state, restarts, lastExit}],
                 metrics}], skipped, metrics}
  --no-metrics   do not contact Redis

exit codes: 0 a pipeline runs here, 1 none does (or its supervisor died), 2 bad flags`,

  async run(argv, io) {
    const { values, positionals } = parse(argv, { json: { type: "boolean" }, "no-metrics": { type: "boolean" } }, usage);
    if (positionals.length > 0) throw new InputError(`unexpected argument '${positionals[0]}'`, { remedy: `usage: ${usage}` });
    const status = await pipelineStatus(io.cwd, { metrics: !values["no-metrics"] });
    io.stdout.write(values.json ? `${JSON.stringify(status)}\n` : statusTable(status));
    return status.running ? 0 : 1;
  },
};

export default command;
