/**
 * Environment of the observe functions.
 *
 * @module
 */
import { ConfigError, type ConfigOf, integer, list, oneOf, optional, string } from '../config.ts';
import { SOURCES } from '../findings/types.ts';
import { pixieConfigSpec } from '../pixie/config.ts';
import { BIRTH_SCRIPT_NAMES } from '../pxl/scripts.ts';
import { runtimeSpec } from '../runtime.ts';
import { SCHEDULE_DEFAULTS, type ScheduledFunction } from '../settings.ts';
import { type CronSchedule, CronError, parseCron } from './cron.ts';

export const observeSpec = {
  ...runtimeSpec,
  ...pixieConfigSpec,
  /** Topic the findings go to (name or full resource name). */
  FINDINGS_TOPIC: string(),
  /** Cluster name in findings. */
  KG_CLUSTER_NAME: string(),
  /** Namespaces to observe (comma-separated); empty means all. */
  KG_NAMESPACES: list({ default: [] }),
  /**
   * The unix-cron schedule of this function's Scheduler job (Terraform sets the job's own): a
   * scheduled run covers the time since the job's previous due time. Unset: the default schedule
   * of the function (shared/settings.ts).
   */
  OBSERVE_SCHEDULE: optional(string()),
  /** The IANA time zone the schedule is read in (the job's `time_zone`). */
  OBSERVE_TIME_ZONE: string({ default: SCHEDULE_DEFAULTS.timeZone }),
  /** Pixie's row cap per result table (`#px:set max_output_rows_per_table`); a table that reaches it fails the run. */
  OBSERVE_MAX_ROWS: integer({ min: 1, max: 1_000_000, default: 10_000 }),
  /** What the kernel data is: `pixie` in production; `local` or `replay` for a local Vizier. */
  KG_KERNEL_SOURCE: oneOf(SOURCES, { default: 'pixie' }),
} as const;

export type ObserveConfig = ConfigOf<typeof observeSpec>;

/** What observe-births alone reads besides {@link observeSpec}. */
export const birthProbeSpec = {
  /**
   * The birth probe to deploy: `pod_birth_lite` (always-on: no program on every write or syscall
   * of the node) or `pod_birth` (adds cgroup limit writes and the runtime's syscall count, at a
   * cost on every syscall of the node; docs/benchmarks.md).
   */
  KG_BIRTH_PROBE: oneOf(BIRTH_SCRIPT_NAMES, { default: 'pod_birth_lite' }),
} as const;

/** The function's schedule from its config; a schedule that does not parse is a configuration error. */
export const observeSchedule = (name: ScheduledFunction, config: Pick<ObserveConfig, 'OBSERVE_SCHEDULE' | 'OBSERVE_TIME_ZONE'>): CronSchedule => {
  try {
    return parseCron(config.OBSERVE_SCHEDULE ?? SCHEDULE_DEFAULTS[name], config.OBSERVE_TIME_ZONE);
  } catch (error) {
    if (error instanceof CronError) {
      throw new ConfigError([{ variable: 'OBSERVE_SCHEDULE', problem: 'invalid', expected: 'a unix-cron schedule and an IANA time zone (OBSERVE_TIME_ZONE)', detail: error.message }]);
    }
    throw error;
  }
};
