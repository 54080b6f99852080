/**
 * Which window of kernel data one scheduled run covers: derived from the request (body or the
 * `X-CloudScheduler-ScheduleTime` header), never from state kept by the instance, so a retried run
 * covers the same window and produces the same finding ids.
 *
 * @module
 */
import { type CronSchedule, latestFireAtOrBefore } from './cron.ts';

/** The time window of one observe run. */
export interface ObserveWindow {
  readonly start: Date;
  readonly end: Date;
}

/** A request that can never be served (bad body): the function answers 4xx and Scheduler does not retry it forever. */
export class WindowRequestError extends Error {
  override readonly name = 'WindowRequestError';
}

export interface WindowRequest {
  readonly body: unknown;
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  readonly now: Date;
  /** The job's schedule: a scheduled run covers the time since the job's previous due time. */
  readonly schedule: CronSchedule;
  /** Longest window a caller may ask for, and how far back the previous due time is looked for. */
  readonly maxSeconds: number;
}

const header = (headers: WindowRequest['headers'], name: string): string | undefined => {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) {
      return typeof value === 'string' ? value : value?.[0];
    }
  }
  return undefined;
};

const parseTime = (value: unknown, field: string): Date => {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}T/.test(value)) {
    throw new WindowRequestError(`${field} must be an RFC 3339 time`);
  }
  const time = new Date(value);
  if (Number.isNaN(time.getTime())) {
    throw new WindowRequestError(`${field} is not a valid time: ${value.slice(0, 40)}`);
  }
  return time;
};

const parseSeconds = (value: unknown, max: number): number => {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new WindowRequestError(`windowSeconds must be an integer from 1 to ${max}`);
  }
  return value;
};

/**
 * The body Terraform's Scheduler job sends (terraform/modules/kernel-gossip/scheduler.tf):
 * `{"trigger":"cloud-scheduler","job":"<job name>"}`; the job name is only logged.
 */
const SCHEDULER_TRIGGER = 'cloud-scheduler';
const ALLOWED_KEYS = new Set(['windowSeconds', 'start', 'end', 'trigger', 'job']);

/**
 * The window of a scheduled run: from the job's previous due time to the due time of this run.
 * The due time is the latest one at or before `X-CloudScheduler-ScheduleTime` (or now, for a run
 * started by hand): Cloud Scheduler sends the same schedule time on every retry of a run, so a
 * retry covers the same window; consecutive runs share their boundary, so they neither overlap nor
 * leave a gap; and a forced run between two due times repeats the last window (same ids).
 */
const scheduledWindow = (request: WindowRequest, at: Date): ObserveWindow => {
  const lookbackMs = request.maxSeconds * 1000;
  const end = latestFireAtOrBefore(request.schedule, at, lookbackMs);
  const start = end === undefined ? undefined : latestFireAtOrBefore(request.schedule, new Date(end.getTime() - 60_000), lookbackMs);
  if (end === undefined || start === undefined) {
    throw new WindowRequestError(
      `the schedule "${request.schedule.expression}" (${request.schedule.timeZone}) is not due twice within ${request.maxSeconds} s before ${at.toISOString()}`,
    );
  }
  return { start, end };
};

/**
 * Resolves the window:
 * - body `{start, end}` (RFC 3339): exactly that window (backfills, manual runs);
 * - body `{windowSeconds}`: that many seconds ending at the scheduled time or now;
 * - otherwise (Terraform's Scheduler body, an empty body or none): the scheduled window, from the
 *   job's previous due time to this run's due time ({@link scheduledWindow}).
 */
export const resolveWindow = (request: WindowRequest): ObserveWindow => {
  const body: unknown = request.body ?? {};
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new WindowRequestError('body must be a JSON object');
  }
  const fields = body as Record<string, unknown>;
  const unknown = Object.keys(fields).filter((key) => !ALLOWED_KEYS.has(key));
  if (unknown.length > 0) {
    throw new WindowRequestError(`unknown body field${unknown.length === 1 ? '' : 's'}: ${unknown.map((k) => k.slice(0, 40)).join(', ')}`);
  }
  const scheduled = fields['trigger'] !== undefined || fields['job'] !== undefined;
  if (scheduled) {
    if (fields['trigger'] !== SCHEDULER_TRIGGER) {
      throw new WindowRequestError(`trigger must be "${SCHEDULER_TRIGGER}"`);
    }
    if (typeof fields['job'] !== 'string' || fields['job'] === '' || fields['job'].length > 500) {
      throw new WindowRequestError('job must be the Scheduler job name');
    }
  }
  const manual = fields['start'] !== undefined || fields['end'] !== undefined;
  if (manual && fields['windowSeconds'] !== undefined) {
    throw new WindowRequestError('give either start and end, or windowSeconds');
  }
  if (scheduled && (manual || fields['windowSeconds'] !== undefined)) {
    throw new WindowRequestError('a scheduled run (trigger, job) takes its window from the schedule: give no start, end or windowSeconds');
  }
  if (manual) {
    const start = parseTime(fields['start'], 'start');
    const end = parseTime(fields['end'], 'end');
    const seconds = (end.getTime() - start.getTime()) / 1000;
    if (seconds <= 0 || seconds > request.maxSeconds) {
      throw new WindowRequestError(`end must be after start, by at most ${request.maxSeconds} s`);
    }
    if (end.getTime() > request.now.getTime() + 60_000) {
      throw new WindowRequestError('end is in the future');
    }
    return { start, end };
  }
  const scheduleTime = header(request.headers, 'x-cloudscheduler-scheduletime');
  const at = scheduleTime === undefined ? request.now : parseTime(scheduleTime, 'X-CloudScheduler-ScheduleTime');
  if (fields['windowSeconds'] !== undefined) {
    const seconds = parseSeconds(fields['windowSeconds'], request.maxSeconds);
    return { start: new Date(at.getTime() - seconds * 1000), end: at };
  }
  return scheduledWindow(request, at);
};
