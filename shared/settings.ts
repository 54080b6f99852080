/**
 * The one declaration of every deployment setting whose value the code has to honour: its
 * Terraform variable, its environment variable, unit, default and range. The functions' config
 * specs read their bounds from here; tests check the Terraform variables' defaults and validations
 * against it (test/unit/settings.test.ts, test/integration/terraform/settings.test.ts), so a value
 * Terraform accepts is a value the code acts on.
 *
 * Durations are written in the one grammar of shared/duration.ts, which the Terraform validations
 * use too.
 *
 * Ranges are derived from what the code can do, not picked: the streak the remediator may require
 * is at most the number of windows observe-throttle reads; the step factor at most the one the
 * analysis recommends within; the ceiling at most the analysis' own ceiling.
 *
 * @module
 */
import { DEFAULT_THROTTLE_CONFIG } from './analysis/throttle-config.ts';
import { DEFAULT_POLICY } from './kube/policy.ts';

/** A numeric setting. */
export interface NumberSetting {
  /** Path of the Terraform variable (object attribute after a dot). */
  readonly terraform: string;
  /** The environment variable Terraform sets from it. */
  readonly env: string;
  readonly unit: string;
  readonly default: number;
  readonly min: number;
  readonly max: number;
  readonly integer: boolean;
}

export const NUMBER_SETTINGS = {
  maxStep: {
    terraform: 'remediation.max_step',
    env: 'REMEDIATION_MAX_STEP',
    unit: 'factor of the current CPU limit',
    default: DEFAULT_POLICY.maxStepFactor,
    min: 1.01,
    // The analysis never recommends more than this factor, so a larger step could never be taken.
    max: DEFAULT_THROTTLE_CONFIG.maxStepFactor,
    integer: false,
  },
  ceilingMillicores: {
    terraform: 'remediation.ceiling_millicores',
    env: 'REMEDIATION_CEILING_MILLICORES',
    unit: 'millicores',
    default: DEFAULT_POLICY.ceilingMillicores,
    min: 10,
    // The analysis caps its recommendation at its own ceiling: a higher limit is never recommended.
    max: Math.round(DEFAULT_THROTTLE_CONFIG.ceilingCores * 1000),
    integer: true,
  },
  minWindows: {
    terraform: 'remediation.min_windows',
    env: 'REMEDIATION_MIN_WINDOWS',
    unit: 'consecutive throttled schedule intervals of observe-throttle',
    default: DEFAULT_POLICY.minConsecutiveWindows,
    min: 1,
    // observe-throttle reads this many windows, so a finding's streak is never longer.
    max: DEFAULT_THROTTLE_CONFIG.consecutiveWindows,
    integer: true,
  },
  maxActionsPerRun: {
    terraform: 'remediation.max_actions_per_run',
    env: 'REMEDIATION_MAX_ACTIONS_PER_RUN',
    unit: 'changes per observe window',
    default: DEFAULT_POLICY.maxActionsPerRun,
    min: 1,
    max: 50,
    integer: true,
  },
} as const satisfies Record<string, NumberSetting>;

/** A duration setting, written in the one grammar of shared/duration.ts. */
export interface DurationSetting {
  /** Path of the Terraform variable (object attribute after a dot). */
  readonly terraform: string;
  /** The environment variable Terraform sets from it. */
  readonly env: string;
  /** Bounds in milliseconds, where the setting has any. */
  readonly minMs?: number;
  readonly maxMs?: number;
}

export const DURATION_SETTINGS = {
  cooldown: { terraform: 'remediation.cooldown', env: 'REMEDIATION_COOLDOWN' },
  maxEvidenceAge: {
    terraform: 'remediation.max_evidence_age',
    env: 'REMEDIATION_MAX_EVIDENCE_AGE',
    // At least a minute (push latency: younger refuses findings still in flight), at most a day
    // (evidence no scheduled run would still stand by).
    minMs: 60_000,
    maxMs: 24 * 3_600_000,
  },
} as const satisfies Record<string, DurationSetting>;

/** How long a deployed probe lives after a run last upserted it (the PxL scripts' `UpsertTracepoint` TTL). */
export const PROBE_TTL_MINUTES = 30;

/**
 * The schedules Terraform accepts: `*\/N * * * *`, every N minutes with N dividing 60, so the
 * runs are evenly spaced in every time zone and across DST changes and each window lasts N
 * minutes; and 2N shorter than the probe TTL, so a missed run does not let the probes expire
 * before the next one (which then still reads the data of its window).
 */
export const SCHEDULE_STEP_MINUTES: readonly number[] = Array.from({ length: 60 }, (_, i) => i + 1).filter(
  (n) => 60 % n === 0 && 2 * n < PROBE_TTL_MINUTES,
);

/** Default schedules and time zone of the scheduled functions (Terraform's `schedules` variable). */
export const SCHEDULE_DEFAULTS = {
  'observe-throttle': '*/5 * * * *',
  'observe-births': '*/10 * * * *',
  timeZone: 'Etc/UTC',
} as const;

/** The scheduled functions. */
export type ScheduledFunction = 'observe-throttle' | 'observe-births';

/**
 * How many throttle schedule intervals a finding's evidence may age before remediate refuses it
 * (REMEDIATION_MAX_EVIDENCE_AGE, Terraform `remediation.max_evidence_age`, unset): by then two newer
 * runs have described the workload, and Pub/Sub's retries of a push (10-600 s backoff) are over.
 */
export const EVIDENCE_AGE_SCHEDULE_INTERVALS = 3;

/** Minutes between two runs of a `*\/N * * * *` schedule. */
export const scheduleStepMinutes = (schedule: string): number => {
  const match = /^\*\/(\d+) \* \* \* \*$/.exec(schedule.trim());
  if (!match?.[1]) {
    throw new Error(`${schedule} is not a "*/N * * * *" schedule`);
  }
  return Number(match[1]);
};
