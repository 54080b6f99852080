/**
 * The kubernetes-mixin CPUThrottlingHigh rule on the same counters:
 *
 *   increase(throttled_periods[5m]) / increase(periods[5m]) > 0.25   for: 15m
 *
 * A lab run lasts seconds; the workload it runs is stationary after its start-up phase (the same
 * units on the same schedule), so it stands for the steady state of a workload that runs for the
 * 20+ minutes the rule needs. Every 5 m window of that steady state holds the same mix of periods as
 * the run's steady part, so the rule fires iff the ratio over the steady part (readings from
 * `steadyFromMs` after the start to the end) is above 25%. Start-up throttling falls out of the
 * 5 m windows long before `for: 15m` elapses, so it alone never fires the rule, which is also what
 * this emulation gives. `wholeRunRatio` is the ratio over the whole run, start-up included.
 */
import type { CgroupReading } from '../../../dev/quota-lab/cgroup-v1.ts';

export const MIXIN_THRESHOLD = 0.25;

export interface MixinResult {
  readonly fires: boolean;
  /** Ratio over the steady part: what each 5 m window of the steady state sees. */
  readonly steadyRatio: number | null;
  readonly wholeRunRatio: number | null;
}

const ratio = (a: CgroupReading, b: CgroupReading): number | null => {
  const periods = b.nrPeriods - a.nrPeriods;
  return periods > 0 ? (b.nrThrottled - a.nrThrottled) / periods : null;
};

export const mixinRule = (readings: readonly CgroupReading[], startMs: number, steadyFromMs: number): MixinResult => {
  const first = readings[0];
  const last = readings.at(-1);
  const steadyStart = readings.find((r) => r.atMs - startMs >= steadyFromMs);
  if (first === undefined || last === undefined || steadyStart === undefined) {
    throw new Error('not enough readings to emulate the rule');
  }
  const steadyRatio = ratio(steadyStart, last);
  return { fires: steadyRatio !== null && steadyRatio > MIXIN_THRESHOLD, steadyRatio, wholeRunRatio: ratio(first, last) };
};
