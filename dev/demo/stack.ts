/**
 * The whole pipeline on one machine, as the demo and the end-to-end tests run it: the local
 * Vizier (over live or recorded kernel data), the official Pub/Sub emulator, a real kube-apiserver,
 * and the deployment as Terraform plans it for the demo's variables (dev/terraform/deployment.ts,
 * dev/twin/deploy.ts): the topics, schema and every subscription as declared (push endpoints = the
 * local function URLs), and the function bundles Terraform uploads under functions-framework with
 * exactly the environment Terraform gives them. Every process's output goes to one log file; `stop()` stops everything
 * that started, last first, and is safe to call at any time (also from a signal handler).
 *
 * @module
 */
import { PubSub, type Subscription } from '@google-cloud/pubsub';
import { createWriteStream, type WriteStream } from 'node:fs';
import path from 'node:path';
import { type LocalKube, startLocalKube } from '../kube/local-kube.ts';
import { applyManifests } from '../kube/manifests.ts';
import type { StartedProcess } from '../process.ts';
import { type PubsubEmulator, startPubsubEmulator } from '../pubsub/emulator.ts';
import type { FindingsTopology } from '../pubsub/provision.ts';
import { type Deployment, renderDeployment, type RootVariables } from '../terraform/deployment.ts';
import { provisionTwinPubsub, startTwinFunction, type TwinPubsub, twinEnvironment } from '../twin/deploy.ts';
import { type KernelMode, VIZIER_API_KEY, VIZIER_CLUSTER_ID, type VizierHandle } from './kernel.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');


/** The project id the emulator and the functions use (any id works with the emulator). */
export const DEMO_PROJECT = 'kernel-gossip-demo';
/** Cluster name in findings and objects. */
export const DEMO_CLUSTER = 'demo';
/** The Kubernetes users of the remediate and record functions, as k8s/rbac binds them. */
export const REMEDIATOR_USER = 'kernel-gossip-remediator@PROJECT_ID.iam.gserviceaccount.com';
export const RECORDER_USER = 'kernel-gossip-recorder@PROJECT_ID.iam.gserviceaccount.com';

export const FUNCTION_NAMES = ['observe-throttle', 'observe-births', 'remediate', 'record'] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];

export interface RunningFunction {
  readonly name: FunctionName;
  readonly url: string;
  readonly process: StartedProcess;
}

export interface StackOptions {
  /** Starts the local Vizier (live in this process, or a replay process). */
  readonly startVizier: () => Promise<VizierHandle>;
  readonly kernelMode: KernelMode;
  /** Every process's output, line by line with its name. */
  readonly logFile: string;
  /** Terraform variables of terraform/examples/basic over the demo's (e.g. remediation_cooldown for tests). */
  readonly terraformVariables?: RootVariables;
  /**
   * Remediate's environment beyond what Terraform accepts (tests only: e.g. more actions per run
   * than Terraform's limit of 50, for a burst test); logged as a deviation.
   */
  readonly remediateEnv?: Readonly<Record<string, string>>;
  readonly progress?: (message: string) => void;
  /** Receives `stop` as soon as the first thing started, so a signal handler can stop a half-started stack. */
  readonly registerStop?: (stop: () => Promise<void>) => void;
  /**
   * A running control plane to use (a real node's, dev/kube/node.ts); its owner stops it. By
   * default the stack starts its own kube-apiserver and stops it.
   */
  readonly kube?: LocalKube;
  /**
   * Starts the control plane the stack uses instead (a real node's, dev/kube/node.ts), beside the
   * other parts; the stack stops it with `stop` when it stops.
   */
  readonly startKube?: () => Promise<{ readonly kube: LocalKube; stop(): Promise<void> }>;
  /** Node options every function process starts with (the twin's simulated clock, dev/twin/clock.ts). */
  readonly functionNodeArgs?: readonly string[];
}

export interface Stack {
  /** What Terraform plans, as the twin deployed it (dev/terraform/deployment.ts). */
  readonly deployment: Deployment;
  readonly kube: LocalKube;
  readonly emulator: PubsubEmulator;
  readonly vizierAddress: string;
  readonly pubsub: PubSub;
  readonly topology: FindingsTopology;
  readonly topicId: string;
  readonly pushSubscriptions: readonly Subscription[];
  readonly functions: Readonly<Record<FunctionName, RunningFunction>>;
  readonly kubeconfigs: { readonly admin: string; readonly remediator: string; readonly recorder: string };
  readonly logFile: string;
  /** Appends a line to the log file as `[name] line`. */
  log(name: string, line: string): void;
  stop(): Promise<void>;
}

