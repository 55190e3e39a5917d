// Entry point of the {{deployment}} deployment: runs the model of model.ts ({{source}}) as a step. It reads the
// trigger feature's final windows (input), waits until the store holds every feature of the vector as of each
// window's close, predicts, and writes the prediction keyed by product to output and to Redis
// (quixlab:<model>:prediction:<key>). Configuration: input, output, dlq, consumer_group, REDIS_URL, and
// Quix__Broker__Address (or KAFKA_BROKERS); on Quix Cloud, Quix__Sdk__Token and Quix__Portal__Api instead.
// Written by 'quixlab promote', which regenerates it: change the notebook, not this file.
import { QuixlabError, resolveModelStepConfig, runModelStep } from "quixlab";
import { {{export}} as model } from "./model.js";

const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);

try {
  const stop = new AbortController();
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      log(`${signal}: finishing the batch, leaving the group`);
      stop.abort();
    });
  }
  const config = await resolveModelStepConfig(process.env, { log });
  const step = await runModelStep(model, { ...config, signal: stop.signal, log });
  log("ready: consuming");
  await step.done;
  log(`stopped after ${step.written()} predictions`);
} catch (e) {
  log(`error: ${e instanceof QuixlabError ? e.oneLine() : ((e as Error).stack ?? String(e))}`);
  process.exitCode = e instanceof QuixlabError ? e.exitCode : 1;
}
