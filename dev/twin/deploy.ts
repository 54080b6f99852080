/**
 * The twin's deployment step: what `terraform apply` creates, made on this machine from the
 * deployment Terraform plans (dev/terraform/deployment.ts). Each function runs from the folder
 * Terraform zips, under the Functions Framework as Cloud Run's Node.js runtime runs it, with exactly
 * Terraform's environment (heap cap included: NODE_OPTIONS is part of it) and nothing of this
 * process's; the topics, schema and subscriptions are created on the official Pub/Sub emulator with
 * every setting Terraform gives them, push endpoints pointing at the local functions.
 *
 * Where the twin must differ from the cloud, it says so in one place, {@link twinEnvironment}:
 * the endpoints (emulator, local Vizier, local kube-apiserver) and the secrets' values; and a
 * twin run on a simulated clock gives the functions that clock's node options (dev/twin/clock.ts).
 *
 * @module
 */
import { Encodings, type PubSub, SchemaTypes, type Subscription } from '@google-cloud/pubsub';
import path from 'node:path';
import { type FilteringRelay, startFilteringRelay } from '../pubsub/filter.ts';
import { freePort, type StartedProcess, startProcess } from '../process.ts';
import type { DeployedFunction, Deployment } from '../terraform/deployment.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

/** The local stand-ins of what the cloud provides, and the secrets' values. */
export interface TwinEndpoints {
  /** host:port of the Pub/Sub emulator. */
  readonly pubsubEmulatorHost: string;
  /** host:port of the local Vizier (replaces PIXIE_CLOUD_ADDR), spoken to without TLS. */
  readonly pixieAddress?: string;
  /** Kubeconfig per function key for the local kube-apiserver (replaces the GKE lookup). */
  readonly kubeconfigs?: Readonly<Record<string, string>>;
  /** Values of the secret environment variables (Secret Manager in the cloud). */
  readonly secrets: Readonly<Record<string, string>>;
  /** What the kernel data is (`local` or `replay` on the twin; Terraform leaves the default, `pixie`). */
  readonly kernelSource?: string;
}

/** A variable the twin must set and Terraform does not, or must replace. */
export class TwinEnvironmentError extends Error {
  override readonly name = 'TwinEnvironmentError';
}

/** Terraform's environment of `fn`, with only the twin's endpoints and secrets put in. */
export const twinEnvironment = (fn: DeployedFunction, local: TwinEndpoints): Record<string, string> => {
  const env: Record<string, string> = { ...fn.env, PUBSUB_EMULATOR_HOST: local.pubsubEmulatorHost };
  for (const name of fn.secretEnv) {
    const value = local.secrets[name];
    if (value === undefined) {
      throw new TwinEnvironmentError(`${fn.key} reads the secret ${name}: give the twin its value`);
    }
    env[name] = value;
  }
  if (fn.env['PIXIE_CLOUD_ADDR'] !== undefined) {
    if (local.pixieAddress === undefined) {
      throw new TwinEnvironmentError(`${fn.key} talks to Pixie: give the twin a local Vizier address`);
    }
    env['PIXIE_CLOUD_ADDR'] = local.pixieAddress;
    env['PIXIE_INSECURE'] = 'true';
    if (local.kernelSource !== undefined) {
      env['KG_KERNEL_SOURCE'] = local.kernelSource;
    }
  }
  const kubeconfig = local.kubeconfigs?.[fn.key];
  if (kubeconfig !== undefined) {
    env['KUBECONFIG'] = kubeconfig;
  }
  return env;
};

export interface TwinFunction {
  readonly key: string;
  readonly url: string;
  readonly process: StartedProcess;
}

/**
 * Starts `fn` from the folder Terraform zips, its entry point registered with the Functions
 * Framework, with exactly `env` (plus PATH and HOME, which the runtime has too).
 */
export const startTwinFunction = async (
  fn: DeployedFunction,
  env: Readonly<Record<string, string>>,
  timeoutMs = 60_000,
  /** Node options of the twin, not of the function (the simulated clock, dev/twin/clock.ts). */
  nodeArgs: readonly string[] = [],
): Promise<TwinFunction> => {
  const port = await freePort();
  const child = await startProcess(
    process.execPath,
    [...nodeArgs, path.join(ROOT, 'node_modules', '@google-cloud', 'functions-framework', 'build', 'src', 'main.js'), '--source', fn.sourceDir, '--target', fn.entryPoint, '--port', String(port)],
    {
      cwd: fn.sourceDir,
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: process.env['HOME'] ?? '/tmp', METADATA_SERVER_DETECTION: 'none', ...env },
      ready: /Serving function/,
      timeoutMs,
    },
  );
  return { key: fn.key, url: `http://127.0.0.1:${port}/`, process: child };
};

