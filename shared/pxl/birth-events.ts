/**
 * The event codes of the birth programs (pod_birth.pxl, pod_birth_lite.pxl): each printf passes an
 * integer code, not the event's name, because a string literal compiles to a field of its own length
 * and Pixie decodes every event with the first printf's struct (printf-layout.ts). Code i is
 * `BIRTH_EVENTS[i - 1]`; the scripts name codes with the same list in PxL
 * (test/unit/pxl/birth-events.test.ts checks both scripts against it).
 *
 * @module
 */
export const BIRTH_EVENTS = [
  'cgroup_mkdir',
  'cgroup_attach',
  'unshare',
  'clone',
  'clone3',
  'setns',
  'mount',
  'pivot_root',
  'exec',
  'entrypoint_exec',
  'cgroup_write',
] as const;

/** The name of a raw table row's `event_code`, or 'unknown' (as the scripts' PxL names it). */
export const birthEventName = (code: bigint | number): string => BIRTH_EVENTS[Number(code) - 1] ?? 'unknown';
