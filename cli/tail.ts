/**
 * `kernel-gossip tail`: subscribes to the findings topic and prints findings as they arrive, the
 * real-time view in a terminal. Without `--subscription` it makes a temporary subscription (expiring
 * after a day unused) and deletes it on exit.
 */
import { type Message, PubSub, type Subscription } from '@google-cloud/pubsub';
import { randomUUID } from 'node:crypto';
import { decodeFinding, FindingDecodeError } from '../shared/findings/codec.ts';
import { COLOR, formatFinding, PLAIN } from './format.ts';

export interface TailOptions {
  readonly project: string;
  readonly topic: string;
  readonly subscription?: string;
  readonly json: boolean;
  readonly kinds: readonly string[];
  readonly color: boolean;
  readonly out: NodeJS.WritableStream;
  readonly err: NodeJS.WritableStream;
  readonly signal: AbortSignal;
}

/** Runs until `signal` aborts; resolves after cleaning up. */
export const tail = async (options: TailOptions): Promise<void> => {
  const pubsub = new PubSub({ projectId: options.project });
  let subscription: Subscription;
  let temporary = false;
  if (options.subscription === undefined) {
    const name = `kernel-gossip-tail-${randomUUID().slice(0, 8)}`;
    [subscription] = await pubsub.topic(options.topic).createSubscription(name, {
      expirationPolicy: { ttl: { seconds: 24 * 3600 } },
      messageRetentionDuration: { seconds: 600 },
      enableMessageOrdering: true,
    });
    temporary = true;
    options.err.write(`tailing ${options.topic} through temporary subscription ${name} (Ctrl-C to stop)\n`);
  } else {
    subscription = pubsub.subscription(options.subscription);
    options.err.write(`tailing subscription ${options.subscription} (Ctrl-C to stop)\n`);
  }
  const style = options.color ? COLOR : PLAIN;
  subscription.on('message', (message: Message) => {
    message.ack();
    if (options.kinds.length > 0 && !options.kinds.includes(message.attributes['kind'] ?? '')) {
      return;
    }
    if (options.json) {
      options.out.write(`${message.data.toString('utf8')}\n`);
      return;
    }
    try {
      options.out.write(`${formatFinding(decodeFinding(message.data), style)}\n`);
    } catch (error) {
      const reason = error instanceof FindingDecodeError ? error.message : String(error);
      options.err.write(`message ${message.id} is not a valid finding: ${reason}\n`);
    }
  });
  subscription.on('error', (error: Error) => {
    options.err.write(`subscription error: ${error.message}\n`);
  });
  await new Promise<void>((resolve) => {
    if (options.signal.aborted) {
      resolve();
    }
    options.signal.addEventListener('abort', () => {
      resolve();
    });
  });
  await subscription.close();
  if (temporary) {
    await subscription.delete();
  }
  await pubsub.close();
};
