import { afterEach, describe, expect, it } from 'vitest';
import {
  clearRegisteredSecrets,
  createLogger,
  type LoggerOptions,
  REDACTED,
  redactText,
  registerSecrets,
  traceFromHeaders,
} from '../../shared/log.ts';

const capture = (options: LoggerOptions = {}) => {
  const lines: string[] = [];
  const log = createLogger({ ...options, write: (line) => lines.push(line) });
  const entries = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { log, lines, entries };
};

afterEach(() => {
  clearRegisteredSecrets();
});

describe('createLogger', () => {
  it('writes one JSON line per event with severity, message, labels and time', () => {
    const { log, lines, entries } = capture({ labels: { function: 'observe-throttle' } });
    log.info('findings published', { count: 3, window: { seconds: 60 } });
    log.warn('slow');
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(line.endsWith('\n')).toBe(true);
      expect(line.slice(0, -1)).not.toContain('\n');
    }
    const [first, second] = entries();
    expect(first).toMatchObject({
      severity: 'INFO',
      message: 'findings published',
      count: 3,
      window: { seconds: 60 },
      'logging.googleapis.com/labels': { function: 'observe-throttle' },
    });
    expect(typeof first?.['time']).toBe('string');
    expect(second?.['severity']).toBe('WARNING');
  });

  it('drops events below the minimum severity', () => {
    const { log, entries } = capture({ minLevel: 'WARNING' });
    log.debug('a');
    log.info('b');
    log.warn('c');
    log.error('d');
    expect(entries().map((entry) => entry['message'])).toEqual(['c', 'd']);
  });

  it('puts the stack with its cause chain in stack_trace for Error Reporting', () => {
    const { log, entries } = capture();
    const cause = new Error('connect ECONNREFUSED 127.0.0.1:50300');
    log.error('pixie failed', { error: new Error('script failed', { cause }) });
    const [entry] = entries();
    expect(entry?.['stack_trace']).toMatch(/^Error: script failed\n\s+at /);
    expect(entry?.['stack_trace']).toContain('Caused by: Error: connect ECONNREFUSED');
    expect(entry?.['error']).toMatchObject({ message: 'script failed', cause: { message: 'connect ECONNREFUSED 127.0.0.1:50300' } });
  });

  it('child loggers merge labels and fields', () => {
    const { log, entries } = capture({ labels: { function: 'remediate' } });
    log.child({ workload: 'shop/cart' }, { findingId: 'f1' }).info('planned');
    expect(entries()[0]).toMatchObject({
      findingId: 'f1',
      'logging.googleapis.com/labels': { function: 'remediate', workload: 'shop/cart' },
    });
  });

  it('serialises bigint, dates, cycles and byte arrays without throwing', () => {
    const { log, entries } = capture();
    const cyclic: Record<string, unknown> = { name: 'a' };
    cyclic['self'] = cyclic;
    log.info('values', { big: 2n ** 70n, at: new Date(0), cyclic, bytes: new Uint8Array(16) });
    expect(entries()[0]).toMatchObject({
      big: '1180591620717411303424',
      at: '1970-01-01T00:00:00.000Z',
      cyclic: { name: 'a', self: '[Circular]' },
      bytes: '[16 bytes]',
    });
  });
});

