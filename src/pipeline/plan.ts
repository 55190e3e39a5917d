/**
 * From a descriptor to what must run: processes per deployment and topics to create. Pure: the caller reads
 * quix.yaml and the app.yaml files (`loadPipeline`) and provisions the broker first.
 *
 * How a deployment becomes a process: its application folder's app.yaml names the `runEntryPoint` (e.g.
 * `main.ts`), and each replica runs `node --import tsx <application>/<runEntryPoint>` in that folder, with the
 * deployment's variables as environment variables of the same name (app.yaml defaults, overridden by the
 * deployment's values), plus the connection and identity variables in `INFRA_ENV`.
 */
import { isAbsolute, join, resolve } from "node:path";
import { deploymentEnvironment } from "../descriptor/env.js";
import { type AppDescriptor, type Deployment, type Descriptor, TOPIC_DEFAULTS, type TopicConfiguration } from "../descriptor/types.js";
import { InputError } from "../errors/index.js";
import type { AppFiles, DecideInput, RunDecision, Runtime } from "./runtime.js";
import { decideRun, dockerRunCommand, pipelineLabel } from "./runtime.js";
import type { PipelinePlan, StepPlan, TopicPlan } from "./types.js";

/** Variables every step gets from `quixlab up`, besides its own. */
export const INFRA_ENV = {
  Quix__Broker__Address: "Kafka bootstrap servers, HOST:PORT[,HOST:PORT]",
  KAFKA_BROKERS: "the same, under the name quixlab's tools read",
  REDIS_URL: "the online store (`none` when the pipeline runs without Redis)",
  Quix__Deployment__Name: "the deployment's name, as Quix sets it",
  QUIXLAB_STEP: "the deployment's name (the step name in metrics)",
  QUIXLAB_REPLICA: "the replica's index, 0-based (also QUIXLAB_REPLICA_ID, the replica name in metrics)",
  consumer_group: "only when the deployment sets none: the deployment's name, so its replicas share one group",
} as const;

export interface PlanInput {
  readonly descriptor: Descriptor;
  /** The app.yaml of each application folder, keyed by the deployments' `application` value. */
  readonly apps: ReadonlyMap<string, AppDescriptor>;
  /** Directory of quix.yaml: application folders are relative to it. */
  readonly dir: string;
  readonly brokers: readonly string[];
  /** Brokers in the cluster, to cap replication factors (a local broker is one). */
  readonly brokerCount: number;
  readonly redisUrl: string | null;
  /** The node executable, and the tsx loader passed to `--import` (a file URL works from any folder). */
  readonly node: string;
  readonly tsx: string;
  /** What each application folder holds (entry point, Dockerfile), from `loadPipeline`; absent: none known. */
  readonly files?: ReadonlyMap<string, AppFiles>;
  /** How to run deployments (default auto: Node apps as processes, the others in Docker when an engine answers). */
  readonly runtime?: Runtime;
  /** A Docker engine answers (default false). */
  readonly docker?: boolean;
  /** Whether the engine has an image, for deployments naming a prebuilt `image`. */
  readonly hasImage?: DecideInput["hasImage"];
}

/**
 * The processes and topics for a local run of `descriptor`: every deployment whose desiredStatus is Running or
 * unset and that has an application folder.
 * @example planPipeline({ descriptor, apps, dir, brokers: ["127.0.0.1:9092"], brokerCount: 1, redisUrl: null, node: process.execPath, tsx })
 */
export function planPipeline(input: PlanInput): PipelinePlan {
  const steps: StepPlan[] = [];
  const skipped: { name: string; reason: string }[] = [];
  const warnings: string[] = [];
  const decide: DecideInput = { runtime: input.runtime ?? "auto", docker: input.docker ?? false, hasImage: input.hasImage };
  for (const d of input.descriptor.deployments) {
    if (d.desiredStatus === "Stopped") {
      skipped.push({ name: d.name, reason: "desiredStatus is Stopped" });
      continue;
    }
    if (d.disabled) {
      skipped.push({ name: d.name, reason: "disabled: true (Quix does not deploy it either)" });
      continue;
    }
    const app = d.application ? input.apps.get(d.application) : undefined;
    if (d.application && !app && d.deploymentType !== "Managed") {
      throw new InputError(`deployment "${d.name}": no app.yaml loaded for application "${d.application}"`, {
        remedy: `create ${join(d.application, "app.yaml")} next to quix.yaml (or fix the deployment's application:)`,
        context: { field: `deployments.${d.name}.application` },
      });
    }
    const appDir = d.application ? resolve(input.dir, d.application) : undefined;
    const how = decideRun(d, app, d.application ? input.files?.get(d.application) : undefined, appDir, decide);
    if (how.how === "skip") {
      skipped.push({ name: d.name, reason: how.reason });
      continue;
    }
    steps.push(stepPlan(d, app, appDir ?? input.dir, how, input));
    for (const v of d.variables) {
      if (v.inputType === "Secret" && v.value === undefined && v.required) {
        warnings.push(`deployment "${d.name}": secret ${v.name} is not resolved locally; export ${v.name} before 'quixlab up'`);
      }
    }
  }
  return { steps, topics: topicPlans(input, steps, warnings), skipped, warnings };
}

