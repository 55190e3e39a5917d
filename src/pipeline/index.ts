/** Running a descriptor locally: plan, supervise, stop, inspect, and the data the dashboard shows. */
export * from "./types.js";
export { INFRA_ENV, type PlanInput, planPipeline, replicaEnvironment } from "./plan.js";
export { type LoadedPipeline, loadPipeline } from "./load.js";
export { restartDelay, Supervisor, type SupervisorOptions } from "./supervisor.js";
export { ensureTopics } from "./topics.js";
export { type DetachOptions, type RunningPipeline, runPipeline, startDetached, type UpOptions } from "./up.js";
export { type DownResult, pipelineDown } from "./down.js";
export { type MetricsSummary, metricsOf, type PipelineStatus, pipelineStatus, type ReplicaStatus, type StepStatus, stepStatus, summarizeMetrics } from "./status.js";
export { pipelineFile, pipelineLogFile, readPipelineState, stepRestarts, stepState, supervisorAlive } from "./state.js";
export { type ControlRequest, controlDir, requestRestart, takeRequests } from "./control.js";
export { consumerLag, type PartitionLag, partitionLag, type TopicLag } from "./lag.js";
export {
  advanceRates,
  type CandleView,
  collectDashboardData,
  describeExit,
  type DashboardData,
  type DashboardQuery,
  type DashboardSource,
  openDashboardSource,
  type RateSample,
  type SourceView,
  type StepView,
  tailLines,
} from "./dashboard.js";