/**
 * The demo's deployment, as Terraform variables of terraform/examples/basic (the functions'
 * environment is what Terraform makes of them): apply mode (clearly said by the demo), the full
 * birth certificate probe its recordings hold, debug logs, in-place resize, dead letters after
 * Pub/Sub's minimum of 5 attempts; the local Vizier's cluster id and key.
 */
export const DEMO_TERRAFORM_VARIABLES = {
  project_id: DEMO_PROJECT,
  region: 'europe-west1',
  cluster_name: DEMO_CLUSTER,
  cluster_location: 'europe-west1',
  pixie_cluster_id: VIZIER_CLUSTER_ID,
  pixie_api_key: VIZIER_API_KEY,
  remediation_mode: 'apply',
  remediation_max_actions_per_run: 50,
  remediation_resize_in_place: true,
  birth_probe: 'pod_birth',
  log_level: 'DEBUG',
  findings_max_delivery_attempts: 5,
} as const;

/** The findings topic, its dead-letter topic and the subscription that holds dead letters, on the twin. */
const twinTopology = (pubsub: PubSub, deployment: Deployment, twin: TwinPubsub): FindingsTopology => {
  const findings = deployment.topics.find((t) => t.schema !== undefined);
  const deadLetterName = deployment.subscriptions.find((s) => s.deadLetter !== undefined)?.deadLetter?.topic;
  const hold = deployment.subscriptions.find((s) => s.topic === deadLetterName);
  const deadLetterSubscription = hold === undefined ? undefined : twin.subscriptions[hold.name];
  if (findings?.schema === undefined || deadLetterName === undefined || deadLetterSubscription === undefined) {
    throw new Error('Terraform\'s plan has no schema-enforced findings topic with a held dead-letter topic');
  }
  return { schemaName: findings.schema.name, topic: pubsub.topic(findings.name), deadLetterTopic: pubsub.topic(deadLetterName), deadLetterSubscription };
};

