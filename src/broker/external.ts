import { EnvironmentError } from "../errors/index.js";
import type { Log } from "../infra/process.js";
import { pingBroker } from "../kafka/index.js";
import type { BrokerHandle } from "./types.js";

/** Use a broker someone else runs: verify it answers an admin call, and never stop it. */
export async function connectExternalBroker(brokers: string[], { log, timeoutMs = 10_000 }: { log?: Log; timeoutMs?: number } = {}): Promise<BrokerHandle> {
  const started = Date.now();
  try {
    const live = await pingBroker(brokers, timeoutMs);
    if (live === 0) throw new Error("the cluster reports no live brokers");
  } catch (e) {
    throw new EnvironmentError(`Kafka at ${brokers.join(",")} did not answer: ${(e as Error).message}`, {
      cause: e,
      retriable: true,
      remedy: "start that broker (or 'quixlab services up'), fix the address, or use --broker local",
      context: { field: "brokers" },
    });
  }
  const startupMs = Date.now() - started;
  log?.(`kafka: using external broker ${brokers.join(",")}`);
  return { brokers, provider: "external", startupMs, stop: async () => undefined };
}
