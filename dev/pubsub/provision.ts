/**
 * Creates on a Pub/Sub endpoint (the emulator) what Terraform creates in a project: the finding
 * schema, the findings topic enforcing it with JSON encoding, the dead-letter topic with its
 * subscription, and subscriptions (pull, or push to local function URLs with dead letters and a
 * retry policy). Names are prefixed so parallel tests never share resources.
 */
import { Encodings, type PubSub, SchemaTypes, type Subscription, type Topic } from '@google-cloud/pubsub';
import { FINDING_SCHEMA } from '../../shared/findings/schema.ts';
import { type FilteringRelay, startFilteringRelay } from './filter.ts';

export interface FindingsTopology {
  readonly schemaName: string;
  readonly topic: Topic;
  readonly deadLetterTopic: Topic;
  readonly deadLetterSubscription: Subscription;
}

/**
 * The filter of each push subscription, on the `kind` attribute: Terraform's
 * `local.function_contract[*].push_filter` (terraform/modules/kernel-gossip/locals.tf), the single
 * source; test/unit/terraform/contract.test.ts keeps these equal until the twin reads them from
 * the plan.
 */
export const PUSH_FILTERS: Readonly<Record<'remediate' | 'record', string | undefined>> = {
  remediate: 'attributes.kind = "cpu.throttle"',
  record: undefined,
};

export interface PushTarget {
  readonly name: string;
  readonly endpoint: string;
  /** Pub/Sub filter; messages that do not match are acknowledged by Pub/Sub, never pushed. */
  readonly filter?: string;
  readonly maxDeliveryAttempts?: number;
  readonly ackDeadlineSeconds?: number;
}

/** Creates the schema-enforced findings topic and its dead-letter topic and subscription. */
export const provisionFindingsTopic = async (pubsub: PubSub, prefix: string): Promise<FindingsTopology> => {
  const schema = await pubsub.createSchema(`${prefix}-finding`, SchemaTypes.Avro, JSON.stringify(FINDING_SCHEMA));
  const schemaName = await schema.getName();
  const [topic] = await pubsub.createTopic({
    name: `${prefix}-kernel-findings`,
    schemaSettings: { schema: schemaName, encoding: Encodings.Json },
    messageRetentionDuration: { seconds: 7 * 24 * 3600 },
  });
  const [deadLetterTopic] = await pubsub.createTopic({ name: `${prefix}-kernel-findings-dead-letter` });
  const [deadLetterSubscription] = await deadLetterTopic.createSubscription(`${prefix}-kernel-findings-dead-letter`, {
    ackDeadlineSeconds: 60,
  });
  return { schemaName, topic, deadLetterTopic, deadLetterSubscription };
};

/** A pull subscription on the findings topic with message ordering, for tests and `kernel-gossip tail`. */
export const pullSubscription = async (topology: FindingsTopology, name: string): Promise<Subscription> => {
  const [subscription] = await topology.topic.createSubscription(name, { enableMessageOrdering: true, ackDeadlineSeconds: 30 });
  return subscription;
};

export interface PushSubscription {
  readonly subscription: Subscription;
  /** The stand-in for Pub/Sub's filtering when the subscription has a filter (see filter.ts). */
  readonly relay: FilteringRelay | undefined;
  /** Stops the relay (the subscription itself goes with the emulator). */
  close(): Promise<void>;
}

/**
 * A push subscription like Terraform's: ordered, dead letters after N attempts, exponential retry,
 * and the filter. The emulator stores a filter but does not apply it, so a filtered subscription
 * pushes through a relay that applies it as Pub/Sub does (`filter.ts`).
 */
export const pushSubscription = async (topology: FindingsTopology, target: PushTarget): Promise<PushSubscription> => {
  const relay = target.filter === undefined ? undefined : await startFilteringRelay(target.filter, target.endpoint);
  try {
    const [subscription] = await topology.topic.createSubscription(target.name, {
      pushConfig: { pushEndpoint: relay?.url ?? target.endpoint },
      ...(target.filter === undefined ? {} : { filter: target.filter }),
      ackDeadlineSeconds: target.ackDeadlineSeconds ?? 60,
      enableMessageOrdering: true,
      deadLetterPolicy: {
        deadLetterTopic: topology.deadLetterTopic.name,
        maxDeliveryAttempts: target.maxDeliveryAttempts ?? 5,
      },
      retryPolicy: { minimumBackoff: { seconds: 10 }, maximumBackoff: { seconds: 600 } },
    });
    return { subscription, relay, close: async () => relay?.stop() };
  } catch (error) {
    await relay?.stop();
    throw error;
  }
};