describe('redaction', () => {
  const apiKey = 'px-api-3f1c9a7e-4b2d-4c8e-9f0a-1b2c3d4e5f60';

  const cases: { name: string; fields: Record<string, unknown>; secretPath: (entry: Record<string, unknown>) => unknown }[] = [
    {
      name: 'a value under a secret-looking key',
      fields: { pixieApiKey: apiKey },
      secretPath: (entry) => entry['pixieApiKey'],
    },
    {
      name: 'a nested object',
      fields: { request: { metadata: { 'pixie-api-key': apiKey, cluster: 'c1' } } },
      secretPath: (entry) => (entry['request'] as { metadata: Record<string, unknown> }).metadata['pixie-api-key'],
    },
    {
      name: 'an authorization header in an array of headers',
      fields: { headers: [{ authorization: `Bearer ${apiKey}` }] },
      secretPath: (entry) => (entry['headers'] as Record<string, unknown>[])[0]?.['authorization'],
    },
  ];

  it.each(cases)('redacts $name', ({ fields, secretPath }) => {
    const { log, lines, entries } = capture();
    log.info('request', fields);
    expect(secretPath(entries()[0]!)).toBe(REDACTED);
    expect(lines.join('')).not.toContain(apiKey);
  });

  it('redacts a registered secret inside an error message, its cause and its stack', () => {
    registerSecrets([apiKey]);
    const { log, lines, entries } = capture();
    const cause = new Error(`rejected key ${apiKey}`);
    log.error('auth failed', { error: new Error(`Auth middleware failed for ${apiKey}`, { cause }), note: `key=${apiKey}` });
    const joined = lines.join('');
    expect(joined).not.toContain(apiKey);
    const entry = entries()[0]!;
    expect((entry['error'] as { message: string }).message).toBe(`Auth middleware failed for ${REDACTED}`);
    expect(entry['stack_trace']).toContain(REDACTED);
  });

  it('redacts a registered secret inside a message and inside a nested object under an innocent key', () => {
    registerSecrets([apiKey]);
    const { log, lines } = capture();
    log.info(`dialing with ${apiKey}`, { deep: { deeper: [{ text: `prefix ${apiKey} suffix` }] } });
    expect(lines.join('')).not.toContain(apiKey);
  });

  it.each([
    ['Authorization: Bearer abc.def.ghi', `Authorization: ${REDACTED}`],
    ['sent bearer ya29.a0AfH6SMB', `sent bearer ${REDACTED}`],
    ['pixie-api-key=abcd1234 cluster=x', `pixie-api-key=${REDACTED} cluster=x`],
    ['{"access_token":"ya29.zzz","expires_in":3599}', `{"access_token":"${REDACTED}","expires_in":3599}`],
    ['nothing secret here', 'nothing secret here'],
  ])('redactText(%j)', (input, expected) => {
    expect(redactText(input)).toBe(expected);
  });

  it('ignores registered values too short to be secrets', () => {
    registerSecrets(['ab']);
    expect(redactText('about a cab')).toBe('about a cab');
  });
});

describe('traceFromHeaders', () => {
  const cases: { name: string; headers: Record<string, string>; expected: Record<string, unknown> }[] = [
    {
      name: 'W3C traceparent, sampled',
      headers: { traceparent: '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01' },
      expected: {
        'logging.googleapis.com/trace': 'projects/p1/traces/4bf92f3577b34da6a3ce929d0e0e4736',
        'logging.googleapis.com/spanId': '00f067aa0ba902b7',
        'logging.googleapis.com/trace_sampled': true,
      },
    },
    {
      name: 'X-Cloud-Trace-Context with span and flag',
      headers: { 'X-Cloud-Trace-Context': '105445aa7843bc8bf206b12000100000/1;o=0' },
      expected: {
        'logging.googleapis.com/trace': 'projects/p1/traces/105445aa7843bc8bf206b12000100000',
        'logging.googleapis.com/spanId': '0000000000000001',
        'logging.googleapis.com/trace_sampled': false,
      },
    },
    {
      name: 'traceparent wins over X-Cloud-Trace-Context',
      headers: {
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00',
        'x-cloud-trace-context': '105445aa7843bc8bf206b12000100000/1;o=1',
      },
      expected: { 'logging.googleapis.com/trace': 'projects/p1/traces/0af7651916cd43dd8448eb211c80319c' },
    },
    { name: 'malformed traceparent gives nothing', headers: { traceparent: 'garbage' }, expected: {} },
    { name: 'all-zero trace id is invalid', headers: { traceparent: `00-${'0'.repeat(32)}-b7ad6b7169203331-01` }, expected: {} },
    { name: 'no headers', headers: {}, expected: {} },
  ];

  it.each(cases)('$name', ({ headers, expected }) => {
    const trace = traceFromHeaders(headers, 'p1');
    expect(trace).toMatchObject(expected);
    expect(Object.keys(trace).length === 0).toBe(Object.keys(expected).length === 0);
  });

  it('needs a project id to build the trace resource name', () => {
    expect(traceFromHeaders({ traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' }, undefined)).toEqual({});
  });
});

describe('reserved keys', () => {
  it('never lets a field override the severity, message or time of the entry', () => {
    const lines: string[] = [];
    createLogger({ write: (line) => lines.push(line) }).error('boom', { severity: 'info', message: 'other', time: 'then' });
    expect(JSON.parse(lines[0]!)).toMatchObject({ severity: 'ERROR', message: 'boom' });
    expect((JSON.parse(lines[0]!) as { time: string }).time).not.toBe('then');
  });
});
