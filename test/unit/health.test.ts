import { getTestServer } from '@google-cloud/functions-framework/testing';
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import packageJson from '../../package.json' with { type: 'json' };

describe('health function (in-process, functions-framework testing helpers)', () => {
  beforeAll(async () => {
    await import('../../functions/health/index.ts');
  });

  it('answers with the version and config status', async () => {
    const response = await request(getTestServer('health')).get('/').expect(200);
    expect(response.body).toMatchObject({
      status: 'ok',
      service: 'kernel-gossip',
      version: packageJson.version,
      config: { ok: true, issues: [] },
    });
  });

  it('refuses methods other than GET and HEAD', async () => {
    const response = await request(getTestServer('health')).post('/').send({});
    expect(response.status).toBe(405);
    expect(response.headers['allow']).toBe('GET, HEAD');
  });
});

describe('health handler with a bad environment', () => {
  it('reports misconfiguration by variable name with 503', async () => {
    const { createHealthHandler } = await import('../../shared/health.ts');
    const handler = createHealthHandler({ LOG_LEVEL: 'LOUD' });
    const { http } = await import('@google-cloud/functions-framework');
    http('healthMisconfigured', handler);
    const response = await request(getTestServer('healthMisconfigured')).get('/').expect(503);
    const body = response.body as { status: string; config: { issues: string[] } };
    expect(body.status).toBe('misconfigured');
    expect(body.config.issues).toEqual([
      'LOG_LEVEL: invalid, expected one of DEBUG, INFO, NOTICE, WARNING, ERROR, CRITICAL',
    ]);
  });
});
