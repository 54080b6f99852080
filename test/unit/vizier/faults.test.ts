/**
 * The local Vizier's fault model refuses what it would not act on, naming the field, so a typo in a
 * `--faults` file or a test fails at start instead of silently injecting nothing.
 */
import { describe, expect, it } from 'vitest';
import { activeExecutionError, FaultsError, parseFaults } from '../../../dev/vizier/faults.ts';

describe('parseFaults', () => {
  it('accepts every documented fault', () => {
    const faults = {
      delayMs: 10,
      batchDelayMs: 0,
      cut: { afterBatches: 2, mode: 'rst', times: 2 },
      largeBatchRejectedAfter: 1,
      executionError: { afterBatches: 0, code: 13, message: 'boom', during: { startMs: 5, endMs: 10 } },
      tracepoints: { pendingRequests: 0, neverReady: ['a'], failed: ['b'], schemaPendingRequests: 1 },
      nodes: [{ name: 'n1', kernel: '6.1.0', probeErrors: { a: 'no BTF' } }],
      controlPlanePods: { 'vizier-pem-x': { phase: 'FAILED', restartCount: 3, message: 'CrashLoopBackOff' } },
    };
    expect(parseFaults(faults, 'f')).toBe(faults);
  });

  it.each([
    [{ cutt: { afterBatches: 1, mode: 'rst' } }, /f\.cutt is not a fault \(known: delayMs, /],
    [{ cut: { afterBatches: 1, mode: 'reset' } }, /f\.cut\.mode: expected one of rst, disconnect, got "reset"/],
    [{ cut: { mode: 'rst' } }, /f\.cut\.afterBatches is required/],
    [{ delayMs: -1 }, /f\.delayMs: expected a non-negative integer, got -1/],
    [{ tracepoints: { failed: 'a' } }, /f\.tracepoints\.failed: expected an array of strings/],
    [{ nodes: [{ kernel: '6.1' }] }, /f\.nodes\[0\]\.name is required/],
    [{ controlPlanePods: { p: { phase: 'CRASHING' } } }, /f\.controlPlanePods\.p\.phase: expected one of PHASE_UNKNOWN, /],
    [[], /f: expected an object, got \[\]/],
  ])('refuses %j with the field named', (doc, message) => {
    expect(() => parseFaults(doc, 'f')).toThrow(FaultsError);
    expect(() => parseFaults(doc, 'f')).toThrow(message);
  });
});

describe('activeExecutionError', () => {
  it('applies always without a window, and only inside [startMs, endMs) with one', () => {
    const always = { executionError: { afterBatches: 0, code: 13, message: 'x' } };
    expect(activeExecutionError(always, 0)).toBe(always.executionError);
    const windowed = { executionError: { ...always.executionError, during: { startMs: 100, endMs: 200 } } };
    expect([99, 100, 199, 200].map((t) => activeExecutionError(windowed, t) !== undefined)).toEqual([false, true, true, false]);
    expect(activeExecutionError({}, 150)).toBeUndefined();
  });
});
