/**
 * The twin's local Cloud Scheduler against a real HTTP server: due times from the job's cron
 * schedule on a compressed clock, Cloud Scheduler's headers, retries with the job's backoff and
 * the same schedule time, a skipped (missed) run.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SharedClock } from '../../../dev/twin/clock.ts';
import { compressedClock, retryDelaySeconds, runLocalScheduler, runSteppedScheduler } from '../../../dev/twin/scheduler.ts';
import type { DeployedJob } from '../../../dev/terraform/deployment.ts';

const job: DeployedJob = {
  key: 'observe-throttle',
  name: 'kg-observe-throttle',
  schedule: '*/5 * * * *',
  timeZone: 'Etc/UTC',
  target: 'observe-throttle',
  audience: 'observe-throttle',
  httpMethod: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: '{"job":"kg-observe-throttle","trigger":"cloud-scheduler"}',
  attemptDeadlineSeconds: 5,
  retry: { retryCount: 1, minBackoffSeconds: 30, maxBackoffSeconds: 120, maxDoublings: 2, maxRetryDurationSeconds: 0 },
};

describe('local Cloud Scheduler', () => {
  const closers: (() => void)[] = [];
  afterEach(() => {
    for (const close of closers.splice(0)) {
      close();
    }
  });

  const server = async (answer: (n: number) => number): Promise<{ url: string; requests: { headers: IncomingHttpHeaders; body: string }[] }> => {
    const requests: { headers: IncomingHttpHeaders; body: string }[] = [];
    const s = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        requests.push({ headers: req.headers, body });
        res.writeHead(answer(requests.length)).end('{}');
      });
    });
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    closers.push(() => s.close());
    return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}/`, requests };
  };

  it('backs off as Cloud Scheduler does: doubling max_doublings times, then linearly, capped', () => {
    // Cloud Scheduler (RetryConfig.max_doublings): 10s, 20s, 40s, 80s, 160s, 240s, 300s, 300s for min 10s, max 300s, 3 doublings.
    const retry = { retryCount: 8, minBackoffSeconds: 10, maxBackoffSeconds: 300, maxDoublings: 3, maxRetryDurationSeconds: 0 };
    expect(Array.from({ length: 8 }, (_, n) => retryDelaySeconds(retry, n))).toEqual([10, 20, 40, 80, 160, 240, 300, 300]);
  });

  it('fires at every due time with the job’s request and Cloud Scheduler’s headers, retries a failure with the same schedule time, and skips a missed run', async () => {
    // The second request fails once (503): its retry carries the same X-CloudScheduler-ScheduleTime.
    const target = await server((n) => (n === 2 ? 503 : 200));
    const from = new Date('2026-11-27T12:00:30Z');
    const events = await runLocalScheduler([{ job, url: target.url, audience: 'https://audience.example/' }], {
      // 10 minutes of schedule per real second: 20 minutes take about 2 s.
      clock: compressedClock(from, 600),
      from,
      until: new Date('2026-11-27T12:20:30Z'),
      skip: (_job, at) => at.toISOString() === '2026-11-27T12:15:00.000Z',
    });
    expect(events.attempts.map((a) => [a.scheduleTime, a.attempt, a.outcome])).toEqual([
      ['2026-11-27T12:05:00.000Z', 1, 200],
      ['2026-11-27T12:10:00.000Z', 1, 503],
      ['2026-11-27T12:10:00.000Z', 2, 200],
      ['2026-11-27T12:20:00.000Z', 1, 200],
    ]);
    expect(events.missed).toEqual([{ job: 'kg-observe-throttle', scheduleTime: '2026-11-27T12:15:00.000Z' }]);
    const first = target.requests[0];
    expect(first?.body).toBe(job.body);
    expect(first?.headers).toMatchObject({
      'content-type': 'application/json',
      'user-agent': 'Google-Cloud-Scheduler',
      'x-cloudscheduler': 'true',
      'x-cloudscheduler-jobname': 'kg-observe-throttle',
      'x-cloudscheduler-scheduletime': '2026-11-27T12:05:00Z',
    });
    const claims = JSON.parse(Buffer.from(String(first?.headers.authorization).split('.')[1] ?? '', 'base64url').toString()) as { aud: string };
    expect(claims.aud).toBe('https://audience.example/');
    expect(target.requests.map((r) => r.headers['x-cloudscheduler-scheduletime'])).toEqual(['2026-11-27T12:05:00Z', '2026-11-27T12:10:00Z', '2026-11-27T12:10:00Z', '2026-11-27T12:20:00Z']);
  });

  it('on a stepped clock, runs each instant’s attempts at that instant and moves on only after they settled, however slow', async () => {
    const seen: string[] = [];
    const from = new Date('2026-11-27T12:00:00Z');
    const clock = new SharedClock(from);
    const target = await server((n) => {
      seen.push(clock.now().toISOString());
      return n === 3 ? 503 : 200;
    });
    try {
      const births = { ...job, key: 'observe-births', name: 'kg-observe-births', schedule: '*/10 * * * *' };
      const settled: string[] = [];
      const events = await runSteppedScheduler(
        [
          { job, url: target.url, audience: target.url },
          { job: births, url: target.url, audience: target.url },
        ],
        {
          clock,
          from,
          until: new Date('2026-11-27T12:20:00Z'),
          skip: (name, at) => name === 'kg-observe-births' && at.toISOString() === '2026-11-27T12:20:00.000Z',
          // A slow settle (the machine under load) changes nothing: the clock waits for it.
          settle: async (at, attempts) => {
            await new Promise((resolve) => setTimeout(resolve, 50));
            settled.push(`${at.toISOString()} ${attempts.length}`);
          },
        },
      );
      // Which of the two 12:10 requests the server fails is a race: the attempts, not the order, are fixed.
      expect(events.attempts.filter((a) => a.attempt === 1).map((a) => `${a.job} ${a.scheduleTime}`).sort()).toEqual([
        'kg-observe-births 2026-11-27T12:10:00.000Z',
        'kg-observe-throttle 2026-11-27T12:05:00.000Z',
        'kg-observe-throttle 2026-11-27T12:10:00.000Z',
        'kg-observe-throttle 2026-11-27T12:15:00.000Z',
        'kg-observe-throttle 2026-11-27T12:20:00.000Z',
      ]);
      // Both jobs are due at 12:10 (one fails and is retried 30 s later at the same schedule time);
      // births at 12:20 is missed.
      expect(settled).toEqual([
        '2026-11-27T12:05:00.000Z 1',
        '2026-11-27T12:10:00.000Z 2',
        '2026-11-27T12:10:30.000Z 1',
        '2026-11-27T12:15:00.000Z 1',
        '2026-11-27T12:20:00.000Z 1',
      ]);
      expect(seen).toEqual(['2026-11-27T12:05:00.000Z', '2026-11-27T12:10:00.000Z', '2026-11-27T12:10:00.000Z', '2026-11-27T12:10:30.000Z', '2026-11-27T12:15:00.000Z', '2026-11-27T12:20:00.000Z']);
      const retried = events.attempts.filter((a) => a.attempt === 2);
      expect(retried).toHaveLength(1);
      const [retry] = retried;
      expect(events.attempts.filter((a) => a.job === retry?.job && a.scheduleTime === retry.scheduleTime).map((a) => a.outcome)).toEqual([503, 200]);
      expect(retry?.scheduleTime).toBe('2026-11-27T12:10:00.000Z');
      expect(events.missed).toEqual([{ job: 'kg-observe-births', scheduleTime: '2026-11-27T12:20:00.000Z' }]);
      expect(() => {
        clock.stepTo(from);
      }).toThrow(/forwards only/);
    } finally {
      clock.close();
    }
  });
});
