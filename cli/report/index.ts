/**
 * The HTML report of a run's findings (see docs/report.md). `writeReport` is what
 * `kernel-gossip scan --report <file>` and the demo call.
 *
 * @module
 */
export { renderReport, reportMetaOf, type ReportMeta, windowOf } from './render.ts';
export { ReportWriteError, writeFileAtomic, writeReport, type WrittenReport } from './write.ts';
