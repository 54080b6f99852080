/**
 * Cloud Scheduler's unix-cron schedules (five fields: minute, hour, day of month, month, day of
 * week), evaluated in the job's time zone, so a scheduled run can tell when the previous run of
 * its job was due. Cloud Scheduler documents its format as standard unix-cron with lists, ranges,
 * steps and month/weekday names (cloud.google.com/scheduler/docs/configuring/cron-job-schedules);
 * when both day fields are restricted a day matches either one, as in cron(8).
 *
 * Pure: parsing and minute arithmetic only, with the time zone applied through Intl.
 *
 * @module
 */

/** A schedule that cannot be parsed, or a time zone Intl does not know. */
export class CronError extends Error {
  override readonly name = 'CronError';
}

interface FieldRange {
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
}

const FIELDS: readonly FieldRange[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] },
  // 0-7: both 0 and 7 are Sunday.
  { min: 0, max: 7, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] },
];

/** A parsed schedule: the allowed values of each field, and the time zone it is read in. */
export interface CronSchedule {
  readonly expression: string;
  readonly timeZone: string;
  readonly minutes: ReadonlySet<number>;
  readonly hours: ReadonlySet<number>;
  readonly daysOfMonth: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  readonly daysOfWeek: ReadonlySet<number>;
  /** Whether the day-of-month / day-of-week field was `*` (then only the other one restricts days). */
  readonly anyDayOfMonth: boolean;
  readonly anyDayOfWeek: boolean;
}

const value = (text: string, range: FieldRange, expression: string): number => {
  const named = range.names?.indexOf(text.toUpperCase()) ?? -1;
  const number = named >= 0 ? named + (range.min === 1 ? 1 : 0) : /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(number) || number < range.min || number > range.max) {
    throw new CronError(`"${expression}": ${text.slice(0, 20)} is not a value from ${range.min} to ${range.max}`);
  }
  return number;
};

const parseField = (text: string, range: FieldRange, expression: string): Set<number> => {
  const values = new Set<number>();
  for (const part of text.split(',')) {
    const [span = '', stepText] = part.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1 || (stepText !== undefined && !/^\d+$/.test(stepText))) {
      throw new CronError(`"${expression}": step ${String(stepText).slice(0, 20)} is not a positive whole number`);
    }
    let from: number;
    let to: number;
    if (span === '*') {
      [from, to] = [range.min, range.max];
    } else if (span.includes('-')) {
      const [a = '', b = ''] = span.split('-');
      [from, to] = [value(a, range, expression), value(b, range, expression)];
    } else {
      from = value(span, range, expression);
      // `5/15` means from 5 to the end of the range in steps of 15.
      to = stepText === undefined ? from : range.max;
    }
    if (from > to) {
      throw new CronError(`"${expression}": range ${span.slice(0, 20)} runs backwards`);
    }
    for (let v = from; v <= to; v += step) {
      values.add(v);
    }
  }
  return values;
};

/** Parses a five-field unix-cron expression read in the IANA time zone `timeZone`. */
export const parseCron = (expression: string, timeZone: string): CronSchedule => {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5) {
    throw new CronError(`"${expression.slice(0, 60)}" is not a unix-cron schedule with five fields`);
  }
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch (cause) {
    throw new CronError(`${timeZone.slice(0, 60)} is not an IANA time zone`, { cause });
  }
  const [minutes, hours, daysOfMonth, months, daysOfWeek] = fields.map((field, i) => parseField(field, FIELDS[i] ?? { min: 0, max: 0 }, expression));
  if (daysOfWeek?.delete(7)) {
    daysOfWeek.add(0);
  }
  return {
    expression,
    timeZone,
    minutes: minutes ?? new Set(),
    hours: hours ?? new Set(),
    daysOfMonth: daysOfMonth ?? new Set(),
    months: months ?? new Set(),
    daysOfWeek: daysOfWeek ?? new Set(),
    anyDayOfMonth: fields[2] === '*',
    anyDayOfWeek: fields[4] === '*',
  };
};

const MINUTE_MS = 60_000;
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** The wall-clock fields of `time` in `timeZone`. */
const wallClock = (format: Intl.DateTimeFormat, time: number): { minute: number; hour: number; day: number; month: number; weekday: number } => {
  const parts: Record<string, string> = {};
  for (const part of format.formatToParts(time)) {
    parts[part.type] = part.value;
  }
  return {
    minute: Number(parts['minute']),
    // hourCycle h23 still prints 24 at midnight in some engines.
    hour: Number(parts['hour']) % 24,
    day: Number(parts['day']),
    month: Number(parts['month']),
    weekday: WEEKDAYS.indexOf(parts['weekday'] ?? ''),
  };
};

const formatIn = (timeZone: string): Intl.DateTimeFormat =>
  new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', minute: 'numeric', hour: 'numeric', day: 'numeric', month: 'numeric', weekday: 'short' });

/** Whether the job is due at the minute starting at `time` (ms, a whole minute). */
const dueAt = (schedule: CronSchedule, format: Intl.DateTimeFormat, time: number): boolean => {
  const t = wallClock(format, time);
  if (!schedule.minutes.has(t.minute) || !schedule.hours.has(t.hour) || !schedule.months.has(t.month)) {
    return false;
  }
  const dom = schedule.daysOfMonth.has(t.day);
  const dow = schedule.daysOfWeek.has(t.weekday);
  if (schedule.anyDayOfMonth || schedule.anyDayOfWeek) {
    return dom && dow;
  }
  return dom || dow;
};

/**
 * The latest time at or before `at` when the job is due, searching back at most `maxLookbackMs`;
 * undefined when it is not due in that span.
 */
export const latestFireAtOrBefore = (schedule: CronSchedule, at: Date, maxLookbackMs: number): Date | undefined => {
  const format = formatIn(schedule.timeZone);
  const first = Math.floor(at.getTime() / MINUTE_MS) * MINUTE_MS;
  for (let time = first; time >= at.getTime() - maxLookbackMs; time -= MINUTE_MS) {
    if (dueAt(schedule, format, time)) {
      return new Date(time);
    }
  }
  return undefined;
};

/** The first time strictly after `after` when the job is due, looking ahead at most `maxLookaheadMs`. */
export const nextFireAfter = (schedule: CronSchedule, after: Date, maxLookaheadMs: number): Date | undefined => {
  const format = formatIn(schedule.timeZone);
  for (let time = Math.floor(after.getTime() / MINUTE_MS) * MINUTE_MS + MINUTE_MS; time <= after.getTime() + maxLookaheadMs; time += MINUTE_MS) {
    if (dueAt(schedule, format, time)) {
      return new Date(time);
    }
  }
  return undefined;
};
