import { PubSub, type Message, type Subscription } from '@google-cloud/pubsub';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalKube } from '../../../dev/kube/local-kube.ts';
import { applyManifests } from '../../../dev/kube/manifests.ts';
import { type PubsubEmulator, startPubsubEmulator } from '../../../dev/pubsub/emulator.ts';
import { provisionFindingsTopic, pullSubscription } from '../../../dev/pubsub/provision.ts';
import { decodeFinding, encodeFinding, stableId } from '../../../shared/findings/codec.ts';
import type { RemediationFinding, ThrottleFinding } from '../../../shared/findings/types.ts';
import { sampleThrottle } from '../../support/findings.ts';
import { post, pushBody, type RunningFunction, startFunction } from '../../support/functions.ts';
import { clientsFor, createOwnedPod, type KubeClients, REMEDIATOR_USER, startTestKube } from '../../support/kube.ts';

const PROJECT = 'kernel-gossip-test';
const OPTED_IN = 'shop';
const NOT_OPTED_IN = 'batch';

/** A throttle finding about container `app` of `name`, recommending 400m, with its own id. */
const throttle = (namespace: string, kind: string, name: string, changes: Partial<ThrottleFinding['throttle']> = {}): ThrottleFinding => {
  const base = sampleThrottle();
  const nonce = randomUUID();
  return {
    ...base,
    id: stableId('cpu.throttle', { namespace, kind, name, nonce }),
    namespace,
    workload: { kind, name, container: 'app' },
    throttle: { ...base.throttle, ...changes },
  };
};

const cpuLimit = async (admin: KubeClients, namespace: string, name: string): Promise<string | undefined> => {
  const deployment = await admin.apps.readNamespacedDeployment({ name, namespace });
  return deployment.spec?.template.spec?.containers[0]?.resources?.limits?.['cpu'];
};

