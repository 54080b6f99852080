import { describe, expect, it } from 'vitest';
import { count, formatCpu, ms, percent, perSecond } from '../../../cli/report/numbers.ts';

describe('report numbers', () => {
  it('writes CPU limits with their unit', () => {
    expect([250, 1000, 1500, 2000].map(formatCpu)).toEqual(['250m', '1 CPU', '1500m', '2 CPUs']);
  });

  it('writes durations in milliseconds with about three significant digits', () => {
    expect([0, 412_000, 4_120_000, 41_000_000, 412_000_000].map(ms)).toEqual(['0 ms', '0.412 ms', '4.12 ms', '41.0 ms', '412 ms']);
  });

  it('writes ratios, rates and counts', () => {
    expect([percent(0.4), percent(0.031), perSecond(0.16), count(1_234_567)]).toEqual(['40%', '3.1%', '0.160 s/s', '1,234,567']);
  });
});
