import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { InputError } from "../../src/errors/index.js";
import { loadFeatureRef, resolveFeatureRef } from "../../src/feature/ref.js";
import { resolveModelStepConfig } from "../../src/model/config.js";
import { isModel, type Model } from "../../src/model/define.js";
import { runModelStep } from "../../src/model/step.js";
import { resolveStepConfig, STEP_ENV } from "../../src/stream/config.js";
import { runStep } from "../../src/stream/step.js";
import { parse } from "../args.js";
import type { Command } from "../io.js";

const usage = "quixlab run <module.ts#export> [--input TOPIC] [--output TOPIC] [--broker HOST:PORT] [--redis none|URL] [--group G] [--exactly-once]";

const envHelp = Object.entries(STEP_ENV)
  .map(([name, what]) => `  ${name.padEnd(28)} ${what}`)
  .join("\n");

/** The model a reference names, when it names one (anything else is loaded, and explained, as a feature). */
async function modelOf(ref: string, cwd: string): Promise<Model | undefined> {
  const hash = ref.lastIndexOf("#");
  if (hash <= 0) return undefined;
  const mod = (await import(pathToFileURL(resolve(cwd, ref.slice(0, hash))).href).catch(() => undefined)) as Record<string, unknown> | undefined;
  const value = mod?.[ref.slice(hash + 1)];
  return isModel(value) ? value : undefined;
}

const command: Command = {
  summary: "run a feature (or a model) as a streaming step on Kafka (what a promoted deployment runs)",
  help: `usage: ${usage}

Consumes ticks from the input topic in a consumer group, windows them with the same engine as 'quixlab batch'
(one engine per assigned partition) and writes each final window to the output topic (key = product, value =
the output record JSON) and, with Redis, to the online store (quixlab:<feature>:latest:<key> and
quixlab:<feature>:windows:<key>). Rejected messages go to the dead-letter topic with the original bytes and the
reason; late ticks go to the late topic. State is checkpointed to <group>.<feature>.changelog together with the
consumed offsets, so a restarted or rebalanced step continues exactly where it stopped. Metrics are published to
Redis (quixlab:metrics:<group>:<replica>) every second. SIGTERM/SIGINT: finish the batch, checkpoint, leave.

A model (made by defineModel) runs as the model step instead: input is the trigger feature's output topic,
REDIS_URL the store the vector's features are in (required); each final trigger window gives one prediction,
keyed by product, to output and to Redis (quixlab:<model>:prediction:<key>). --exactly-once and --late do not
apply to it.

End of input: a message with header quixlab-control=eof on an input partition flushes that partition's open
windows and is forwarded to every output partition (src/stream/README.md has the contract).

configuration (environment variables, named like the descriptor's variables; flags override them):
${envHelp}

options:
  --input TOPIC        overrides 'input'
  --output TOPIC       overrides 'output'
  --broker HOST:PORT   overrides Quix__Broker__Address / KAFKA_BROKERS (which win over Quix__Sdk__Token)
  --redis none|URL     overrides REDIS_URL
  --group NAME         overrides 'consumer_group'
  --dlq TOPIC          overrides 'dlq'
  --late TOPIC         overrides 'late'
  --exactly-once       overrides 'processing' (Kafka transactions; read the output with read_committed)

example:
  input=ticks output=ohlc1m KAFKA_BROKERS=127.0.0.1:9092 REDIS_URL=redis://127.0.0.1:6379 \\
    quixlab run src/feature/shipped/ohlc.ts#ohlc1m

exit codes: 0 stopped cleanly, 1 the step failed, 2 missing or bad configuration`,

  async run(argv, io) {
    const { values, positionals } = parse(
      argv,
      {
        input: { type: "string" },
        output: { type: "string" },
        broker: { type: "string" },
        redis: { type: "string" },
        group: { type: "string" },
        dlq: { type: "string" },
        late: { type: "string" },
        "exactly-once": { type: "boolean" },
      },
      usage,
    );
    const ref = positionals[0];
    if (!ref || positionals.length > 1) throw new InputError(ref ? `unexpected argument '${positionals[1]}'` : "missing the feature reference", { remedy: `usage: ${usage}` });
    const log = (line: string) => io.stderr.write(`${new Date().toISOString()} ${line}\n`);
    const flags = {
      input: values.input,
      output: values.output,
      broker: values.broker,
      redis: values.redis,
      group: values.group,
      dlq: values.dlq,
      late: values.late,
      exactlyOnce: values["exactly-once"],
    };
    const model = await modelOf(ref, io.cwd);
    const ac = new AbortController();
    let signals = 0;
    const onSignal = (sig: NodeJS.Signals) => {
      if (++signals > 1) {
        log(`${sig} again: exiting without a clean shutdown (the step resumes from its last checkpoint)`);
        process.exit(130);
      }
      log(`${sig}: shutting down`);
      ac.abort();
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    try {
      if (model) {
        const env = { ...io.env, ...Object.fromEntries(Object.entries({ input: flags.input, output: flags.output, Quix__Broker__Address: flags.broker, REDIS_URL: flags.redis, consumer_group: flags.group, dlq: flags.dlq }).filter(([, v]) => v !== undefined)) };
        const step = await runModelStep(model, { ...(await resolveModelStepConfig(env, { log })), signal: ac.signal, log });
        await step.done;
        return 0;
      }
      // Load the feature while Quix Cloud's Portal API answers (when the step runs there).
      const [config, feature] = await Promise.all([resolveStepConfig(io.env, flags, { log }), loadFeatureRef(ref, io.cwd)]);
      // The reference, absolute, lets the step load the same feature in its worker thread.
      const featureRef = resolveFeatureRef(ref, io.cwd);
      const step = await runStep(feature, { ...config, featureRef, signal: ac.signal, log });
      await step.done;
      return 0;
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
  },
};

export default command;
