/**
 * Strict reading of a Pub/Sub push request body (the JSON Pub/Sub POSTs to a push endpoint).
 *
 * Anything malformed (not an object, bad base64, bad JSON, wrong schema, missing fields, oversized)
 * comes back as a rejection with a reason: the caller acknowledges it (2xx) and logs it, because the
 * same bytes redelivered would never become valid. Only a well-formed finding is ever acted on.
 *
 * @module
 */
import type { Logger } from '../log.ts';
import { decodeFinding, FindingDecodeError } from './codec.ts';
import type { Finding } from './types.ts';

/** One finding delivered by push, with the delivery facts the handlers need. */
export interface PushDelivery {
  readonly finding: Finding;
  readonly messageId: string;
  readonly publishTime: string | undefined;
  /** 1 on first delivery; only set when the subscription has a dead-letter policy. */
  readonly deliveryAttempt: number | undefined;
  readonly subscription: string | undefined;
  readonly attributes: Readonly<Record<string, string>>;
  readonly orderingKey: string | undefined;
}

export const PUSH_REJECTIONS = ['body', 'base64', 'not-json', 'schema', 'contract', 'too-large'] as const;
export type PushRejection = (typeof PUSH_REJECTIONS)[number];

export type PushParseResult =
  | { readonly ok: true; readonly delivery: PushDelivery }
  | { readonly ok: false; readonly rejection: PushRejection; readonly reason: string; readonly messageId?: string };

/** Pub/Sub's own message limit; a bigger payload did not come from Pub/Sub. */
export const MAX_PUSH_DATA_BYTES = 10 * 1024 * 1024;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const optionalString = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

const reject = (rejection: PushRejection, reason: string, messageId?: string): PushParseResult => ({
  ok: false,
  rejection,
  reason,
  ...(messageId === undefined ? {} : { messageId }),
});

/** Parses a push body (already JSON-decoded by the HTTP layer, or a raw string/Buffer). */
export const parsePushBody = (body: unknown): PushParseResult => {
  let envelope: unknown = body;
  if (typeof body === 'string' || Buffer.isBuffer(body)) {
    try {
      envelope = JSON.parse(body.toString());
    } catch {
      return reject('body', 'push body is not JSON');
    }
  }
  if (!isObject(envelope) || !isObject(envelope['message'])) {
    return reject('body', 'push body has no message object');
  }
  const message = envelope['message'];
  const messageId = optionalString(message['messageId']) ?? optionalString(message['message_id']);
  if (messageId === undefined) {
    return reject('body', 'message has no messageId');
  }
  const data = message['data'];
  if (typeof data !== 'string' || data === '') {
    return reject('body', 'message has no data', messageId);
  }
  if (data.length > Math.ceil(MAX_PUSH_DATA_BYTES / 3) * 4) {
    return reject('too-large', `message data is ${data.length} base64 characters, over Pub/Sub's limit`, messageId);
  }
  if (!BASE64.test(data)) {
    return reject('base64', 'message data is not valid base64', messageId);
  }
  const attributesRaw = message['attributes'];
  const attributes: Record<string, string> = {};
  if (attributesRaw !== undefined && attributesRaw !== null) {
    if (!isObject(attributesRaw) || !Object.values(attributesRaw).every((v) => typeof v === 'string')) {
      return reject('body', 'message attributes are not a string map', messageId);
    }
    Object.assign(attributes, attributesRaw);
  }
  let finding: Finding;
  try {
    finding = decodeFinding(Buffer.from(data, 'base64'));
  } catch (error) {
    if (error instanceof FindingDecodeError) {
      return reject(error.problem, error.message, messageId);
    }
    // Any other failure while reading these bytes (a decoder bug on an input nobody foresaw) is
    // still about these bytes: redelivering them cannot help, so it is a rejection, not a 5xx loop.
    return reject('schema', `message could not be decoded: ${error instanceof Error ? error.message : String(error)}`.slice(0, 300), messageId);
  }
  const attempt = envelope['deliveryAttempt'];
  return {
    ok: true,
    delivery: {
      finding,
      messageId,
      publishTime: optionalString(message['publishTime']) ?? optionalString(message['publish_time']),
      deliveryAttempt: typeof attempt === 'number' && Number.isInteger(attempt) && attempt > 0 ? attempt : undefined,
      subscription: optionalString(envelope['subscription']),
      attributes,
      orderingKey: optionalString(message['orderingKey']) ?? optionalString(message['ordering_key']),
    },
  };
};

/**
 * Logs a rejected push (event `push.rejected`, counted by a log-based metric) and returns the
 * answer that acknowledges it: redelivering the same bytes could never succeed.
 */
export const acknowledgeRejected = (
  log: Logger,
  rejected: Extract<PushParseResult, { ok: false }>,
): { readonly status: 200; readonly body: Readonly<Record<string, unknown>> } => {
  log.error('push message rejected', {
    event: 'push.rejected',
    rejection: rejected.rejection,
    reason: rejected.reason,
    ...(rejected.messageId === undefined ? {} : { messageId: rejected.messageId }),
  });
  return { status: 200, body: { acknowledged: true, rejected: rejected.rejection } };
};
