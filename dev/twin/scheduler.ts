/**
 * A local Cloud Scheduler for the twin: fires Terraform's jobs (dev/terraform/deployment.ts) at
 * their unix-cron due times on a clock that may run faster than real time, sending what Cloud
 * Scheduler sends to an HTTP target:
 * - the job's method, body and headers, plus `User-Agent: Google-Cloud-Scheduler`,
 *   `X-CloudScheduler: true`, `X-CloudScheduler-JobName` and `X-CloudScheduler-ScheduleTime` (the
 *   due time in RFC 3339 UTC, the same on every retry) (Cloud Scheduler API, HttpTarget.headers);
 * - an OIDC bearer token whose `aud` is the job's audience (unsigned here: the platform, not the
 *   function, checks it; scheduler/docs/http-target-auth);
 * - each attempt aborted after the job's `attempt_deadline` (real seconds: the function runs in
 *   real time); a failed attempt (non-2xx, deadline, connection error) retried `retry_count` times
 *   with Cloud Scheduler's backoff (min_backoff, doubling `max_doublings` times, then growing
 *   linearly by that step, capped at max_backoff; scheduler/docs/configuring/retry-jobs) measured
 *   on the twin's clock.
 *
 * One execution of a job at a time: a due time that passes while the previous one is still being
 * attempted is reported as missed, not queued.
 *
 * @module
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { nextFireAfter, parseCron } from '../../shared/observe/cron.ts';
import type { DeployedJob } from '../terraform/deployment.ts';

/** The twin's clock: real time, or real time sped up from a chosen start. */
export interface TwinClock {
  now(): Date;
  /** Real milliseconds to wait for `ms` of the clock's time. */
  realMs(ms: number): number;
}

/** A clock that starts at `start` and runs `factor` times faster than real time. */
export const compressedClock = (start: Date, factor: number): TwinClock => {
  const realStart = Date.now();
  return {
    now: () => new Date(start.getTime() + (Date.now() - realStart) * factor),
    realMs: (ms) => ms / factor,
  };
};

/** What happened to one attempt. */
export interface Attempt {
  readonly job: string;
  readonly scheduleTime: string;
  readonly attempt: number;
  /** HTTP status, or why there was none. */
  readonly outcome: number | 'deadline' | 'unreachable';
  readonly body: string;
}

export interface SchedulerEvents {
  readonly attempts: Attempt[];
  /** Due times that passed while the job's previous execution was still being attempted, or that `skip` dropped. */
  readonly missed: { readonly job: string; readonly scheduleTime: string }[];
}

export interface LocalJob {
  readonly job: DeployedJob;
  /** The local URL of the job's target function. */
  readonly url: string;
  /** The local URL of the function that is the token's audience. */
  readonly audience: string;
}

export interface LocalSchedulerOptions {
  readonly clock: TwinClock;
  /** Fire due times after this instant. */
  readonly from: Date;
  /** Stop after the last due time at or before this instant. */
  readonly until: Date;
  /** Drops a due time as if Cloud Scheduler never fired it (tests: a missed run). */
  readonly skip?: (job: string, scheduleTime: Date) => boolean;
  readonly onAttempt?: (attempt: Attempt) => void;
}

/** Seconds before retry number `n` (0-based) under Cloud Scheduler's backoff. */
export const retryDelaySeconds = (retry: DeployedJob['retry'], n: number): number => {
  const doubled = retry.minBackoffSeconds * 2 ** Math.min(n, retry.maxDoublings);
  const linear = n > retry.maxDoublings ? retry.minBackoffSeconds * 2 ** retry.maxDoublings * (n - retry.maxDoublings) : 0;
  return Math.min(retry.maxBackoffSeconds, doubled + linear);
};

const base64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** An OIDC-shaped token for `audience`, unsigned: nothing in the twin verifies it, as the platform does in the cloud. */
const token = (audience: string, at: Date): string => {
  const iat = Math.floor(at.getTime() / 1000);
  return `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ iss: 'https://accounts.google.com', aud: audience, iat, exp: iat + 3600 })}.`;
};

const attemptOnce = async (local: LocalJob, scheduleTime: Date, now: Date): Promise<{ outcome: Attempt['outcome']; body: string }> => {
  const { job } = local;
  try {
    const response = await fetch(local.url, {
      method: job.httpMethod,
      headers: {
        ...job.headers,
        'User-Agent': 'Google-Cloud-Scheduler',
        'X-CloudScheduler': 'true',
        'X-CloudScheduler-JobName': job.name,
        'X-CloudScheduler-ScheduleTime': scheduleTime.toISOString().replace('.000Z', 'Z'),
        Authorization: `Bearer ${token(local.audience, now)}`,
      },
      ...(job.httpMethod === 'GET' || job.httpMethod === 'HEAD' ? {} : { body: job.body }),
      signal: AbortSignal.timeout(job.attemptDeadlineSeconds * 1000),
    });
    return { outcome: response.status, body: (await response.text()).slice(0, 2000) };
  } catch (error) {
    const name = (error as { name?: string }).name;
    return { outcome: name === 'TimeoutError' ? 'deadline' : 'unreachable', body: error instanceof Error ? error.message : String(error) };
  }
};

