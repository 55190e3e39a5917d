import { InputError } from "../../src/errors/index.js";
import { pipelineDown } from "../../src/pipeline/down.js";
import { parse } from "../args.js";
import type { Command } from "../io.js";

const usage = "quixlab down [--json]";

const command: Command = {
  summary: "stop the pipeline 'quixlab up' started here: steps, supervisor, and the broker/Redis it started",
  help: `usage: ${usage}

Sends SIGTERM to the supervisor recorded in .quixlab/pipeline.json, which stops every replica (SIGTERM, SIGKILL
after 10 s) and then the Kafka broker and Redis it started itself (a broker or Redis it reused — from
'quixlab services up', KAFKA_BROKERS or a URL — is left running). Then it checks: any replica or service
process still alive (the supervisor died or hung) is ended here, so nothing is left behind. Safe to run when
nothing runs.

options:
  --json   print {found, supervisorPid, running: [pids], forced: [pids], containers: [ids]}

exit codes: 0 stopped (or nothing to stop), 2 bad flags`,

  async run(argv, io) {
    const { values, positionals } = parse(argv, { json: { type: "boolean" } }, usage);
    if (positionals.length > 0) throw new InputError(`unexpected argument '${positionals[0]}'`, { remedy: `usage: ${usage}` });
    const log = values.json ? undefined : (line: string) => io.stderr.write(`${line}\n`);
    const result = await pipelineDown(io.cwd, { log });
    if (values.json) io.stdout.write(`${JSON.stringify(result)}\n`);
    else if (!result.found) io.stdout.write("no pipeline is recorded here; nothing to stop\n");
    else {
      const forced = result.forced.length > 0 ? ` (${result.forced.length} left behind by the supervisor were ended: ${result.forced.join(", ")})` : "";
      io.stdout.write(`pipeline stopped: ${result.running.length} processes were running${forced}\n`);
    }
    return 0;
  },
};

export default command;
