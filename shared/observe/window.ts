/**
 * Which window of kernel data one scheduled run covers: derived from the request (body or the
 * `X-CloudScheduler-ScheduleTime` header), never from state kept by the instance, so a retried run
 * covers the same window and produces the same finding ids.
 *
 * @module
 */

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
  /** Window length when the body names none: the schedule's interval. */
  readonly defaultSeconds: number;
  /** Longest window a caller may ask for (Pixie keeps hours of data at most). */
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

const ALLOWED_KEYS = new Set(['windowSeconds', 'start', 'end']);

/**
 * Resolves the window:
 * - body `{start, end}` (RFC 3339): exactly that window (backfills, manual runs);
 * - otherwise it ends at the scheduled time (`X-CloudScheduler-ScheduleTime`, the same on every
 *   retry of a run) or now, and lasts body `windowSeconds` or the schedule's interval.
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
  if (fields['start'] !== undefined || fields['end'] !== undefined) {
    if (fields['windowSeconds'] !== undefined) {
      throw new WindowRequestError('give either start and end, or windowSeconds');
    }
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
  const seconds = fields['windowSeconds'] === undefined ? request.defaultSeconds : parseSeconds(fields['windowSeconds'], request.maxSeconds);
  const scheduled = header(request.headers, 'x-cloudscheduler-scheduletime');
  const end = scheduled === undefined ? request.now : parseTime(scheduled, 'X-CloudScheduler-ScheduleTime');
  return { start: new Date(end.getTime() - seconds * 1000), end };
};
