/** Process helpers for tests: see dev/process.ts. */
export * from '../../dev/process.ts';

/** Whether a process with this id exists (signal 0 only checks). */
export const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
