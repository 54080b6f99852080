/**
 * Thresholds of the throttle analysis, with documented defaults. Callers override any subset with
 * {@link throttleConfig}; parsing them from the environment belongs to the caller (shared/config.ts).
 * docs/analysis.md explains why each default is what it is.
 *
 * @module
 */

/** Every threshold the throttle verdicts and limit recommendations use. */
export interface ThrottleConfig {
  /** A window must span at least this many enforcement periods to give a verdict (default 10). */
  readonly minWindowPeriods: number;
  /** Throttled periods / active periods below this is healthy (default 0.05, the remediation target). */
  readonly minThrottledRatio: number;
  /**
   * Throttled time / active time below this means little work waited: the throttling is real but
   * not worth acting on (`idle-inflated`). Active time is active periods x period (default 0.1).
   */
  readonly minWaitShare: number;
  /** Fewer throttled periods than this in a window is too little evidence to act on (default 3). */
  readonly minThrottledPeriods: number;
  /** Mean CPU use at or above this share of the limit makes a throttled container `saturated` (default 0.8). */
  readonly saturatedUseShare: number;
  /** Throttled time / active time at or above this makes an actionable verdict `critical` (default 0.5). */
  readonly criticalWaitShare: number;
  /**
   * Throttling that happens only within this long after the container started, while later samples
   * of the window show none, is a start-up burst (default 30 s).
   */
  readonly startupGraceMs: number;
  /** Throttled ratio the recommended limit aims to stay under (default 0.05). */
  readonly targetThrottledRatio: number;
  /** Safety margin multiplied onto the estimated CPU need (default 1.2). */
  readonly headroom: number;
  /** A recommendation never exceeds the current limit times this (default 2). */
  readonly maxStepFactor: number;
  /** A recommendation never exceeds this many cores (default 16). */
  readonly ceilingCores: number;
  /** Recommendations are rounded up to a multiple of this many cores (default 0.001, one millicore). */
  readonly granularityCores: number;
  /** Consecutive actionable windows a workload needs before action is recommended (default 3). */
  readonly consecutiveWindows: number;
  /** Share of a workload's pods that must be actionable in a window for the workload to be (default 0.5). */
  readonly minPodShare: number;
  /** Two windows are consecutive when the gap between them is at most this long (default 5 s). */
  readonly maxWindowGapMs: number;
}

/** The defaults; see docs/analysis.md for the reasoning behind each. */
export const DEFAULT_THROTTLE_CONFIG: ThrottleConfig = Object.freeze({
  minWindowPeriods: 10,
  minThrottledRatio: 0.05,
  minWaitShare: 0.1,
  minThrottledPeriods: 3,
  saturatedUseShare: 0.8,
  criticalWaitShare: 0.5,
  startupGraceMs: 30_000,
  targetThrottledRatio: 0.05,
  headroom: 1.2,
  maxStepFactor: 2,
  ceilingCores: 16,
  granularityCores: 0.001,
  consecutiveWindows: 3,
  minPodShare: 0.5,
  maxWindowGapMs: 5_000,
});

/** Thrown when an override is out of range. */
export class ThrottleConfigError extends Error {
  override readonly name = 'ThrottleConfigError';
}

type Range = readonly [min: number, max: number, integer?: boolean];

const RANGES: { readonly [K in keyof ThrottleConfig]: Range } = {
  minWindowPeriods: [1, 1e6, true],
  minThrottledRatio: [0, 1],
  minWaitShare: [0, 1e3],
  minThrottledPeriods: [1, 1e9, true],
  saturatedUseShare: [0, 1],
  criticalWaitShare: [0, 1e3],
  startupGraceMs: [0, 86_400_000],
  targetThrottledRatio: [0, 1],
  headroom: [1, 10],
  maxStepFactor: [1, 100],
  ceilingCores: [0.001, 1e4],
  granularityCores: [0.000001, 1],
  consecutiveWindows: [1, 1e4, true],
  minPodShare: [0, 1],
  maxWindowGapMs: [0, 86_400_000],
};

/** The defaults with `overrides` applied; every value is range-checked and all problems reported together. */
export const throttleConfig = (overrides: Partial<ThrottleConfig> = {}): ThrottleConfig => {
  const merged: ThrottleConfig = { ...DEFAULT_THROTTLE_CONFIG, ...overrides };
  const problems: string[] = [];
  for (const key of Object.keys(RANGES) as (keyof ThrottleConfig)[]) {
    const [min, max, integer] = RANGES[key];
    const value = merged[key];
    if (!Number.isFinite(value) || value < min || value > max || (integer === true && !Number.isInteger(value))) {
      problems.push(`${key} must be ${integer === true ? 'an integer' : 'a number'} in [${min}, ${max}], got ${value}`);
    }
  }
  if (problems.length > 0) {
    throw new ThrottleConfigError(`invalid throttle config: ${problems.join('; ')}`);
  }
  return Object.freeze(merged);
};
