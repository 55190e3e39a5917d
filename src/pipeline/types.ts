/**
 * The shapes of a local pipeline run: the plan computed from quix.yaml (pure data), and the state the
 * supervisor keeps in `.quixlab/pipeline.json` for `status`, `down` and the dashboard.
 */
import type { DeploymentType } from "../descriptor/types.js";
import type { ImageBuild } from "./runtime.js";

/** One deployment to run: `replicas` processes of `command`, each with `env` plus its replica index. */
export interface StepPlan {
  readonly name: string;
  readonly kind: DeploymentType;
  readonly replicas: number;
  /** A Node process per replica, or a container (the app's Dockerfile built first, or a prebuilt image). */
  readonly runtime: "process" | "docker";
  /** The container image (runtime docker). */
  readonly image?: string;
  /** The build that makes `image`, before the step starts (absent for a prebuilt image). */
  readonly build?: ImageBuild;
  /** The application folder; the processes run there. */
  readonly cwd: string;
  /** argv, executable first (`node --import <tsx> <app>/<runEntryPoint>`, or `docker run ... <image>`). */
  readonly command: readonly string[];
  /** Added to the supervisor's own environment (replica variables are added at spawn). */
  readonly env: Readonly<Record<string, string>>;
  readonly consumerGroup: string;
  /** Topics named by InputTopic / OutputTopic variables. */
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
}

/** A topic to create before the steps start. */
export interface TopicPlan {
  readonly name: string;
  readonly partitions: number;
  /** The descriptor's factor, capped at the brokers there are. */
  readonly replicationFactor: number;
  /** Kafka topic configs (`retention.ms`, `retention.bytes`). */
  readonly config: Readonly<Record<string, string>>;
  /** Listed under `topics:` (otherwise only named by a variable, created with defaults). */
  readonly declared: boolean;
}

export interface PipelinePlan {
  readonly steps: readonly StepPlan[];
  readonly topics: readonly TopicPlan[];
  /** Deployments not started, and why (desiredStatus Stopped, prebuilt image). */
  readonly skipped: readonly { readonly name: string; readonly reason: string }[];
  /** Things the operator should know that do not stop the run (capped replication, unset secrets). */
  readonly warnings: readonly string[];
}

export type ReplicaState = "starting" | "running" | "backoff" | "stopping" | "stopped" | "completed" | "failed";

/** How a replica's last process ended. */
export interface ExitInfo {
  code: number | null;
  signal: string | null;
  at: string;
  /** Its last line of output, often the error. */
  line?: string;
}

export interface ReplicaRecord {
  index: number;
  pid: number | null;
  state: ReplicaState;
  /** Times the supervisor started it again (after a crash or on request). */
  restarts: number;
  startedAt: string | null;
  lastExit: ExitInfo | null;
}

export interface StepRecord {
  name: string;
  kind: DeploymentType;
  /** A Node process or a container per replica (absent in state files written before containers). */
  runtime?: "process" | "docker";
  consumerGroup: string;
  inputs: string[];
  outputs: string[];
  cwd: string;
  command: string[];
  replicas: ReplicaRecord[];
}

/** A broker or Redis the supervisor started itself and so must stop (`down` finishes the job if it died). */
export interface OwnedService {
  provider: string;
  pid?: number;
  dir?: string;
}

/** Contents of `<cwd>/.quixlab/pipeline.json`, written only by the supervisor. */
export interface PipelineState {
  version: 1;
  state: "starting" | "running" | "stopping" | "failed";
  /** Why the supervisor failed (state "failed"). */
  error?: string;
  supervisor: {
    pid: number;
    startedAt: string;
    /** Its process group when it runs detached: `down` can end the whole group as a last resort. */
    processGroup?: number;
  };
  descriptor: string;
  logFile: string;
  brokers: string[];
  redisUrl: string | null;
  owned: { broker?: OwnedService; redis?: OwnedService };
  /** Label of this pipeline's containers (`quixlab.pipeline=<label>`), so `down` removes any a dead supervisor left. */
  containerLabel?: string;
  steps: StepRecord[];
  skipped: { name: string; reason: string }[];
  updatedAt: string;
}

/** A step's overall state, derived from its replicas (see `stepState`). */
export type StepState = "starting" | "running" | "degraded" | "restarting" | "completed" | "failed" | "stopping" | "stopped";
