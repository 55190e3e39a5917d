export { columnTick, type TickColumns, TickColumnsBuilder, ticksToColumns } from "./columns.js";
export { type CsvField, type CsvMapping, parseCsvMap, TARDIS_TRADES_MAP } from "./csv.js";
export { frameToTickResults, frameToTicks, isDataFrame, ticksToFrame } from "./frame.js";
export { type GenerateOptions, generateTickLines, generateTicks, writeTicksFile } from "./generate.js";
export {
  detectFormat,
  formatFromName,
  type ReadOptions,
  type ReadProgress,
  type ReadSummary,
  readTickBatches,
  readTickColumns,
  readTicks,
  type TickFormat,
} from "./read.js";
export { type EpochUnit, epochToMs, parseIsoTime } from "./time.js";
export type { RejectReason, Rejection, Tick, TickResult } from "./types.js";
export { isTick, parseTickLine, toTick, validateTick } from "./validate.js";
