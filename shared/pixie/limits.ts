/**
 * Deadlines and cancellation shared by every call: an absolute deadline computed once per logical
 * call (retries and resumes included), and waits that end early on abort or deadline.
 *
 * @module
 */
import { PixieCancelledError, PixieDeadlineError } from './errors.ts';

/** What every call accepts. */
export interface CallOptions {
  /** Time budget for the whole call in milliseconds, retries included. */
  readonly timeoutMs?: number;
  /** Cancels the call. */
  readonly signal?: AbortSignal;
}

/** The absolute deadline (epoch ms) for a call started now. */
export const deadlineOf = (options: CallOptions, defaultTimeoutMs: number): number => {
  const timeout = options.timeoutMs ?? defaultTimeoutMs;
  if (!(timeout > 0)) {
    throw new RangeError(`timeoutMs must be positive, got ${String(timeout)}`);
  }
  return Date.now() + timeout;
};

/** Throws the typed error if the call was aborted or its deadline passed. */
export const checkLimits = (deadline: number, signal: AbortSignal | undefined, queryId?: string): void => {
  if (signal?.aborted === true) {
    throw new PixieCancelledError('call cancelled by its AbortSignal', { cause: signal.reason, queryId });
  }
  if (Date.now() >= deadline) {
    throw new PixieDeadlineError('deadline exceeded', { queryId });
  }
};

/** Waits `ms`, or less if the deadline comes first; rejects with PixieCancelledError on abort. */
export const waitWithin = async (ms: number, deadline: number, signal: AbortSignal | undefined): Promise<void> => {
  const wait = Math.max(0, Math.min(ms, deadline - Date.now()));
  await new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new PixieCancelledError('call cancelled by its AbortSignal', { cause: signal?.reason }));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, wait);
    if (signal?.aborted === true) {
      onAbort();
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
};