export interface TwinPubsub {
  readonly subscriptions: Readonly<Record<string, Subscription>>;
  /** The filtering relays of filtered push subscriptions, by subscription name (dev/pubsub/filter.ts). */
  readonly relays: Readonly<Record<string, FilteringRelay>>;
  /** Stops the relays. */
  close(): Promise<void>;
  /** Subscriptions the emulator cannot hold (BigQuery), with why. */
  readonly notCreated: readonly { readonly name: string; readonly why: string }[];
}

/**
 * Creates every schema, topic and subscription of `deployment` on the emulator, push endpoints
 * (and their OIDC audiences) at `urls[function key]`.
 */
export const provisionTwinPubsub = async (pubsub: PubSub, deployment: Deployment, urls: Readonly<Record<string, string>>): Promise<TwinPubsub> => {
  for (const topic of deployment.topics) {
    let schemaSettings: { schema: string; encoding: (typeof Encodings)[keyof typeof Encodings] } | undefined;
    if (topic.schema !== undefined) {
      const type = topic.schema.type === 'AVRO' ? SchemaTypes.Avro : SchemaTypes.ProtocolBuffer;
      const schema = await pubsub.createSchema(topic.schema.name, type, topic.schema.definition);
      schemaSettings = { schema: await schema.getName(), encoding: topic.schema.encoding === 'JSON' ? Encodings.Json : Encodings.Binary };
    }
    await pubsub.createTopic({
      name: topic.name,
      ...(schemaSettings === undefined ? {} : { schemaSettings }),
      ...(topic.retentionSeconds === undefined ? {} : { messageRetentionDuration: { seconds: topic.retentionSeconds } }),
    });
  }
  const subscriptions: Record<string, Subscription> = {};
  const relays: Record<string, FilteringRelay> = {};
  const notCreated: { name: string; why: string }[] = [];
  for (const sub of deployment.subscriptions) {
    if (sub.bigquery !== undefined) {
      notCreated.push({ name: sub.name, why: 'a BigQuery subscription: the emulator has no BigQuery (its table schema is checked against the topic schema by test/unit/terraform/bigquery-schema.test.ts)' });
      continue;
    }
    const endpoint = sub.push === undefined ? undefined : urls[sub.push.target];
    const audience = sub.push === undefined ? undefined : urls[sub.push.audience];
    if (sub.push !== undefined && (endpoint === undefined || audience === undefined)) {
      notCreated.push({ name: sub.name, why: `it pushes to ${sub.push.target}, which this twin does not run` });
      continue;
    }
    // The emulator stores a filter but pushes every message: a relay applies it as Pub/Sub does.
    const relay = sub.filter === '' || endpoint === undefined ? undefined : await startFilteringRelay(sub.filter, endpoint);
    if (relay !== undefined) {
      relays[sub.name] = relay;
    }
    const [created] = await pubsub.topic(sub.topic).createSubscription(sub.name, {
      ackDeadlineSeconds: sub.ackDeadlineSeconds,
      enableMessageOrdering: sub.enableMessageOrdering,
      ...(sub.filter === '' ? {} : { filter: sub.filter }),
      ...(sub.retryPolicy === undefined
        ? {}
        : { retryPolicy: { minimumBackoff: { seconds: sub.retryPolicy.minimumBackoffSeconds }, maximumBackoff: { seconds: sub.retryPolicy.maximumBackoffSeconds } } }),
      ...(sub.deadLetter === undefined
        ? {}
        : { deadLetterPolicy: { deadLetterTopic: pubsub.topic(sub.deadLetter.topic).name, maxDeliveryAttempts: sub.deadLetter.maxDeliveryAttempts } }),
      ...(sub.push === undefined || endpoint === undefined
        ? {}
        : // No oidcToken: the platform, not the function, verifies it in the cloud; with one the emulator slowed every push by a third.
          { pushConfig: { pushEndpoint: relay?.url ?? endpoint, attributes: { ...sub.push.attributes } } }),
    });
    subscriptions[sub.name] = created;
  }
  return {
    subscriptions,
    relays,
    notCreated,
    close: async () => {
      await Promise.all(Object.values(relays).map((relay) => relay.stop()));
    },
  };
};
