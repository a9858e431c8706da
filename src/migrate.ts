/**
 * `osis-store/migrate`: import an OTOML/TOML/JSON object tree, export a store as a tree, and copy a log
 * between stores with its positions.
 */
export { importTree, exportTree, copyLog } from './api/migrate';
export type { ImportReport, ImportOptions, BadFile, ExportReport, ExportOptions, CopyReport, CopyOptions } from './api/migrate';
