import { describe, expect, it } from 'vitest';
import { parseCron } from '../../../shared/observe/cron.ts';
import { resolveWindow, WindowRequestError } from '../../../shared/observe/window.ts';

const now = new Date('2026-11-27T12:01:30.000Z');
const everyFive = parseCron('*/5 * * * *', 'Etc/UTC');
const base = { headers: {}, now, schedule: everyFive, maxSeconds: 3600 };

// Terraform's body (terraform/modules/kernel-gossip/scheduler.tf) and the headers Cloud Scheduler
// adds to an HTTP target's request: "X-CloudScheduler: true", "X-CloudScheduler-JobName: the job
// name", "X-CloudScheduler-ScheduleTime: for jobs in unix-cron format, the job schedule time in
// RFC3339 UTC Zulu format" (Cloud Scheduler API, HttpTarget.headers / AppEngineHttpTarget.headers:
// cloud.google.com/scheduler/docs/reference/rest/v1/projects.locations.jobs). The request that
// Terraform itself renders is checked in test/integration/terraform/scheduler-request.test.ts.
const schedulerBody = { trigger: 'cloud-scheduler', job: 'kg-observe-throttle' };
const schedulerHeaders = (scheduleTime: string): Record<string, string> => ({
  'user-agent': 'Google-Cloud-Scheduler',
  'x-cloudscheduler': 'true',
  'x-cloudscheduler-jobname': 'kg-observe-throttle',
  'x-cloudscheduler-scheduletime': scheduleTime,
});

const iso = (w: { start: Date; end: Date }): [string, string] => [w.start.toISOString(), w.end.toISOString()];

describe('resolveWindow', () => {
  it.each([
    ['no body, started by hand: the last completed schedule interval', undefined, {}, '2026-11-27T11:55:00.000Z', '2026-11-27T12:00:00.000Z'],
    ['empty body', {}, {}, '2026-11-27T11:55:00.000Z', '2026-11-27T12:00:00.000Z'],
    ['Terraform’s Scheduler request: the interval since the previous due time', schedulerBody, schedulerHeaders('2026-11-27T12:00:00Z'), '2026-11-27T11:55:00.000Z', '2026-11-27T12:00:00.000Z'],
    ['a forced run between due times repeats the last window', schedulerBody, schedulerHeaders('2026-11-27T12:03:17Z'), '2026-11-27T11:55:00.000Z', '2026-11-27T12:00:00.000Z'],
    ['windowSeconds from the body', { windowSeconds: 300 }, {}, '2026-11-27T11:56:30.000Z', '2026-11-27T12:01:30.000Z'],
    [
      'explicit start and end',
      { start: '2026-11-27T11:00:00Z', end: '2026-11-27T11:10:00Z' },
      { 'x-cloudscheduler-scheduletime': '2026-11-27T12:01:00Z' },
      '2026-11-27T11:00:00.000Z',
      '2026-11-27T11:10:00.000Z',
    ],
  ])('%s', (_name, body, headers, start, end) => {
    expect(iso(resolveWindow({ ...base, body, headers }))).toEqual([start, end]);
  });

  it('gives a retry (same schedule time, later now) the same window', () => {
    const first = resolveWindow({ ...base, body: schedulerBody, headers: schedulerHeaders('2026-11-27T12:00:00Z'), now: new Date('2026-11-27T12:00:03Z') });
    const retry = resolveWindow({ ...base, body: schedulerBody, headers: schedulerHeaders('2026-11-27T12:00:00Z'), now: new Date('2026-11-27T12:02:40Z') });
    expect(iso(retry)).toEqual(iso(first));
  });

  it('tiles time: each scheduled run starts where the previous due time ended, on an irregular schedule in a time zone', () => {
    const schedule = parseCron('0,20,30 9-17 * * MON-FRI', 'Europe/Berlin');
    // The due times, listed independently: 09:00-17:30 Berlin (CET, UTC+1) on Thursday 26 and Friday 27 November 2026.
    const due: number[] = [];
    for (const day of ['2026-11-26', '2026-11-27']) {
      for (let hour = 8; hour <= 16; hour += 1) {
        for (const minute of [0, 20, 30]) {
          due.push(Date.parse(`${day}T${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}:00Z`));
        }
      }
    }
    for (const [i, end] of due.entries()) {
      const at = new Date(end);
      const window = resolveWindow({ ...base, schedule, maxSeconds: 24 * 3600, body: schedulerBody, headers: schedulerHeaders(at.toISOString()), now: at });
      const previous = due[i - 1] ?? Date.parse('2026-11-25T16:30:00Z');
      expect(iso(window)).toEqual([new Date(previous).toISOString(), at.toISOString()]);
    }
  });

  it.each([
    ['a JSON array', [], /JSON object/],
    ['a string', 'go', /JSON object/],
    ['an unknown field', { window: 60 }, /unknown body field: window/],
    ['another trigger', { trigger: 'cron', job: 'x' }, /trigger must be "cloud-scheduler"/],
    ['a job that is not a name', { trigger: 'cloud-scheduler', job: 7 }, /job must be the Scheduler job name/],
    ['a scheduled run with its own window', { ...schedulerBody, windowSeconds: 60 }, /takes its window from the schedule/],
    ['a fractional windowSeconds', { windowSeconds: 1.5 }, /integer from 1 to 3600/],
    ['a window over the maximum', { windowSeconds: 7200 }, /integer from 1 to 3600/],
    ['start without end', { start: '2026-11-27T11:00:00Z' }, /end must be an RFC 3339 time/],
    ['end before start', { start: '2026-11-27T11:10:00Z', end: '2026-11-27T11:00:00Z' }, /end must be after start/],
    ['a future end', { start: '2026-11-27T12:00:00Z', end: '2026-11-27T12:30:00Z' }, /in the future/],
    ['both forms', { start: '2026-11-27T11:00:00Z', end: '2026-11-27T11:01:00Z', windowSeconds: 60 }, /either start and end/],
    ['a malformed time', { start: 'yesterday', end: '2026-11-27T11:01:00Z' }, /start must be an RFC 3339 time/],
  ])('rejects %s', (_name, body, message) => {
    expect(() => resolveWindow({ ...base, body })).toThrow(WindowRequestError);
    expect(() => resolveWindow({ ...base, body })).toThrow(message);
  });

  it('rejects a malformed schedule header', () => {
    expect(() => resolveWindow({ ...base, body: schedulerBody, headers: { 'X-CloudScheduler-ScheduleTime': 'soon' } })).toThrow(/ScheduleTime/);
  });

  it('refuses a scheduled run whose previous due time is further back than the longest window', () => {
    const hourly = parseCron('0 * * * *', 'Etc/UTC');
    expect(() => resolveWindow({ ...base, schedule: hourly, maxSeconds: 1800, body: schedulerBody, headers: schedulerHeaders('2026-11-27T12:00:00Z') })).toThrow(
      /not due twice within 1800 s/,
    );
  });
});