describe('remediate (built bundle) against a real kube-apiserver and the Pub/Sub emulator', () => {
  let kube: LocalKube;
  let admin: KubeClients;
  let emulator: PubsubEmulator;
  let pubsub: PubSub;
  let results: Subscription;
  let fn: RunningFunction;
  const received = new Map<string, RemediationFinding>();
  const cleanups: (() => Promise<void>)[] = [];

  /** Waits until the remediation result answering `findingId` arrived on the topic. */
  const resultFor = async (findingId: string): Promise<RemediationFinding> => {
    const until = Date.now() + 20_000;
    for (;;) {
      const found = [...received.values()].find((r) => r.remediation.findingId === findingId);
      if (found !== undefined) {
        return found;
      }
      if (Date.now() > until) {
        throw new Error(`no remediation result for ${findingId}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  const push = async (finding: ThrottleFinding) => post(fn.url, pushBody(encodeFinding(finding), randomUUID()));

  beforeAll(async () => {
    [kube, emulator] = await Promise.all([startTestKube(), startPubsubEmulator()]);
    cleanups.push(() => kube.stop(), () => emulator.stop());
    admin = clientsFor(kube.kubeconfigPath);
    await applyManifests(kube.kubeconfigPath, ['crds', 'rbac']);
    for (const [name, labels] of [
      [OPTED_IN, { 'kernel.gossip.io/remediation': 'enabled' }],
      [NOT_OPTED_IN, {}],
    ] as const) {
      await admin.core.createNamespace({ body: { metadata: { name, labels } } });
    }
    // The per-namespace permission that goes with opting in.
    await admin.rbac.createNamespacedRoleBinding({
      namespace: OPTED_IN,
      body: {
        metadata: { name: 'kernel-gossip-remediator-apply' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'kernel-gossip-remediator-apply' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: REMEDIATOR_USER }],
      },
    });
    pubsub = new PubSub({ projectId: PROJECT, apiEndpoint: emulator.host, emulatorMode: true });
    cleanups.push(() => pubsub.close());
    const topology = await provisionFindingsTopic(pubsub, `rem-${randomUUID().slice(0, 8)}`);
    results = await pullSubscription(topology, `${topology.topic.name.split('/').pop()!}-results`);
    cleanups.push(() => results.close());
    results.on('message', (message: Message) => {
      message.ack();
      const finding = decodeFinding(message.data);
      if (finding.kind === 'remediation.result') {
        received.set(finding.id, finding);
      }
    });
    fn = await startFunction('remediate', {
      KUBECONFIG: await kube.kubeconfigFor({ user: REMEDIATOR_USER }),
      PUBSUB_EMULATOR_HOST: emulator.host,
      GOOGLE_CLOUD_PROJECT: PROJECT,
      FINDINGS_TOPIC: topology.topic.name.split('/').pop()!,
      KG_CLUSTER_NAME: 'lab',
      REMEDIATION_MODE: 'apply',
      REMEDIATION_MIN_WINDOWS: '3',
      REMEDIATION_MAX_STEP: '2',
      REMEDIATION_CEILING_MILLICORES: '4000',
      REMEDIATION_COOLDOWN: '1h',
      REMEDIATION_MAX_ACTIONS_PER_RUN: '50',
      REMEDIATION_RESIZE_IN_PLACE: 'true',
    });
    cleanups.push(() => fn.stop());
  });

  afterAll(async () => {
    // Stop what started, last first; a failed beforeAll leaves some of these unset.
    for (const stop of cleanups.reverse()) {
      await stop();
    }
  });

  const ownedPod = async (namespace: string, annotations: Record<string, string> = {}) => {
    const name = `w-${randomUUID().slice(0, 6)}`;
    const owned = await createOwnedPod(admin, namespace, name, '200m');
    if (Object.keys(annotations).length > 0) {
      await admin.apps.patchNamespacedDeployment(
        { name, namespace, body: { metadata: { annotations } } },
        (await import('@kubernetes/client-node')).setHeaderOptions('Content-Type', 'application/merge-patch+json'),
      );
    }
    return { name, pod: owned.pod.metadata?.name ?? '' };
  };

  it('resolves the pod to its Deployment and raises the limit it may own, with an Event and a published result', async () => {
    const { name, pod } = await ownedPod(OPTED_IN, { 'kernel.gossip.io/take-ownership': 'cpu-limit' });
    const finding = throttle(OPTED_IN, 'Pod', pod);
    const response = await push(finding);
    expect(response).toMatchObject({ status: 200, body: { outcome: 'applied' } });
    expect(await cpuLimit(admin, OPTED_IN, name)).toBe('400m');
    const deployment = await admin.apps.readNamespacedDeployment({ name, namespace: OPTED_IN });
    expect(deployment.metadata?.annotations?.['kernel.gossip.io/last-finding']).toBe(finding.id);
    expect(deployment.metadata?.managedFields?.some((f) => f.manager === 'kernel-gossip-remediator')).toBe(true);
    const result = await resultFor(finding.id);
    expect(result.remediation).toMatchObject({ outcome: 'applied', mode: 'apply', fromLimitMillicores: 200, toLimitMillicores: 400 });
    expect(result.workload).toEqual({ kind: 'Deployment', name, container: 'app' });
    const events = await admin.events.listNamespacedEvent({ namespace: OPTED_IN });
    const event = events.items.find((e) => e.regarding?.name === name);
    expect(event).toMatchObject({ reason: 'CPULimitApplied', reportingController: 'kernel.gossip.io/remediator', type: 'Normal' });
    // The running pod was resized in place too.
    const resized = await admin.core.readNamespacedPod({ name: pod, namespace: OPTED_IN });
    expect(resized.spec?.containers[0]?.resources?.limits?.['cpu']).toBe('400m');
  });

  it('reports a conflict with the field manager that owns the limit, with the patch to commit, and changes nothing', async () => {
    const { name } = await ownedPod(OPTED_IN);
    const finding = throttle(OPTED_IN, 'Deployment', name);
    expect((await push(finding)).status).toBe(200);
    const result = await resultFor(finding.id);
    expect(result.remediation.outcome).toBe('conflict');
    expect(result.remediation.conflictingManager).toBeTruthy();
    expect(result.remediation.patch).toContain('cpu: 400m');
    expect(await cpuLimit(admin, OPTED_IN, name)).toBe('200m');
  });

  it.each([
    ['a namespace that did not opt in', NOT_OPTED_IN, {}, {}, 'skipped', /not opted in/],
    ['a workload that opted out', OPTED_IN, { 'kernel.gossip.io/remediation': 'disabled' }, {}, 'skipped', /=disabled/],
    ['too few consecutive windows', OPTED_IN, { 'kernel.gossip.io/take-ownership': 'cpu-limit' }, { consecutiveWindows: 1 }, 'skipped', /1 of the 3/],
    ['a workload in recommend mode', OPTED_IN, { 'kernel.gossip.io/remediation-mode': 'recommend' }, {}, 'recommended', /recommend mode/],
    ['a healthy verdict', OPTED_IN, {}, { verdict: 'healthy' }, 'skipped', /needs no action/],
    ['a ceiling at the current limit', OPTED_IN, { 'kernel.gossip.io/cpu-limit-ceiling': '200m' }, {}, 'skipped', /at the ceiling/],
  ] as const)('does not act on %s', async (_name, namespace, annotations, changes, outcome, reason) => {
    const { name } = await ownedPod(namespace, annotations);
    const finding = throttle(namespace, 'Deployment', name, changes);
    expect((await push(finding)).status).toBe(200);
    const result = await resultFor(finding.id);
    expect(result.remediation.outcome).toBe(outcome);
    expect(result.remediation.reason).toMatch(reason);
    expect(await cpuLimit(admin, namespace, name)).toBe('200m');
    // Every decision, acted on or not, is an Event on the workload.
    const events = await admin.events.listNamespacedEvent({ namespace });
    const word = `${outcome.charAt(0).toUpperCase()}${outcome.slice(1)}`;
    expect(events.items.some((e) => e.regarding?.name === name && e.reason === `CPULimit${word}`)).toBe(true);
  });

  it('holds back a second change within the cooldown', async () => {
    const { name } = await ownedPod(OPTED_IN, { 'kernel.gossip.io/take-ownership': 'cpu-limit' });
    const first = throttle(OPTED_IN, 'Deployment', name);
    expect((await push(first)).body).toMatchObject({ outcome: 'applied' });
    const second = throttle(OPTED_IN, 'Deployment', name, { recommendedLimitMillicores: 800 });
    expect((await push(second)).body).toMatchObject({ outcome: 'skipped' });
    expect((await resultFor(second.id)).remediation.reason).toMatch(/cooldown/);
    expect(await cpuLimit(admin, OPTED_IN, name)).toBe('400m');
  });

  it('acts once when the same finding is delivered 10 times at once', async () => {
    const { name } = await ownedPod(OPTED_IN, { 'kernel.gossip.io/take-ownership': 'cpu-limit' });
    const before = await admin.apps.readNamespacedDeployment({ name, namespace: OPTED_IN });
    const finding = throttle(OPTED_IN, 'Deployment', name);
    const body = pushBody(encodeFinding(finding), 'same-message');
    const responses = await Promise.all(Array.from({ length: 10 }, () => post(fn.url, body)));
    expect(responses.every((r) => r.status === 200)).toBe(true);
    const outcomes = responses.map((r) => r.body['outcome']);
    expect(outcomes.filter((o) => o === 'applied')).toHaveLength(1);
    const after = await admin.apps.readNamespacedDeployment({ name, namespace: OPTED_IN });
    expect(await cpuLimit(admin, OPTED_IN, name)).toBe('400m');
    // One spec change: the generation moved by exactly one.
    expect((after.metadata?.generation ?? 0) - (before.metadata?.generation ?? 0)).toBe(1);
  });

  it('acknowledges 100 malformed pushes without acting', async () => {
    const { name } = await ownedPod(OPTED_IN, { 'kernel.gossip.io/take-ownership': 'cpu-limit' });
    const valid = encodeFinding(throttle(OPTED_IN, 'Deployment', name));
    const wire = JSON.parse(valid.toString()) as Record<string, unknown>;
    const makers: (() => unknown)[] = [
      () => pushBody('%%%not-base64%%%', randomUUID()),
      () => pushBody(Buffer.from('{"kind":'), randomUUID()),
      () => pushBody(Buffer.from(JSON.stringify({ ...wire, extra: true })), randomUUID()),
      () => pushBody(Buffer.from(JSON.stringify({ ...wire, severity: 'loud' })), randomUUID()),
      () => ({ message: { data: valid.toString('base64') } }),
      () => ({ subscription: 'x' }),
      () => pushBody('A'.repeat(14_000_001), randomUUID()),
    ];
    const responses = [];
    for (let i = 0; i < 100; i += 1) {
      responses.push(await post(fn.url, makers[i % makers.length]!()));
    }
    expect(responses.every((r) => r.status === 200 && r.body['acknowledged'] === true)).toBe(true);
    expect(await cpuLimit(admin, OPTED_IN, name)).toBe('200m');
    expect(fn.logs().filter((l) => l['event'] === 'push.rejected').length).toBeGreaterThanOrEqual(100);
  });

  it('reports 404 and 403 as decisions, without asking for redelivery', async () => {
    const missing = throttle(OPTED_IN, 'Deployment', 'does-not-exist');
    expect((await push(missing)).status).toBe(200);
    expect((await resultFor(missing.id)).remediation).toMatchObject({ outcome: 'skipped' });
    // Opted in by label, but nobody bound the apply role there: the API server says 403.
    await admin.core.createNamespace({ body: { metadata: { name: 'unbound', labels: { 'kernel.gossip.io/remediation': 'enabled' } } } });
    const { name } = await ownedPod('unbound', { 'kernel.gossip.io/take-ownership': 'cpu-limit' });
    const forbidden = throttle('unbound', 'Deployment', name);
    expect((await push(forbidden)).status).toBe(200);
    expect((await resultFor(forbidden.id)).remediation).toMatchObject({ outcome: 'failed', reason: expect.stringMatching(/HTTP 403/) as unknown });
  });

  it('answers 5xx so Pub/Sub redelivers when the API server is gone', async () => {
    const { name } = await ownedPod(OPTED_IN, { 'kernel.gossip.io/take-ownership': 'cpu-limit' });
    const finding = throttle(OPTED_IN, 'Deployment', name);
    await kube.stop();
    const response = await push(finding);
    expect(response.status).toBe(503);
    expect(fn.logs().some((l) => l['event'] === 'remediation.retry')).toBe(true);
  });
});
