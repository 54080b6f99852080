import { describe, expect, it } from 'vitest';
import { resolveWindow, WindowRequestError } from '../../../shared/observe/window.ts';

const now = new Date('2026-11-27T12:01:30.000Z');
const base = { headers: {}, now, defaultSeconds: 60, maxSeconds: 3600 };

describe('resolveWindow', () => {
  it.each([
    ['no body: the schedule interval ending now', undefined, {}, '2026-11-27T12:00:30.000Z', '2026-11-27T12:01:30.000Z'],
    ['empty body', {}, {}, '2026-11-27T12:00:30.000Z', '2026-11-27T12:01:30.000Z'],
    [
      'Cloud Scheduler run: ends at the scheduled time, the same on every retry',
      {},
      { 'X-CloudScheduler-ScheduleTime': '2026-11-27T12:01:00Z' },
      '2026-11-27T12:00:00.000Z',
      '2026-11-27T12:01:00.000Z',
    ],
    ['windowSeconds from the body', { windowSeconds: 300 }, {}, '2026-11-27T11:56:30.000Z', '2026-11-27T12:01:30.000Z'],
    [
      'explicit start and end',
      { start: '2026-11-27T11:00:00Z', end: '2026-11-27T11:10:00Z' },
      { 'x-cloudscheduler-scheduletime': '2026-11-27T12:01:00Z' },
      '2026-11-27T11:00:00.000Z',
      '2026-11-27T11:10:00.000Z',
    ],
  ])('%s', (_name, body, headers, start, end) => {
    const window = resolveWindow({ ...base, body, headers });
    expect(window.start.toISOString()).toBe(start);
    expect(window.end.toISOString()).toBe(end);
  });

  it.each([
    ['a JSON array', [], /JSON object/],
    ['a string', 'go', /JSON object/],
    ['an unknown field', { window: 60 }, /unknown body field: window/],
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
    expect(() => resolveWindow({ ...base, body: {}, headers: { 'X-CloudScheduler-ScheduleTime': 'soon' } })).toThrow(/ScheduleTime/);
  });
});