function stepPlan(d: Deployment, app: AppDescriptor | undefined, cwd: string, how: Exclude<RunDecision, { how: "skip" }>, input: PlanInput): StepPlan {
  const own = deploymentEnvironment(d, app);
  const consumerGroup = own.consumer_group?.trim() || d.name;
  const brokers = input.brokers.join(",");
  const env: Record<string, string> = {
    ...own,
    consumer_group: consumerGroup,
    Quix__Broker__Address: brokers,
    KAFKA_BROKERS: brokers,
    REDIS_URL: input.redisUrl ?? "none",
    Quix__Deployment__Name: d.name,
    QUIXLAB_STEP: d.name,
  };
  const base = {
    name: d.name,
    kind: d.deploymentType,
    replicas: Math.max(1, d.resources.replicas),
    cwd,
    env,
    consumerGroup,
    inputs: topicsOf(d, app, own, "InputTopic"),
    outputs: topicsOf(d, app, own, "OutputTopic"),
  };
  if (how.how === "docker") {
    return { ...base, runtime: "docker", image: how.image, ...(how.build && { build: how.build }), command: dockerRunCommand(how.image, Object.keys(env), pipelineLabel(input.dir)) };
  }
  const entryPoint = app!.runEntryPoint!;
  const entry = isAbsolute(entryPoint) ? entryPoint : join(cwd, entryPoint);
  return { ...base, runtime: "process", command: [input.node, "--import", input.tsx, entry] };
}

/** Topic names a deployment reads or writes: its topic variables' values, defaults from app.yaml included. */
function topicsOf(d: Deployment, app: AppDescriptor | undefined, env: Record<string, string>, type: "InputTopic" | "OutputTopic"): string[] {
  const names = new Set<string>();
  for (const v of [...(app?.variables ?? []), ...d.variables]) {
    const value = env[v.name];
    if (v.inputType === type && value) names.add(value);
  }
  return [...names];
}

function topicPlans(input: PlanInput, steps: readonly StepPlan[], warnings: string[]): TopicPlan[] {
  const brokers = Math.max(1, input.brokerCount);
  const plan = (name: string, c: TopicConfiguration, declared: boolean): TopicPlan => {
    if (declared && c.replicationFactor > brokers) {
      warnings.push(`topic "${name}": replicationFactor ${c.replicationFactor} capped at ${brokers} (the brokers there are)`);
    }
    return {
      name,
      partitions: c.partitions,
      replicationFactor: Math.min(c.replicationFactor, brokers),
      config: {
        "retention.ms": c.retentionInMinutes < 0 ? "-1" : String(c.retentionInMinutes * 60_000),
        "retention.bytes": c.retentionInBytes < 0 ? "-1" : String(c.retentionInBytes),
        ...cleanupConfig(c),
      },
      declared,
    };
  };
  const out = input.descriptor.topics.map((t) => plan(t.name, t.configuration, true));
  const known = new Set(out.map((t) => t.name));
  for (const s of steps) {
    for (const name of [...s.inputs, ...s.outputs]) {
      if (known.has(name)) continue;
      known.add(name);
      out.push(plan(name, { ...TOPIC_DEFAULTS, partitions: 1 }, false));
    }
  }
  return out;
}

/** Kafka's `cleanup.policy` for Quix's `cleanupPolicy`, as quix-streams maps it; none when the file gives none. */
const CLEANUP = { Delete: "delete", Compact: "compact", DeleteAndCompact: "delete,compact" } as const;
function cleanupConfig(c: TopicConfiguration): Record<string, string> {
  return c.cleanupPolicy ? { "cleanup.policy": CLEANUP[c.cleanupPolicy] } : {};
}

/** Environment of one replica process: the supervisor's, then the step's, then the replica's identity. */
export function replicaEnvironment(step: StepPlan, index: number, base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...base, ...step.env, QUIXLAB_REPLICA: String(index), QUIXLAB_REPLICA_ID: String(index) };
}
