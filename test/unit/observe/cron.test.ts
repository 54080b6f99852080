import { describe, expect, it } from 'vitest';
import { CronError, latestFireAtOrBefore, nextFireAfter, parseCron } from '../../../shared/observe/cron.ts';

const DAY_MS = 24 * 3600 * 1000;

const latest = (expression: string, timeZone: string, at: string): string | undefined =>
  latestFireAtOrBefore(parseCron(expression, timeZone), new Date(at), 8 * DAY_MS)?.toISOString();

// unix-cron as Cloud Scheduler documents it (cloud.google.com/scheduler/docs/configuring/cron-job-schedules):
// minute hour day-of-month month day-of-week; lists, ranges, steps, names; evaluated in the job's time zone.
describe('unix-cron schedules', () => {
  it.each([
    ['*/5 * * * *', 'Etc/UTC', '2026-11-27T12:04:59Z', '2026-11-27T12:00:00.000Z'],
    ['*/5 * * * *', 'Etc/UTC', '2026-11-27T12:05:00Z', '2026-11-27T12:05:00.000Z'],
    ['*/10 * * * *', 'Asia/Kolkata', '2026-11-27T12:14:00Z', '2026-11-27T12:10:00.000Z'],
    // 09:00 in Kolkata (UTC+05:30) is 03:30 UTC.
    ['0 9 * * *', 'Asia/Kolkata', '2026-11-27T12:00:00Z', '2026-11-27T03:30:00.000Z'],
    // Monday 08:15 in New York: 2026-11-23 is a Monday, EST (UTC-5).
    ['15 8 * * MON', 'America/New_York', '2026-11-27T12:00:00Z', '2026-11-23T13:15:00.000Z'],
    ['15 8 * * 1', 'America/New_York', '2026-11-27T12:00:00Z', '2026-11-23T13:15:00.000Z'],
    // Sunday as 7 and as 0: 2026-11-22 is a Sunday.
    ['0 0 * * 7', 'Etc/UTC', '2026-11-27T12:00:00Z', '2026-11-22T00:00:00.000Z'],
    ['5-20/15 3 * * *', 'Etc/UTC', '2026-11-27T03:19:00Z', '2026-11-27T03:05:00.000Z'],
    ['5/15 3 * * *', 'Etc/UTC', '2026-11-27T03:59:00Z', '2026-11-27T03:50:00.000Z'],
    // Both day fields restricted: either matches (the 1st, or a Friday; 2026-11-27 is a Friday).
    ['0 0 1 * FRI', 'Etc/UTC', '2026-11-28T12:00:00Z', '2026-11-27T00:00:00.000Z'],
    ['0 12 1 JAN *', 'Etc/UTC', '2026-11-28T12:00:00Z', undefined],
  ])('%s in %s: latest due time at or before %s is %s', (expression, timeZone, at, expected) => {
    expect(latest(expression, timeZone, at)).toBe(expected);
  });

  it('follows the time zone across a DST change (Europe/Berlin, 2026-10-25: 03:00 CEST -> 02:00 CET)', () => {
    expect(latest('30 9 * * *', 'Europe/Berlin', '2026-10-24T12:00:00Z')).toBe('2026-10-24T07:30:00.000Z');
    expect(latest('30 9 * * *', 'Europe/Berlin', '2026-10-25T12:00:00Z')).toBe('2026-10-25T08:30:00.000Z');
  });

  it.each([
    ['* * * *', 'Etc/UTC', /five fields/],
    ['60 * * * *', 'Etc/UTC', /59/],
    ['*/0 * * * *', 'Etc/UTC', /positive whole number/],
    ['10-5 * * * *', 'Etc/UTC', /backwards/],
    ['0 0 * * FUNDAY', 'Etc/UTC', /not a value/],
    ['*/5 * * * *', 'Mars/Olympus', /IANA time zone/],
  ])('rejects %s (%s)', (expression, timeZone, message) => {
    expect(() => parseCron(expression, timeZone)).toThrow(CronError);
    expect(() => parseCron(expression, timeZone)).toThrow(message);
  });
});

describe('nextFireAfter', () => {
  it('is the first due time strictly after the instant, in the time zone', () => {
    expect(nextFireAfter(parseCron('*/5 * * * *', 'Etc/UTC'), new Date('2026-11-27T12:05:00Z'), DAY_MS)?.toISOString()).toBe('2026-11-27T12:10:00.000Z');
    expect(nextFireAfter(parseCron('0 9 * * *', 'Asia/Kolkata'), new Date('2026-11-27T04:00:00Z'), DAY_MS)?.toISOString()).toBe('2026-11-28T03:30:00.000Z');
    expect(nextFireAfter(parseCron('0 12 1 JAN *', 'Etc/UTC'), new Date('2026-11-27T04:00:00Z'), DAY_MS)).toBeUndefined();
  });
});
