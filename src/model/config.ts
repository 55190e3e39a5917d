import { InputError } from "../errors/index.js";
import { type ResolveStepConfigOptions, resolveStepConfig } from "../stream/config.js";
import type { ModelStepOptions } from "./step.js";

/** The variables a promoted model step reads (its app.yaml lists them). */
export const MODEL_STEP_ENV = {
  input: "the trigger feature's output topic (its final windows are the moments to predict at)",
  output: "where predictions go, keyed by product",
  dlq: "dead letters: trigger messages that are not window records, and predictions that threw (default <input>.dlq)",
  consumer_group: "consumer group of the model step (default the deployment's name under 'quixlab up')",
  REDIS_URL: "the online store the vector features write to; the model reads them there and stores its predictions",
  "Quix__Broker__Address / KAFKA_BROKERS": "Kafka bootstrap servers (on Quix Cloud: Quix__Sdk__Token and Quix__Portal__Api instead)",
} as const;

export type ModelStepConfig = Omit<ModelStepOptions, "signal" | "log">;

/**
 * The model step's options from the environment, as `resolveStepConfig` reads a feature step's (a broker address,
 * else Quix Cloud through the Portal API, whose topic and group names are the workspace's). REDIS_URL is required:
 * the model reads its vectors from the store.
 * @example const step = await runModelStep(model, { ...(await resolveModelStepConfig(process.env)), log })
 */
export async function resolveModelStepConfig(env: NodeJS.ProcessEnv, opts: ResolveStepConfigOptions = {}): Promise<ModelStepConfig> {
  const c = await resolveStepConfig(env, {}, opts);
  if (!c.redis) {
    throw new InputError("the model step needs the online store, and REDIS_URL is unset or 'none'", {
      remedy: "set REDIS_URL to the Redis the vector's feature steps write to (redis://HOST:PORT)",
      context: { field: "REDIS_URL" },
    });
  }
  const dlq = c.dlqTopic ?? `${c.inputTopic}.dlq`;
  const group = c.consumerGroup ?? env.Quix__Deployment__Name ?? "model";
  if (!c.platform) return { brokers: c.brokers, input: c.inputTopic, output: c.outputTopic, dlq, redisUrl: c.redis, group };
  // On a platform the topics are looked up (or created) its way, and the group is its own.
  const [input, output, dead] = await c.platform.topics([{ name: c.inputTopic }, { name: c.outputTopic }, { name: dlq }]);
  return { brokers: c.platform.connection, input: input!, output: output!, dlq: dead!, redisUrl: c.redis, group: c.platform.group(group) };
}
