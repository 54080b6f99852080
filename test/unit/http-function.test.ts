import { http } from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import request from 'supertest';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { httpFunction } from '../../shared/http-function.ts';

/** The JSON log lines written to stdout while `run` runs. */
const captureLogs = (): { lines: () => Record<string, unknown>[] } => {
  const written: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  });
  return { lines: () => written.join('').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>) };
};

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the HTTP function shell (shared/http-function.ts)', () => {
  it('builds the instance once and answers each request with the core answer, logged with the request-scoped labels and level', async () => {
    let starts = 0;
    const logs = captureLogs();
    http(
      'shellOk',
      httpFunction({
        name: 'shell-ok',
        start: () => {
          starts += 1;
          return Promise.resolve({ greeting: 'hello' });
        },
        logging: () => ({ level: 'INFO', project: 'p1', cluster: 'c1' }),
        handle: (req, { state, log }) => {
          log.debug('not written below INFO', { event: 'debug' });
          log.info('handled', { event: 'handled' });
          return Promise.resolve({ status: 202, body: { said: state.greeting, got: (req.body as { n: number }).n } });
        },
      }),
    );
    const first = await request(getTestServer('shellOk')).post('/').set('X-Cloud-Trace-Context', '0123456789abcdef0123456789abcdef/1;o=1').send({ n: 1 });
    const second = await request(getTestServer('shellOk')).post('/').send({ n: 2 });
    expect([first.status, first.body, second.status, second.body]).toEqual([202, { said: 'hello', got: 1 }, 202, { said: 'hello', got: 2 }]);
    expect(starts).toBe(1);
    const handled = logs.lines().filter((l) => l['event'] === 'handled');
    expect(handled).toHaveLength(2);
    expect(handled[0]).toMatchObject({
      'logging.googleapis.com/labels': { function: 'shell-ok', cluster: 'c1' },
      'logging.googleapis.com/trace': 'projects/p1/traces/0123456789abcdef0123456789abcdef',
    });
    expect(logs.lines().filter((l) => l['event'] === 'debug')).toEqual([]);
  });

  it('answers 500 JSON while the instance cannot start, and starts again on the next request', async () => {
    let attempts = 0;
    const logs = captureLogs();
    http(
      'shellMisconfigured',
      httpFunction({
        name: 'shell-misconfigured',
        start: () => {
          attempts += 1;
          return attempts === 1 ? Promise.reject(new Error('KG_CLUSTER_NAME: missing')) : Promise.resolve({});
        },
        logging: () => ({ level: 'DEBUG', project: undefined, cluster: 'c1' }),
        handle: () => Promise.resolve({ status: 200, body: { ok: true } }),
      }),
    );
    const failed = await request(getTestServer('shellMisconfigured')).post('/').send({});
    expect([failed.status, failed.body]).toEqual([500, { error: 'function not configured' }]);
    expect(logs.lines().find((l) => l['event'] === 'function.misconfigured')).toMatchObject({ severity: 'ERROR' });
    const recovered = await request(getTestServer('shellMisconfigured')).post('/').send({});
    expect([recovered.status, recovered.body, attempts]).toEqual([200, { ok: true }, 2]);
  });

  it('starts the instance when built if asked, before any request', async () => {
    let starts = 0;
    httpFunction({
      name: 'shell-early',
      start: () => {
        starts += 1;
        return Promise.resolve({});
      },
      startEarly: true,
      logging: () => ({ level: 'INFO', project: undefined, cluster: 'c1' }),
      handle: () => Promise.resolve({ status: 200, body: {} }),
    });
    await Promise.resolve();
    expect(starts).toBe(1);
  });

  it('answers 500 JSON and logs function.failed when the core throws', async () => {
    const logs = captureLogs();
    http(
      'shellThrows',
      httpFunction({
        name: 'shell-throws',
        start: () => Promise.resolve({}),
        logging: () => ({ level: 'INFO', project: undefined, cluster: 'c1' }),
        handle: () => Promise.reject(new TypeError('a bug')),
      }),
    );
    const response = await request(getTestServer('shellThrows')).post('/').send({});
    expect([response.status, response.body]).toEqual([500, { error: 'internal error' }]);
    expect(logs.lines().find((l) => l['event'] === 'function.failed')).toMatchObject({ severity: 'ERROR', 'logging.googleapis.com/labels': { function: 'shell-throws', cluster: 'c1' } });
  });
});
