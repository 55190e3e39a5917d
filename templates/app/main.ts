// Entry point of the {{deployment}} deployment: runs the feature of feature.ts ({{source}}) as a streaming step.
// Configuration comes from environment variables named like the deployment's variables: input, output,
// Quix__Broker__Address (or KAFKA_BROKERS), REDIS_URL, consumer_group... ('quixlab run --help' lists them all).
// On Quix Cloud, which injects only Quix__Sdk__Token, Quix__Portal__Api and Quix__Workspace__Id, the broker and
// its SASL login come from the Portal API, and the topics and group are the workspace's.
// Written by 'quixlab promote', which regenerates it: change the notebook, not this file.
import { fileURLToPath } from "node:url";
import { InputError, QuixlabError, resolveStepConfig, runStep } from "quixlab";
import { {{export}} as feature } from "./feature.js";

// The same feature by reference: the step loads it in a worker thread that decodes and windows while this thread
// fetches from Kafka (QUIXLAB_WORKER=0 keeps everything in this thread).
const featureRef = `${fileURLToPath(new URL("./feature.ts", import.meta.url))}#{{export}}`;

const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);

/** Parameters are fixed in the notebook; a deployment variable that disagrees would be silently ignored, so refuse it. */
function checkParams(env: NodeJS.ProcessEnv): void {
  for (const [name, value] of Object.entries(feature.params)) {
    const set = env[name];
    if (set !== undefined && set !== String(value)) {
      throw new InputError(`variable ${name}=${set} differs from the parameter the feature was promoted with (${String(value)})`, {
        remedy: "change the parameter in the notebook and promote again, or set the variable back",
        context: { field: name },
      });
    }
  }
}

try {
  checkParams(process.env);
  const stop = new AbortController();
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      log(`${signal}: finishing the batch, checkpointing, leaving the group`);
      stop.abort();
    });
  }
  const config = await resolveStepConfig(process.env, {}, { log });
  const step = await runStep(feature, { ...config, featureRef, signal: stop.signal, log });
  // One line an operator (or a probe) can wait for: every assigned partition has its state restored.
  step.ready.then(() => log("ready: partitions assigned and restored; consuming"), () => undefined);
  await step.done;
} catch (e) {
  log(`error: ${e instanceof QuixlabError ? e.oneLine() : ((e as Error).stack ?? String(e))}`);
  process.exitCode = e instanceof QuixlabError ? e.exitCode : 1;
}
