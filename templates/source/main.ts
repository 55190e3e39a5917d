// quixlab source app: the {{deployment}} deployment runs the {{type}} source ('quixlab source {{type}} --help').
// Configuration comes from environment variables named like the deployment's variables ({{variables}}),
// plus Quix__Broker__Address (or KAFKA_BROKERS, or on Quix Cloud Quix__Sdk__Token and Quix__Portal__Api) and
// REDIS_URL for metrics. SIGTERM closes the feed, flushes the producer and exits 0.
// Written by 'quixlab add source', which regenerates it.
import { QuixlabError, resolveSourceConfig, runSource } from "quixlab";

const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);

try {
  const stop = new AbortController();
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      log(`${signal}: closing the feed and flushing the producer`);
      stop.abort();
    });
  }
  const config = await resolveSourceConfig("{{type}}", process.env, {}, { log });
  const source = runSource(config, { log, signal: stop.signal });
  source.ready.then(() => log(`ready: producing to ${config.topic}`), () => undefined);
  await source.done;
} catch (e) {
  log(`error: ${e instanceof QuixlabError ? e.oneLine() : ((e as Error).stack ?? String(e))}`);
  process.exitCode = e instanceof QuixlabError ? e.exitCode : 1;
}
