/**
 * Ground truth for "throttling a user should act on", stated before any verdict is computed and
 * measured by the workload itself, not from cpu.stat:
 *
 *   Each scenario runs twice: with its CPU limits, and with no limit at all (same cgroups, same
 *   CPU weight, same workload). Over the units of work that start after the start-up grace
 *   (STARTUP_GRACE_MS, where start-up work is excluded by definition: a limit change is not the
 *   answer to it), a container's throttling is actionable when the limit stretches its p90 unit
 *   latency by at least 50% AND by at least 20 ms over the unlimited run.
 *
 * The thresholds are a user's view of harm (a 50% slower p90 that is also noticeable in absolute
 * terms), not tuned to the analysis: the analysis never sees latencies.
 */
import type { UnitReport } from '../../../dev/quota-lab/workload-spec.ts';

export const STARTUP_GRACE_MS = 1_500;
export const MIN_STRETCH = 1.5;
export const MIN_ADDED_MS = 20;

const p90 = (values: readonly number[]): number => {
  if (values.length === 0) {
    return Number.NaN;
  }
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.9) - 1)] ?? Number.NaN;
};

export interface GroundTruth {
  readonly limitedP90Ms: number;
  readonly unlimitedP90Ms: number;
  readonly units: number;
  readonly actionable: boolean;
}

export const groundTruth = (limited: readonly (readonly UnitReport[])[], unlimited: readonly (readonly UnitReport[])[]): GroundTruth => {
  const steady = (runs: readonly (readonly UnitReport[])[]): number[] =>
    runs.flat().filter((u) => u.atMs >= STARTUP_GRACE_MS).map((u) => u.wallMs);
  const a = steady(limited);
  const b = steady(unlimited);
  const limitedP90Ms = p90(a);
  const unlimitedP90Ms = p90(b);
  if (a.length === 0 || b.length === 0) {
    throw new Error('a scenario produced no steady units: its ground truth is undefined');
  }
  return {
    limitedP90Ms,
    unlimitedP90Ms,
    units: a.length,
    actionable: limitedP90Ms >= unlimitedP90Ms * MIN_STRETCH && limitedP90Ms - unlimitedP90Ms >= MIN_ADDED_MS,
  };
};
