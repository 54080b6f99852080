/**
 * The whole pipeline on one machine, as the demo and the end-to-end tests run it: the local
 * Vizier (over live or recorded kernel data), the official Pub/Sub emulator, a real kube-apiserver,
 * the findings topic/schema/push subscriptions as Terraform makes them (push endpoints = the local
 * function URLs), and the built function bundles under functions-framework with the environment
 * Terraform gives them. Every process's output goes to one log file; `stop()` stops everything
 * that started, last first, and is safe to call at any time (also from a signal handler).
 *
 * @module
 */
import { PubSub, type Subscription } from '@google-cloud/pubsub';
import { createWriteStream, type WriteStream } from 'node:fs';
import path from 'node:path';
import { type LocalKube, startLocalKube } from '../kube/local-kube.ts';
import { applyManifests } from '../kube/manifests.ts';
import { freePort, type StartedProcess, startProcess } from '../process.ts';
import { type PubsubEmulator, startPubsubEmulator } from '../pubsub/emulator.ts';
import { type FindingsTopology, provisionFindingsTopic, PUSH_FILTERS, pushSubscription } from '../pubsub/provision.ts';
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
  /** Remediate's environment on top of the demo's (e.g. REMEDIATION_COOLDOWN for tests). */
  readonly remediateEnv?: Readonly<Record<string, string>>;
  /** Push subscription settings (tests shorten the ack deadline). */
  readonly maxDeliveryAttempts?: number;
  readonly progress?: (message: string) => void;
  /** Receives `stop` as soon as the first thing started, so a signal handler can stop a half-started stack. */
  readonly registerStop?: (stop: () => Promise<void>) => void;
  /**
   * A running control plane to use (a real node's, dev/kube/node.ts); its owner stops it. By
   * default the stack starts its own kube-apiserver and stops it.
   */
  readonly kube?: LocalKube;
}

export interface Stack {
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

/** Remediate's settings in the demo: apply mode (clearly said by the demo), the rest as Terraform's defaults. */
export const DEMO_REMEDIATE_ENV = {
  REMEDIATION_MODE: 'apply',
  REMEDIATION_MIN_WINDOWS: '3',
  REMEDIATION_MAX_STEP: '2',
  REMEDIATION_CEILING_MILLICORES: '4000',
  REMEDIATION_COOLDOWN: '1h',
  REMEDIATION_MAX_ACTIONS_PER_RUN: '50',
  REMEDIATION_RESIZE_IN_PLACE: 'true',
  REMEDIATION_MAX_EVIDENCE_AGE: '15m',
} as const;

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

const startFunction = async (name: FunctionName, env: Readonly<Record<string, string>>): Promise<RunningFunction> => {
  const port = await freePort();
  const dir = path.join(ROOT, 'dist', 'functions', name);
  const child = await startProcess(
    process.execPath,
    [path.join(ROOT, 'node_modules', '.bin', 'functions-framework'), '--source', dir, '--target', name, '--port', String(port)],
    { cwd: dir, env: { ...process.env, METADATA_SERVER_DETECTION: 'none', ...env }, ready: /Serving function/, timeoutMs: 60_000 },
  );
  return { name, url: `http://127.0.0.1:${port}/`, process: child };
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
    progress('starting the local Vizier, the Pub/Sub emulator and the kube-apiserver');
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
      options.kube === undefined
        ? startLocalKube({ startTimeoutMs: 150_000 }).then((k) => {
            cleanups.add('kube-apiserver', () => k.stop());
            return k;
          })
        : Promise.resolve(options.kube),
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
    progress('creating the finding schema, the schema-enforced findings topic and its dead-letter topic');
    const topology = await provisionFindingsTopic(pubsub, 'kg');
    const topicId = topology.topic.name.split('/').pop() ?? '';

    const common = { PUBSUB_EMULATOR_HOST: emulator.host, GOOGLE_CLOUD_PROJECT: DEMO_PROJECT, KG_CLUSTER_NAME: DEMO_CLUSTER, LOG_LEVEL: 'DEBUG' };
    const observeEnv = {
      ...common,
      FINDINGS_TOPIC: topicId,
      PIXIE_API_KEY: VIZIER_API_KEY,
      PIXIE_CLUSTER_ID: VIZIER_CLUSTER_ID,
      PIXIE_CLOUD_ADDR: vizier.address,
      PIXIE_INSECURE: 'true',
      KG_KERNEL_SOURCE: options.kernelMode === 'live' ? 'local' : 'replay',
    };
    const envs: Record<FunctionName, Record<string, string>> = {
      'observe-throttle': observeEnv,
      // The demo shows the full certificate (limit writes, the runtime's syscall count): the opt-in
      // probe, which is also what its recordings hold. Production deploys pod_birth_lite by default.
      'observe-births': { ...observeEnv, KG_BIRTH_PROBE: 'pod_birth' },
      remediate: { ...common, FINDINGS_TOPIC: topicId, KUBECONFIG: kubeconfigs.remediator, ...DEMO_REMEDIATE_ENV, ...options.remediateEnv },
      record: { ...common, KUBECONFIG: kubeconfigs.recorder },
    };
    progress('starting the built function bundles under functions-framework');
    const started: RunningFunction[] = [];
    for (const name of FUNCTION_NAMES) {
      const fn = await startFunction(name, envs[name]);
      cleanups.add(name, () => fn.process.stop());
      teeToLog(log, name, fn.process);
      started.push(fn);
    }
    const functions = Object.fromEntries(started.map((fn) => [fn.name, fn])) as Record<FunctionName, RunningFunction>;

    progress('creating the push subscriptions to remediate (cpu.throttle only) and record (dead letters after 5 attempts, as Terraform does)');
    const pushSubscriptions = [];
    for (const name of ['remediate', 'record'] as const) {
      const push = await pushSubscription(topology, {
        name: `kg-kernel-findings-${name}`,
        endpoint: functions[name].url,
        ...(PUSH_FILTERS[name] === undefined ? {} : { filter: PUSH_FILTERS[name] }),
        ...(options.maxDeliveryAttempts === undefined ? {} : { maxDeliveryAttempts: options.maxDeliveryAttempts }),
      });
      cleanups.add(`${name} push filter`, () => push.close());
      pushSubscriptions.push(push.subscription);
    }
    logLine(
      `stack ready: vizier ${vizier.address}, emulator ${emulator.host}, kube ${kube.server}, functions ${started.map((fn) => `${fn.name}=${fn.url}`).join(' ')}`,
    );
    return {
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