/** Runs every job from `from` to `until` on the clock; resolves when the last execution ended. */
export const runLocalScheduler = async (jobs: readonly LocalJob[], options: LocalSchedulerOptions, signal?: AbortSignal): Promise<SchedulerEvents> => {
  const events: SchedulerEvents = { attempts: [], missed: [] };
  const { clock } = options;
  const waitUntil = async (at: Date): Promise<void> => {
    const ms = at.getTime() - clock.now().getTime();
    if (ms > 0) {
      await sleep(clock.realMs(ms), undefined, signal === undefined ? {} : { signal });
    }
  };
  const runJob = async (local: LocalJob): Promise<void> => {
    const schedule = parseCron(local.job.schedule, local.job.timeZone);
    const horizon = options.until.getTime() - options.from.getTime() + 24 * 3600_000;
    for (let due = nextFireAfter(schedule, options.from, horizon); due !== undefined && due <= options.until; due = nextFireAfter(schedule, due, horizon)) {
      if (clock.now() > due && clock.now().getTime() - due.getTime() > 60_000) {
        events.missed.push({ job: local.job.name, scheduleTime: due.toISOString() });
        continue;
      }
      await waitUntil(due);
      if (options.skip?.(local.job.name, due) === true) {
        events.missed.push({ job: local.job.name, scheduleTime: due.toISOString() });
        continue;
      }
      for (let attempt = 1; attempt <= 1 + local.job.retry.retryCount; attempt += 1) {
        const result = await attemptOnce(local, due, clock.now());
        const record: Attempt = { job: local.job.name, scheduleTime: due.toISOString(), attempt, ...result };
        events.attempts.push(record);
        options.onAttempt?.(record);
        if (typeof result.outcome === 'number' && result.outcome >= 200 && result.outcome < 300) {
          break;
        }
        if (attempt <= local.job.retry.retryCount) {
          await waitUntil(new Date(clock.now().getTime() + retryDelaySeconds(local.job.retry, attempt - 1) * 1000));
        }
      }
    }
  };
  await Promise.all(jobs.map(runJob));
  return events;
};

/** A clock the scheduler moves itself (dev/twin/clock.ts). */
export interface SteppedClock extends TwinClock {
  stepTo(at: Date): void;
}

export interface SteppedSchedulerOptions extends Omit<LocalSchedulerOptions, 'clock'> {
  readonly clock: SteppedClock;
  /**
   * Awaited after the attempts of one instant ended and before the clock moves on (e.g. until
   * the pushes their findings caused were handled), so what happens at an instant is over before
   * the next one: the day's events keep their order however slow the machine is.
   */
  readonly settle?: (at: Date, attempts: readonly Attempt[]) => Promise<void>;
}

interface Pending {
  readonly at: number;
  readonly local: LocalJob;
  readonly due: Date;
  readonly attempt: number;
}

/**
 * Runs every job from `from` to `until` on a stepped clock: the clock jumps to the earliest due
 * time or retry still pending, every attempt due then runs (concurrently, as Cloud Scheduler runs
 * different jobs), then `settle`, then the next instant. Retries follow the job's retry config at
 * the same schedule time, as in {@link runLocalScheduler}.
 */
export const runSteppedScheduler = async (jobs: readonly LocalJob[], options: SteppedSchedulerOptions): Promise<SchedulerEvents> => {
  const events: SchedulerEvents = { attempts: [], missed: [] };
  const pending: Pending[] = [];
  for (const local of jobs) {
    const schedule = parseCron(local.job.schedule, local.job.timeZone);
    const horizon = options.until.getTime() - options.from.getTime() + 24 * 3600_000;
    for (let due = nextFireAfter(schedule, options.from, horizon); due !== undefined && due <= options.until; due = nextFireAfter(schedule, due, horizon)) {
      pending.push({ at: due.getTime(), local, due, attempt: 1 });
    }
  }
  while (pending.length > 0) {
    pending.sort((a, b) => a.at - b.at);
    const at = pending[0]?.at ?? 0;
    const now = pending.filter((p) => p.at === at);
    pending.splice(0, now.length);
    options.clock.stepTo(new Date(at));
    const attempts = await Promise.all(
      now.map(async ({ local, due, attempt }): Promise<Attempt | undefined> => {
        if (attempt === 1 && options.skip?.(local.job.name, due) === true) {
          events.missed.push({ job: local.job.name, scheduleTime: due.toISOString() });
          return undefined;
        }
        const result = await attemptOnce(local, due, options.clock.now());
        const record: Attempt = { job: local.job.name, scheduleTime: due.toISOString(), attempt, ...result };
        events.attempts.push(record);
        options.onAttempt?.(record);
        const ok = typeof result.outcome === 'number' && result.outcome >= 200 && result.outcome < 300;
        if (!ok && attempt <= local.job.retry.retryCount) {
          pending.push({ at: at + retryDelaySeconds(local.job.retry, attempt - 1) * 1000, local, due, attempt: attempt + 1 });
        }
        return record;
      }),
    );
    await options.settle?.(new Date(at), attempts.filter((a) => a !== undefined));
  }
  return events;
};
