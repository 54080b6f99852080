/**
 * Per-instance state of a function: clients are created once, on first use, and reused by every
 * request the instance serves. A failed creation is not cached, so a transient failure at cold
 * start does not poison the instance.
 *
 * @module
 */

/** Memoises an async factory; a rejection clears the memo. */
export const once = <T>(factory: () => Promise<T>): (() => Promise<T>) => {
  let value: Promise<T> | undefined;
  return () => {
    if (value === undefined) {
      value = factory();
      value.catch(() => {
        value = undefined;
      });
    }
    return value;
  };
};

/** When a request must be done by: the function's timeout minus a margin to answer in. */
export const requestDeadline = (startedAt: number, timeoutSeconds: number, marginMs = 5_000): Date =>
  new Date(startedAt + Math.max(1_000, timeoutSeconds * 1000 - marginMs));
