/**
 * Pure analysis of kernel truth: throttle verdicts, limit recommendations, workload aggregation and
 * pod birth certificates. Nothing here does I/O or imports anything outside this folder.
 *
 * @module
 */

export * from './cfs.ts';
export * from './throttle-config.ts';
export * from './throttle.ts';
export * from './recommend.ts';
export * from './workload.ts';
export * from './namespaces.ts';
export * from './cgroup-path.ts';
export * from './birth.ts';
