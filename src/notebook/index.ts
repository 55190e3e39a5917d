/** Notebooks: parse, run headless with the tslab kernel, inject parameters, extract and check exported features. */
export { type CheckReport, type ExportCheck, checkNotebook } from "./check.js";
export {
  type Dependency,
  EXPORT_DIRECTIVE,
  type ExportedName,
  type Extraction,
  extractFeature,
  isExportCell,
  listExports,
} from "./extract.js";
export { KERNEL_DISPLAY_NAME, KERNEL_NAME, installKernel, kernelSpec, kernelStatus } from "./kernel.js";
export { type Cell, type Notebook, type Output, parseNotebook, readNotebook, serializeNotebook, writeNotebook } from "./model.js";
export { INJECTED_TAG, PARAMETERS_TAG, type ParamValue, injectParameters, renderLiteral } from "./params.js";
export { type CellFailure, type RunOptions, type RunReport, runNotebook } from "./run.js";
