/** The quality benchmark's own judges: the ground-truth rule and the mixin emulation. */
import { describe, expect, it } from 'vitest';
import { groundTruth, STARTUP_GRACE_MS } from '../../bench/quality/ground-truth.ts';
import { mixinRule } from '../../bench/quality/mixin.ts';

const same = (n: number, v: number): number[] => Array.from({ length: n }, () => v);
const units = (walls: number[], from = STARTUP_GRACE_MS) => walls.map((wallMs, i) => ({ atMs: from + i * 100, cpuMs: 10, wallMs }));
const reading = (atMs: number, nrPeriods: number, nrThrottled: number) => ({ atMs, nrPeriods, nrThrottled, throttledTimeNs: 0, usageNs: 0 });

describe('groundTruth', () => {
  it('acts only when p90 latency is both 1.5x and 20 ms worse than without a limit', () => {
    expect(groundTruth([units(same(10, 100))], [units(same(10, 30))]).actionable).toBe(true);
    // 1.5x but only +10 ms.
    expect(groundTruth([units(same(10, 30))], [units(same(10, 20))]).actionable).toBe(false);
    // +25 ms but only 1.1x.
    expect(groundTruth([units(same(10, 275))], [units(same(10, 250))]).actionable).toBe(false);
  });

  it('ignores units that start within the start-up grace', () => {
    const startup = [{ atMs: 0, cpuMs: 150, wallMs: 750 }];
    expect(groundTruth([[...startup, ...units(same(5, 2))]], [units(same(5, 2))]).actionable).toBe(false);
  });

  it('refuses a scenario without steady units', () => {
    expect(() => groundTruth([[{ atMs: 0, cpuMs: 1, wallMs: 1 }]], [[]])).toThrow(/no steady units/);
  });
});

describe('mixinRule', () => {
  it('fires on a steady ratio above 25% and ignores a start-up spike', () => {
    const start = 1_000;
    const steady = [reading(start, 0, 0), reading(start + 2_000, 20, 18), reading(start + 5_000, 50, 30)];
    expect(mixinRule(steady, start, 1_500)).toMatchObject({ fires: true, steadyRatio: 12 / 30 });
    const startupOnly = [reading(start, 0, 0), reading(start + 1_000, 10, 9), reading(start + 2_000, 12, 9), reading(start + 5_000, 20, 9)];
    expect(mixinRule(startupOnly, start, 1_500)).toMatchObject({ fires: false, steadyRatio: 0, wholeRunRatio: 9 / 20 });
  });

  it('does not fire without active periods (Prometheus drops the NaN)', () => {
    expect(mixinRule([reading(0, 5, 5), reading(2_000, 5, 5), reading(4_000, 5, 5)], 0, 1_500)).toMatchObject({ fires: false, steadyRatio: null });
  });
});