/** Stops registered things last first; later registrations during a stop are stopped too. */
class Cleanups {
  private readonly stops: { name: string; stop: () => Promise<void> }[] = [];
  add(name: string, stop: () => Promise<void>): void {
    this.stops.push({ name, stop });
  }
  async run(log: (line: string) => void): Promise<void> {
    for (let next = this.stops.pop(); next !== undefined; next = this.stops.pop()) {
      try {
        await next.stop();
      } catch (error) {
        log(`stopping ${next.name} failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
}

/** Appends a process's output (what it printed so far, then everything after) to the log, prefixed. */
const teeToLog = (log: WriteStream, name: string, child: StartedProcess): void => {
  let partial = '';
  const write = (text: string): void => {
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      log.write(`[${name}] ${line}\n`);
    }
  };
  write(child.output());
  child.child.stdout?.on('data', (chunk: Buffer) => {
    write(chunk.toString());
  });
  child.child.stderr?.on('data', (chunk: Buffer) => {
    write(chunk.toString());
  });
};

/**
 * Starts the stack. On failure, everything already started is stopped before the error is
 * rethrown. `signal` aborts the start the same way.
 */
export const startStack = async (options: StackOptions): Promise<Stack> => {
  const progress = options.progress ?? (() => undefined);
  const log = createWriteStream(options.logFile, { flags: 'a' });
  const cleanups = new Cleanups();
  cleanups.add('log file', () => new Promise<void>((resolve) => log.end(resolve)));
  const logLine = (line: string): void => {
    log.write(`[demo] ${line}\n`);
  };
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopping ??= cleanups.run(logLine));
  options.registerStop?.(stop);
  try {
    progress('planning terraform/examples/basic with the demo\'s variables; starting the local Vizier, the Pub/Sub emulator and the kube-apiserver');
    const planning = new AbortController();
    const planned = renderDeployment({
      distDir: path.join(ROOT, 'dist', 'functions'),
      variables: { ...DEMO_TERRAFORM_VARIABLES, ...options.terraformVariables },
      signal: planning.signal,
    });
    // Awaited after the other starts; a failure is reported then (not as an unhandled rejection now).
    planned.catch(() => undefined);
    // A stop while tofu still runs ends it, and waits until its work copy is removed.
    cleanups.add('terraform plan', async () => {
      planning.abort();
      await planned.catch(() => undefined);
    });
    const settled = await Promise.allSettled([
      options.startVizier().then((v) => {
        cleanups.add('local Vizier', () => v.stop());
        if (v.process !== undefined) {
          teeToLog(log, 'vizier', v.process);
        }
        return v;
      }),
      startPubsubEmulator().then((e) => {
        cleanups.add('Pub/Sub emulator', () => e.stop());
        teeToLog(log, 'pubsub-emulator', e.process);
        return e;
      }),
      options.kube !== undefined
        ? Promise.resolve(options.kube)
        : options.startKube !== undefined
          ? options.startKube().then((started) => {
              cleanups.add('the node (kubelet, containerd, control plane)', () => started.stop());
              return started.kube;
            })
          : startLocalKube({ startTimeoutMs: 150_000 }).then((k) => {
              cleanups.add('kube-apiserver', () => k.stop());
              return k;
            }),
    ] as const);
    const failed = settled.find((r) => r.status === 'rejected');
    if (failed !== undefined) {
      throw failed.reason;
    }
    const [vizier, emulator, kube] = settled.map((r) => (r as PromiseFulfilledResult<unknown>).value) as [
      VizierHandle,
      PubsubEmulator,
      LocalKube,
    ];
    progress(`local Vizier on ${vizier.address} (PxL over ${options.kernelMode} kernel data), Pub/Sub emulator on ${emulator.host}, kube-apiserver ${kube.version} on ${kube.server}`);

    progress('applying k8s/crds, k8s/rbac and k8s/examples to the kube-apiserver');
    await applyManifests(kube.kubeconfigPath, ['crds', 'rbac', 'examples']);
    const kubeconfigs = {
      admin: kube.kubeconfigPath,
      remediator: await kube.kubeconfigFor({ user: REMEDIATOR_USER }),
      recorder: await kube.kubeconfigFor({ user: RECORDER_USER }),
    };

    const pubsub = new PubSub({ projectId: DEMO_PROJECT, apiEndpoint: emulator.host, emulatorMode: true });
    cleanups.add('Pub/Sub client', () => pubsub.close());

    // Every function, its environment and the Pub/Sub topology come from Terraform's plan of
    // terraform/examples/basic with the demo's variables (dev/terraform/deployment.ts); the twin
    // only puts in its local endpoints and the secret.
    const deployment = await planned;
    const local = {
      pubsubEmulatorHost: emulator.host,
      pixieAddress: vizier.address,
      secrets: { PIXIE_API_KEY: VIZIER_API_KEY },
      kubeconfigs: { remediate: kubeconfigs.remediator, record: kubeconfigs.recorder },
      kernelSource: options.kernelMode === 'live' ? 'local' : 'replay',
    };
    progress('starting the function bundles Terraform uploads, with the environment Terraform sets');
    const started: RunningFunction[] = [];
    for (const name of FUNCTION_NAMES) {
      const deployed = deployment.functions[name];
      if (deployed === undefined) {
        throw new Error(`Terraform does not deploy ${name}`);
      }
      const beyond = name === 'remediate' ? (options.remediateEnv ?? {}) : {};
      if (Object.keys(beyond).length > 0) {
        logLine(`${name}: environment beyond what Terraform sets (a test's override): ${Object.keys(beyond).join(', ')}`);
      }
      const env = { ...twinEnvironment(deployed, local), ...beyond };
      const fn = await startTwinFunction(deployed, env, undefined, options.functionNodeArgs);
      cleanups.add(name, () => fn.process.stop());
      teeToLog(log, name, fn.process);
      started.push({ name, url: fn.url, process: fn.process });
    }
    const functions = Object.fromEntries(started.map((fn) => [fn.name, fn])) as Record<FunctionName, RunningFunction>;

    progress('creating the finding schema, the topics and every subscription as Terraform declares them');
    const twinPubsub = await provisionTwinPubsub(pubsub, deployment, Object.fromEntries(started.map((fn) => [fn.name, fn.url])));
    cleanups.add('push filter relays', () => twinPubsub.close());
    for (const skipped of twinPubsub.notCreated) {
      logLine(`not created on the emulator: ${skipped.name} (${skipped.why})`);
    }
    const topology = twinTopology(pubsub, deployment, twinPubsub);
    const topicId = topology.topic.name.split('/').pop() ?? '';
    const pushSubscriptions = deployment.subscriptions.flatMap((sub) => (sub.push === undefined ? [] : (twinPubsub.subscriptions[sub.name] ?? [])));
    logLine(
      `stack ready: vizier ${vizier.address}, emulator ${emulator.host}, kube ${kube.server}, functions ${started.map((fn) => `${fn.name}=${fn.url}`).join(' ')}`,
    );
    return {
      deployment,
      kube,
      emulator,
      vizierAddress: vizier.address,
      pubsub,
      topology,
      topicId,
      pushSubscriptions,
      functions,
      kubeconfigs,
      logFile: options.logFile,
      log: (name, line) => {
        log.write(`[${name}] ${line}\n`);
      },
      stop,
    };
  } catch (error) {
    logLine(`start failed: ${error instanceof Error ? error.message : String(error)}`);
    await stop();
    throw error;
  }
};
