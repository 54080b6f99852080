/**
 * One fuzz run of the built `remediate` bundle under functions-framework, against a real
 * kube-apiserver and the Pub/Sub emulator: `findings` generated findings and `malformed` bodies,
 * posted in a shuffled order, then the answers, the function's log and the apiserver's own audit
 * log are counted. Shared by the integration test (small) and the bench (large).
 */
import { PubSub } from '@google-cloud/pubsub';
import { randomUUID } from 'node:crypto';
import type { LocalKube } from '../../dev/kube/local-kube.ts';
import { applyManifests } from '../../dev/kube/manifests.ts';
import { type PubsubEmulator, startPubsubEmulator } from '../../dev/pubsub/emulator.ts';
import { provisionFindingsTopic } from '../../dev/pubsub/provision.ts';
import { type RunningFunction, startFunction } from './functions.ts';
import { bindApplyRole, clientsFor, createOwnedPod, REMEDIATOR_USER, requestsBy, startTestKube } from './kube.ts';
import { DECISION_EVENTS, findingPush, type FuzzContext, type FuzzWorkload, generateMalformed, type GeneratedPush, mismatches, postAll, type PushAnswer } from './remediate-fuzz.ts';
import { prng } from '../../dev/random.ts';

export const FUZZ_CLUSTER = 'lab';
export const FUZZ_MAX_EVIDENCE_AGE_MS = 15 * 60_000;
const OPTED_IN = 'shop';

export interface FuzzEnvironment {
  readonly kube: LocalKube;
  readonly emulator: PubsubEmulator;
  readonly fn: RunningFunction;
  readonly workloads: readonly FuzzWorkload[];
  stop(): Promise<void>;
}

/** A cluster with `count` opted-in Deployments (half of them let kernel-gossip own the limit), and remediate in apply mode. */
export const startFuzzEnvironment = async (count: number): Promise<FuzzEnvironment> => {
  const stops: (() => Promise<void>)[] = [];
  const stop = async (): Promise<void> => {
    for (const s of stops.reverse()) {
      await s();
    }
  };
  try {
    const [kube, emulator] = await Promise.all([startTestKube(), startPubsubEmulator()]);
    stops.push(() => kube.stop(), () => emulator.stop());
    const admin = clientsFor(kube.kubeconfigPath);
    await applyManifests(kube.kubeconfigPath, ['crds', 'rbac']);
    await admin.core.createNamespace({ body: { metadata: { name: OPTED_IN, labels: { 'kernel.gossip.io/remediation': 'enabled' } } } });
    await admin.core.createNamespace({ body: { metadata: { name: 'batch' } } });
    await bindApplyRole(admin, OPTED_IN);
    const workloads: FuzzWorkload[] = [];
    for (let i = 0; i < count; i += 1) {
      const name = `w${i}`;
      const owned = await createOwnedPod(admin, OPTED_IN, name, '200m');
      if (i % 2 === 0) {
        await admin.apps.patchNamespacedDeployment(
          { name, namespace: OPTED_IN, body: { metadata: { annotations: { 'kernel.gossip.io/take-ownership': 'cpu-limit' } } } },
          (await import('@kubernetes/client-node')).setHeaderOptions('Content-Type', 'application/merge-patch+json'),
        );
      }
      workloads.push({ namespace: OPTED_IN, name, pod: owned.pod.metadata?.name ?? '' });
    }
    const pubsub = new PubSub({ projectId: 'kernel-gossip-test', apiEndpoint: emulator.host, emulatorMode: true });
    stops.push(() => pubsub.close());
    const topology = await provisionFindingsTopic(pubsub, `fuzz-${randomUUID().slice(0, 8)}`);
    const fn = await startFunction('remediate', {
      KUBECONFIG: await kube.kubeconfigFor({ user: REMEDIATOR_USER }),
      PUBSUB_EMULATOR_HOST: emulator.host,
      GOOGLE_CLOUD_PROJECT: 'kernel-gossip-test',
      FINDINGS_TOPIC: topology.topic.name.split('/').pop() ?? '',
      KG_CLUSTER_NAME: FUZZ_CLUSTER,
      REMEDIATION_MODE: 'apply',
      REMEDIATION_COOLDOWN: '1h',
      REMEDIATION_MAX_ACTIONS_PER_RUN: '50',
      REMEDIATION_RESIZE_IN_PLACE: 'true',
      REMEDIATION_MAX_EVIDENCE_AGE: '15m',
    });
    stops.push(() => fn.stop());
    return { kube, emulator, fn, workloads, stop };
  } catch (error) {
    await stop();
    throw error;
  }
};

