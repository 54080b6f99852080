/**
 * Publishing findings to the topic from a function: batched for throughput, flushed and awaited
 * before the function answers, retried with backoff on retryable codes, ordered per workload, and a
 * paused ordering key resumed after a failure so the next run is not blocked.
 *
 * @module
 */
import type { PubSub, Topic } from '@google-cloud/pubsub';
import { encodeFinding, findingAttributes, orderingKey } from './codec.ts';
import { DEFAULT_MAX_MESSAGE_BYTES, fitToMessageLimit } from './size.ts';
import type { Finding } from './types.ts';

/** gRPC codes worth retrying a publish on (the rest, e.g. INVALID_ARGUMENT for a schema rejection, never succeed). */
export const RETRYABLE_PUBLISH_CODES = [
  10, // ABORTED
  1, // CANCELLED
  4, // DEADLINE_EXCEEDED
  13, // INTERNAL
  8, // RESOURCE_EXHAUSTED
  14, // UNAVAILABLE
  2, // UNKNOWN
] as const;

/** A finding that could not be published, with the gRPC code when there is one. */
export class FindingPublishError extends Error {
  override readonly name = 'FindingPublishError';
  readonly findingId: string;
  readonly code: number | undefined;

  constructor(findingId: string, cause: unknown) {
    const code = typeof (cause as { code?: unknown } | null)?.code === 'number' ? (cause as { code: number }).code : undefined;
    super(`publishing finding ${findingId} failed${code === undefined ? '' : ` (gRPC code ${code})`}: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
    this.findingId = findingId;
    this.code = code;
  }
}

export interface PublishedFinding {
  readonly findingId: string;
  readonly messageId: string;
}

/** What happened to every finding handed to {@link FindingPublisher.publish}. */
export interface PublishReport {
  readonly published: readonly PublishedFinding[];
  readonly failed: readonly FindingPublishError[];
}

export interface FindingPublisher {
  /** Publishes every finding (split where too large), waits for every acknowledgement, never throws for one finding. */
  publish(findings: readonly Finding[], options?: { readonly deadline?: Date }): Promise<PublishReport>;
  /** Flushes and releases the topic's resources. */
  close(): Promise<void>;
}

export interface PublisherOptions {
  readonly pubsub: PubSub;
  readonly topicName: string;
  /** Per-publish budget when no deadline is given. */
  readonly timeoutMs?: number;
  readonly maxMessageBytes?: number;
}

/** Batching for a function: small delay (the run ends right after), and batches well under the limits. */
const BATCHING = { maxMessages: 100, maxMilliseconds: 10, maxBytes: 9 * 1024 * 1024 } as const;

/** Exponential backoff for retryable codes, bounded by the total timeout. */
const backoff = (totalTimeoutMillis: number) => ({
  initialRetryDelayMillis: 100,
  retryDelayMultiplier: 2,
  maxRetryDelayMillis: 5_000,
  initialRpcTimeoutMillis: Math.min(10_000, totalTimeoutMillis),
  rpcTimeoutMultiplier: 1,
  maxRpcTimeoutMillis: Math.min(30_000, totalTimeoutMillis),
  totalTimeoutMillis,
});

/** Creates a publisher bound to one topic; reuse it for the life of the function instance. */
export const createFindingPublisher = (options: PublisherOptions): FindingPublisher => {
  const defaultTimeoutMs = options.timeoutMs ?? 30_000;
  const maxBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const topic: Topic = options.pubsub.topic(options.topicName, {
    messageOrdering: true,
    batching: BATCHING,
    gaxOpts: { retry: { retryCodes: [...RETRYABLE_PUBLISH_CODES], backoffSettings: backoff(defaultTimeoutMs) } },
  });

  return {
    async publish(findings, publishOptions = {}) {
      const published: PublishedFinding[] = [];
      const failed: FindingPublishError[] = [];
      const pending: Promise<void>[] = [];
      for (const finding of findings) {
        let parts: Finding[];
        try {
          parts = fitToMessageLimit(finding, maxBytes);
        } catch (error) {
          failed.push(new FindingPublishError(finding.id, error));
          continue;
        }
        for (const part of parts) {
          const key = orderingKey(part);
          pending.push(
            topic
              .publishMessage({ data: encodeFinding(part), attributes: findingAttributes(part), orderingKey: key })
              .then((messageId) => {
                published.push({ findingId: part.id, messageId });
              })
              .catch((error: unknown) => {
                failed.push(new FindingPublishError(part.id, error));
                // An ordered key stays paused after a failure; resume it so later publishes are not refused.
                topic.resumePublishing(key);
              }),
          );
        }
      }
      await topic.flush();
      const all = Promise.all(pending);
      const deadline = publishOptions.deadline;
      if (deadline === undefined) {
        await all;
      } else {
        // Retries are bounded by the topic's budget; the run's deadline may be shorter.
        let timer: NodeJS.Timeout | undefined;
        const expired = new Promise<'expired'>((resolve) => {
          timer = setTimeout(() => {
            resolve('expired');
          }, Math.max(0, deadline.getTime() - Date.now()));
        });
        const outcome = await Promise.race([all.then(() => 'done' as const), expired]);
        clearTimeout(timer);
        if (outcome === 'expired') {
          const settled = new Set([...published.map((p) => p.findingId), ...failed.map((f) => f.findingId)]);
          const unsettled = findings.filter((finding) => !settled.has(finding.id));
          return {
            published: [...published],
            failed: [
              ...failed,
              ...unsettled.map((finding) => new FindingPublishError(finding.id, Object.assign(new Error('deadline passed before Pub/Sub acknowledged'), { code: 4 }))),
            ],
          };
        }
      }
      return { published, failed };
    },
    async close() {
      await topic.flush();
    },
  };
};
