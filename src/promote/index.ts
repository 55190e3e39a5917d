/** Promote: a notebook's exported feature becomes an app folder and a quix.yaml deployment, gated by replay. */
export { type ApplyOptions, type ApplyResult, type FileContent, applyPromote, writeFileSet } from "./apply.js";
export { type AppSync, type SyncReport, type SyncStatus, checkPromoted, compareWithNotebook } from "./check.js";
export { unifiedDiff } from "./diff.js";
export { commitFiles } from "./git.js";
export { type InitOptions, type InitResult, initProject, packageNameOf, planProject, SAMPLE_DATA } from "./init.js";
export {
  type DescriptorOutcome,
  extractForPromote,
  GENERATED_FILES,
  type PlannedFile,
  type PromoteChange,
  type PromoteInput,
  type PromotePlan,
  planPromote,
  promotedSource,
} from "./plan.js";
export { type PromoteOptions, type PromoteResult, promote } from "./promote.js";
export { fillTemplate, outputName, readTemplate, type TemplateFiles } from "./template.js";
export { MODEL_GENERATED_FILES, type ModelPromoteInput, planModelPromote } from "./model-plan.js";