export interface FuzzReport {
  readonly seed: number;
  readonly findings: number;
  readonly malformed: number;
  readonly answers: readonly PushAnswer[];
  /** Answers by status code. */
  readonly statuses: Readonly<Record<string, number>>;
  /** Answers that are not JSON. */
  readonly notJson: number;
  /** Answers that differ from what the push must get. */
  readonly mismatches: readonly string[];
  /** Counts by outcome, refusal, ignored kind or rejection. */
  readonly outcomes: Readonly<Record<string, number>>;
  /** Decision log events the function wrote during the run (one per push expected). */
  readonly decisionEvents: number;
  /** Workload PATCHes (Deployment/StatefulSet) the API server accepted (2xx) from the remediator. */
  readonly workloadPatches: number;
  /** Workload PATCHes the API server refused (a 409 conflict with another field manager). */
  readonly refusedPatches: number;
  /** Pod resizes the API server received from the remediator. */
  readonly podResizes: number;
  /** Any other mutating request of the remediator that is not an Event. */
  readonly otherWrites: readonly string[];
  /** Requests the remediator made, in total. */
  readonly apiRequests: number;
  readonly elapsedMs: number;
}

const outcomeOf = (answer: PushAnswer): string => {
  const body = answer.body ?? {};
  if (typeof body['refusal'] === 'string') {
    return `refused:${body['refusal']}`;
  }
  if (typeof body['outcome'] === 'string') {
    return `decided:${body['outcome']}`;
  }
  if (typeof body['ignored'] === 'string') {
    return `ignored:${body['ignored']}`;
  }
  if (typeof body['rejected'] === 'string') {
    return `rejected:${body['rejected']}`;
  }
  return `status:${answer.status}`;
};

const count = (values: readonly string[]): Record<string, number> => {
  const counts: Record<string, number> = {};
  for (const value of values) {
    counts[value] = (counts[value] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
};

/** Generates, posts and counts one run. */
export const runFuzz = async (env: FuzzEnvironment, options: { seed: number; findings: number; malformed: number; concurrency: number }): Promise<FuzzReport> => {
  const random = prng(options.seed);
  const context: FuzzContext = { cluster: FUZZ_CLUSTER, maxEvidenceAgeMs: FUZZ_MAX_EVIDENCE_AGE_MS, workloads: env.workloads, now: () => Date.now() };
  const pushes: GeneratedPush[] = [
    ...Array.from({ length: options.findings }, () => findingPush(random, context)),
    ...Array.from({ length: options.malformed }, () => generateMalformed(random, context)),
  ];
  // Shuffled (Fisher-Yates), so malformed bodies interleave with findings.
  for (let i = pushes.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [pushes[i], pushes[j]] = [pushes[j]!, pushes[i]!];
  }
  const logsBefore = env.fn.logs().length;
  const requestsBefore = (await requestsBy(env.kube, REMEDIATOR_USER)).length;
  const started = Date.now();
  const answers = await postAll(env.fn.url, pushes, options.concurrency);
  const elapsedMs = Date.now() - started;
  // The function writes its log line before it answers; give the pipe a moment to deliver it.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const logs = env.fn.logs().slice(logsBefore);
  const requests = (await requestsBy(env.kube, REMEDIATOR_USER)).slice(requestsBefore);
  const writes = requests.filter((r) => !['get', 'list', 'watch'].includes(r.verb));
  const workloadPatch = /^\/apis\/apps\/v1\/namespaces\/[^/]+\/(deployments|statefulsets)\/[^/?]+\?/;
  const podResize = /^\/api\/v1\/namespaces\/[^/]+\/pods\/[^/?]+\/resize\?/;
  const eventCreate = /^\/apis\/events\.k8s\.io\/v1\/namespaces\/[^/]+\/events(\?|$)/;
  return {
    seed: options.seed,
    findings: options.findings,
    malformed: options.malformed,
    answers,
    statuses: count(answers.map((a) => String(a.status))),
    notJson: answers.filter((a) => !a.json).length,
    mismatches: mismatches(answers),
    outcomes: count(answers.map(outcomeOf)),
    decisionEvents: logs.filter((l) => DECISION_EVENTS.has(String(l['event']))).length,
    workloadPatches: writes.filter((r) => r.verb === 'patch' && workloadPatch.test(r.requestURI) && (r.code ?? 0) < 300).length,
    refusedPatches: writes.filter((r) => r.verb === 'patch' && workloadPatch.test(r.requestURI) && (r.code ?? 0) >= 300).length,
    podResizes: writes.filter((r) => r.verb === 'patch' && podResize.test(r.requestURI)).length,
    otherWrites: writes
      .filter((r) => !(r.verb === 'patch' && (workloadPatch.test(r.requestURI) || podResize.test(r.requestURI))) && !(r.verb === 'create' && eventCreate.test(r.requestURI)))
      .map((r) => `${r.verb} ${r.requestURI}`),
    apiRequests: requests.length,
    elapsedMs,
  };
};
