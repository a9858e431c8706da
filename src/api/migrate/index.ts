/** Moving data in and out: the legacy OSIS object tree, and whole-log copies between stores. */
export { importTree } from './import-tree';
export type { ImportReport, ImportOptions, BadFile } from './import-tree';
export { exportTree } from './export-tree';
export type { ExportReport, ExportOptions } from './export-tree';
export { copyLog } from './copy-log';
export type { CopyReport, CopyOptions } from './copy-log';
