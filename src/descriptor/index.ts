/** The descriptor library: load, validate, edit, graph and safely write quix.yaml / app.yaml. */
export * from "./types.js";
export { formatDescriptorError, isSyntaxFailure, type Loaded, type LoadOptions, loadAppDescriptor, loadDescriptor } from "./load.js";
export { descriptorVersion, effectiveVariables, inheritsVariables, matchAppVariable } from "./inherit.js";
export {
  hasPlaceholder,
  isMasked,
  type PlaceholderLookup,
  type PlaceholderSources,
  parseVariablesFile,
  placeholderLookup,
  placeholderNames,
  resolvePlaceholders,
} from "./placeholders.js";
export { type ProjectFile, type ProjectReport, projectPlaceholders, readVariablesFile, validateProject, type ValidateProjectOptions } from "./project.js";
export {
  type DeploymentSpec,
  type EditOutcome,
  ensureTopic,
  newDescriptor,
  nextVersion,
  removeDeployment,
  type TopicSpec,
  type UpsertOptions,
  upsertDeployment,
  upsertTopic,
  type VariableSpec,
} from "./edit.js";
export {
  type AppLookup,
  type DanglingTopic,
  type GraphEdge,
  type GraphNode,
  type PipelineGraph,
  pipelineGraph,
  renderGraphText,
  renderMermaid,
  type TopicUse,
  topicUsage,
  type VariableRef,
} from "./graph.js";
export {
  DescriptorInvalidError,
  type EditOptions,
  type EditPlan,
  type EditResult,
  editDescriptor,
  type LockOptions,
  planDescriptorEdit,
  readDescriptor,
  readDescriptorText,
  withDescriptorLock,
  type WriteOptions,
  writeDescriptorAtomic,
} from "./file.js";
export { deploymentEnvironment } from "./env.js";
export { renderEdited } from "./render.js";
