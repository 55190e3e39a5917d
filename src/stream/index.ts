export { type Checkpoint, changelogTopic, readCheckpoints } from "./changelog.js";
export { type ResolveStepConfigOptions, resolveStepConfig, STEP_ENV, type StepConfig, type StepOverrides, stepConfigFromEnv } from "./config.js";
export { CONTROL_HEADER, type EofMarker, EofTracker, eofHeaders, isEof, produceEof, readEofMarker } from "./control.js";
export { metricsKey, readMetrics, type StepMetrics } from "./metrics.js";
export { PartitionProcessor } from "./partition.js";
export { decodeMessage, type InMessage, type OutMessage } from "./serde.js";
export { type Processing, runStep, type StepHandle, type StepOptions } from "./step.js";
