import { describe, expect, it } from 'vitest';
import { encodeFinding } from '../../../shared/findings/codec.ts';
import { parsePushBody } from '../../../shared/findings/push.ts';
import { sampleThrottle } from '../../support/findings.ts';

const validData = (): string => encodeFinding(sampleThrottle()).toString('base64');
const envelope = (message: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  message: { messageId: '42', publishTime: '2026-11-27T12:01:03.000Z', ...message },
  subscription: 'projects/p/subscriptions/kernel-findings-remediate',
  ...extra,
});

describe('parsePushBody', () => {
  it('reads a well-formed push with its delivery facts', () => {
    const result = parsePushBody(envelope({ data: validData(), attributes: { kind: 'cpu.throttle' }, orderingKey: 'k' }, { deliveryAttempt: 3 }));
    expect(result.ok).toBe(true);
    expect(result).toMatchObject({
      delivery: {
        finding: sampleThrottle(),
        messageId: '42',
        publishTime: '2026-11-27T12:01:03.000Z',
        deliveryAttempt: 3,
        subscription: 'projects/p/subscriptions/kernel-findings-remediate',
        attributes: { kind: 'cpu.throttle' },
        orderingKey: 'k',
      },
    });
  });

  it('accepts the snake_case field names some push senders use', () => {
    const result = parsePushBody({ message: { message_id: '7', publish_time: 't', data: validData() } });
    expect(result).toMatchObject({ ok: true, delivery: { messageId: '7', publishTime: 't', deliveryAttempt: undefined } });
  });

  it('reads a raw JSON string or buffer body', () => {
    expect(parsePushBody(JSON.stringify(envelope({ data: validData() }))).ok).toBe(true);
    expect(parsePushBody(Buffer.from(JSON.stringify(envelope({ data: validData() })))).ok).toBe(true);
  });

  const bad: [string, unknown, string, RegExp][] = [
    ['a non-JSON string body', '{"message":', 'body', /not JSON/],
    ['an array body', [], 'body', /no message object/],
    ['a body without message', { subscription: 's' }, 'body', /no message object/],
    ['a message without id', { message: { data: validData() } }, 'body', /no messageId/],
    ['a message without data', envelope({}), 'body', /no data/],
    ['bad base64', envelope({ data: 'not*base64!' }), 'base64', /not valid base64/],
    ['base64 of non-JSON', envelope({ data: Buffer.from('hello').toString('base64') }), 'not-json', /not JSON/],
    ['base64 of JSON that breaks the schema', envelope({ data: Buffer.from('{"kind":"cpu.throttle"}').toString('base64') }), 'schema', /is missing/],
    ['non-string attributes', envelope({ data: validData(), attributes: { n: 1 } }), 'body', /string map/],
    ['oversized data', envelope({ data: 'A'.repeat(14 * 1024 * 1024) }), 'too-large', /over Pub\/Sub's limit/],
  ];

  it.each(bad)('rejects %s', (_name, body, rejection, reason) => {
    const result = parsePushBody(body);
    expect(result.ok).toBe(false);
    expect(result).toMatchObject({ rejection });
    expect(result.ok ? '' : result.reason).toMatch(reason);
  });

  it('keeps the message id of a rejected message for the log line', () => {
    expect(parsePushBody(envelope({ data: '!!' }))).toMatchObject({ ok: false, messageId: '42' });
  });
});
