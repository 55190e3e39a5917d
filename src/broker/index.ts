import { dockerAvailable, findContainerImage, packageInstalled } from "../infra/docker.js";
import { requireProgram } from "../infra/process.js";
import { readServices } from "../services/state.js";
import { pingBroker } from "../kafka/index.js";
import { connectExternalBroker } from "./external.js";
import { JAVA_REMEDY, startLocalBroker } from "./local.js";
import { chooseBrokerProvider } from "./select.js";
import { kafkaImages, startContainerBroker } from "./testcontainers.js";
import type { BrokerHandle, StartBrokerOptions } from "./types.js";

export { ensureKafkaJars, KAFKA_VERSION, kafkaJarsCached, kafkaLibDir } from "./jars.js";
export { JAVA_REMEDY } from "./local.js";
export { KAFKA_IMAGE, KAFKA_LOCAL_IMAGE, kafkaImages } from "./testcontainers.js";
export { type BrokerChoice, type BrokerSelectionInput, chooseBrokerProvider, parseBrokerList } from "./select.js";
export type { BrokerHandle, BrokerProvider, StartBrokerOptions } from "./types.js";

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

/**
 * Get a Kafka broker ready for use, reporting the choice and its reason through `log`.
 * Example: `const kafka = await startBroker({ provider: "auto", log: console.error }); ...; await kafka.stop()`.
 */
export async function startBroker(opts: StartBrokerOptions = {}): Promise<BrokerHandle> {
  const env = opts.env ?? process.env;
  const flag = opts.provider ?? "auto";
  const undecided = flag === "auto" && !opts.address && !env.KAFKA_BROKERS;
  const running = undecided && opts.cwd ? await runningBrokers(opts.cwd) : undefined;
  const docker = (undecided && !running) || flag === "testcontainers" ? await dockerAvailable(env) : false;
  let choice = chooseBrokerProvider({ flag, address: opts.address, env, dockerAvailable: docker, running });
  // An engine that answers but cannot supply the image (none built, no registry) is no reason to fail auto;
  // an explicit testcontainers fails on it in startContainerBroker.
  let image: string | undefined;
  const missing = "the optional package @testcontainers/kafka is not installed (npm install testcontainers @testcontainers/kafka)";
  if (choice.provider === "testcontainers" && flag === "auto" && !packageInstalled("@testcontainers/kafka")) choice = { provider: "local", reason: `a Docker engine answered, but ${missing}` };
  if (choice.provider === "testcontainers" && flag === "auto") {
    const found = await findContainerImage(kafkaImages(env), { env, log: opts.log });
    if (found.why) choice = { provider: "local", reason: `a Docker engine answered, but ${found.why}` };
    image = found.image;
  }
  // Fail on a missing JRE before announcing a choice that cannot work.
  if (choice.provider === "local") requireProgram("java", JAVA_REMEDY, env);
  opts.log?.(`kafka: ${choice.provider} provider (${choice.reason})`);
  switch (choice.provider) {
    case "external":
      return connectExternalBroker(choice.brokers ?? [], { log: opts.log });
    case "testcontainers":
      return startContainerBroker({ log: opts.log, env, image });
    case "local":
      return startLocalBroker({ log: opts.log, env, detached: opts.detached });
  }
}
