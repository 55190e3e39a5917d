import { requireProgram } from "../infra/process.js";
import { type ProviderSetup, resolveProvider } from "../infra/provider.js";
import { pingBroker } from "../kafka/index.js";
import { readServices } from "../services/state.js";
import { connectExternalBroker } from "./external.js";
import { JAVA_REMEDY, startLocalBroker } from "./local.js";
import { BROKER_RULES, type BrokerChoice, type BrokerSelectionInput } from "./select.js";
import { kafkaImages, startContainerBroker } from "./testcontainers.js";
import type { BrokerHandle, BrokerProvider, StartBrokerOptions } from "./types.js";

export { ensureKafkaJars, KAFKA_VERSION, kafkaJarsCached, kafkaLibDir } from "./jars.js";
export { JAVA_REMEDY, type RestartLocalBrokerOptions, restartLocalBroker } from "./local.js";
export { KAFKA_IMAGE, KAFKA_LOCAL_IMAGE, kafkaImages } from "./testcontainers.js";
export { type BrokerChoice, type BrokerSelectionInput, chooseBrokerProvider, parseBrokerList } from "./select.js";
export type { BrokerHandle, BrokerProvider, ScramListener, StartBrokerOptions } from "./types.js";

/** Brokers recorded by `quixlab services up` under `cwd` that answer right now, if any. */
export async function runningBrokers(cwd: string): Promise<string[] | undefined> {
  const brokers = readServices(cwd)?.broker?.brokers;
  if (!brokers?.length) return undefined;
  try {
    return (await pingBroker(brokers, 1_500)) > 0 ? brokers : undefined;
  } catch {
    return undefined;
  }
}

/** Kafka's setup for the one provider chooser: its rules, the running copy, its images, and Java for `local`. */
const BROKER_SETUP: ProviderSetup<BrokerProvider, string[], BrokerChoice, BrokerSelectionInput> = {
  rules: BROKER_RULES,
  prefix: "kafka",
  running: runningBrokers,
  containerPackage: { name: "@testcontainers/kafka", install: "npm install testcontainers @testcontainers/kafka" },
  images: kafkaImages,
  // Fail on a missing JRE before announcing a choice that cannot work.
  check: (choice, env) => {
    if (choice.provider === "local") requireProgram("java", JAVA_REMEDY, env);
  },
};

/**
 * Get a Kafka broker ready for use, reporting the choice and its reason through `log`.
 * Example: `const kafka = await startBroker({ provider: "auto", log: console.error }); ...; await kafka.stop()`.
 */
export async function startBroker(opts: StartBrokerOptions = {}): Promise<BrokerHandle> {
  const env = opts.env ?? process.env;
  const { choice, image } = await resolveProvider(BROKER_SETUP, { flag: opts.provider, address: opts.address, cwd: opts.cwd, env, log: opts.log });
  switch (choice.provider) {
    case "external":
      return connectExternalBroker(choice.brokers ?? [], { log: opts.log });
    case "testcontainers":
      return startContainerBroker({ log: opts.log, env, image });
    case "local":
      return startLocalBroker({ log: opts.log, env, detached: opts.detached, scram: opts.scram, parentDir: opts.parentDir });
  }
}
