/** Process helpers for tests: see dev/process.ts. */
export * from '../../dev/process.ts';
