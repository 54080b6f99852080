import { PubSub, type Message, type Subscription } from '@google-cloud/pubsub';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalKube } from '../../../dev/kube/local-kube.ts';
import { applyManifests } from '../../../dev/kube/manifests.ts';
import { type PubsubEmulator, startPubsubEmulator } from '../../../dev/pubsub/emulator.ts';
import { provisionFindingsTopic, pullSubscription } from '../../../dev/pubsub/provision.ts';
import { sampleBirth, sampleRemediation } from '../../support/findings.ts';
import { decodeFinding, encodeFinding, stableId } from '../../../shared/findings/codec.ts';
import type { RemediationFinding, ThrottleFinding } from '../../../shared/findings/types.ts';
import { sampleThrottle } from '../../support/findings.ts';
import { post, pushBody, type RunningFunction, startFunction } from '../../support/functions.ts';
import { bindApplyRole, clientsFor, createOwnedPod, type KubeClients, REMEDIATOR_USER, requestsBy, startTestKube } from '../../support/kube.ts';
import { createFindingPublisher } from '../../../shared/findings/publisher.ts';
import { type FindingsTopology, PUSH_FILTERS, pushSubscription } from '../../../dev/pubsub/provision.ts';

const PROJECT = 'kernel-gossip-test';
const OPTED_IN = 'shop';
const NOT_OPTED_IN = 'batch';

/** A window of `seconds` that ended `agoMs` ago (negative: in the future). */
const windowEnding = (agoMs: number, seconds = 60): ThrottleFinding['observedWindow'] => {
  const end = Date.now() - agoMs;
  return { start: new Date(end - seconds * 1000).toISOString(), end: new Date(end).toISOString(), seconds };
};

/** A throttle finding about container `app` of `name`, recommending 400m, from a window that just ended, with its own id. */
const throttle = (namespace: string, kind: string, name: string, changes: Partial<ThrottleFinding['throttle']> = {}): ThrottleFinding => {
  const base = sampleThrottle();
  const nonce = randomUUID();
  return {
    ...base,
    id: stableId('cpu.throttle', { namespace, kind, name, nonce }),
    namespace,
    workload: { kind, name, container: 'app' },
    observedWindow: windowEnding(10_000),
    throttle: { ...base.throttle, ...changes },
  };
};

/** POSTs raw bytes with a content type, as any client of the function's URL can. */
const postRaw = async (url: string, body: string, contentType = 'application/json') => {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body });
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', text: await response.text() };
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
  let topology: FindingsTopology;
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
    await bindApplyRole(admin, OPTED_IN);
    pubsub = new PubSub({ projectId: PROJECT, apiEndpoint: emulator.host, emulatorMode: true });
    cleanups.push(() => pubsub.close());
    topology = await provisionFindingsTopic(pubsub, `rem-${randomUUID().slice(0, 8)}`);
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
      REMEDIATION_MAX_EVIDENCE_AGE: '15m',
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

  // The rows of issue 18: hostile but schema-valid findings about a workload that let kernel-gossip
  // own its limit and is not in cooldown. Each is refused before any decision: a result with the
  // refusal, a log event, the limit unchanged and not one request to the API server (counted from
  // the apiserver's own audit log).
  it.each([
    ['another cluster', (f: ThrottleFinding): ThrottleFinding => ({ ...f, cluster: 'prod-eu-2' }), 'foreign-cluster', /"prod-eu-2".*"lab"/],
    ['a window in 2030', (f: ThrottleFinding): ThrottleFinding => ({ ...f, observedWindow: { start: '2030-01-01T00:00:00.000Z', end: '2030-01-01T00:01:00.000Z', seconds: 60 } }), 'future', /after now/],
    // Pub/Sub keeps messages 7 days: a backlog after an outage, or a dead-letter re-drive.
    ['a window that ended 6 days ago', (f: ThrottleFinding): ThrottleFinding => ({ ...f, observedWindow: windowEnding(6 * 24 * 3_600_000) }), 'stale', /REMEDIATION_MAX_EVIDENCE_AGE/],
    ['the workload name ../../secrets', (f: ThrottleFinding): ThrottleFinding => ({ ...f, workload: { ...f.workload, name: '../../secrets' } }), 'invalid-name', /not a DNS-1123 subdomain/],
  ] as const)('refuses %s: nothing patched, no request to the API server', async (_name, change, refusal, reason) => {
    const { name } = await ownedPod(OPTED_IN, { 'kernel.gossip.io/take-ownership': 'cpu-limit' });
    const finding = change(throttle(OPTED_IN, 'Deployment', name));
    const requestsBefore = (await requestsBy(kube, REMEDIATOR_USER)).length;
    const response = await push(finding);
    expect(response).toMatchObject({ status: 200, body: { outcome: 'skipped', refusal } });
    const result = await resultFor(finding.id);
    expect(result.remediation).toMatchObject({ outcome: 'skipped', refusal, mode: 'apply', podsResized: 0 });
    expect(result.remediation.reason).toMatch(reason);
    // The result names the cluster that decided, never the one the finding claimed.
    expect(result.cluster).toBe('lab');
    expect(fn.logs().some((l) => l['event'] === 'remediation.refused' && l['refusal'] === refusal && l['resultId'] === result.id)).toBe(true);
    expect(await requestsBy(kube, REMEDIATOR_USER)).toHaveLength(requestsBefore);
    expect(await cpuLimit(admin, OPTED_IN, name)).toBe('200m');
    // The same workload with fresh, well-formed evidence about this cluster is still acted on.
    expect((await push(throttle(OPTED_IN, 'Deployment', name))).body).toMatchObject({ outcome: 'applied' });
  });

  it('acknowledges a remediation.result without its remediation detail as a contract rejection, not a 500', async () => {
    const wire = JSON.parse(encodeFinding(sampleRemediation()).toString('utf8')) as Record<string, unknown>;
    wire['remediation'] = null;
    const messageId = randomUUID();
    const response = await post(fn.url, pushBody(Buffer.from(JSON.stringify(wire)), messageId));
    expect(response).toEqual({ status: 200, body: { acknowledged: true, rejected: 'contract' } });
    expect(fn.logs().some((l) => l['event'] === 'push.rejected' && l['messageId'] === messageId && String(l['reason']).includes('needs remediation'))).toBe(true);
  });

  // functions-framework parses the body before the function runs (bodyParser.json, strict); a body
  // it cannot parse used to get Express's HTML 400 page, which Pub/Sub retries until dead-lettered.
  it.each([
    ['a body that is not JSON', 'this is not JSON', 'application/json'],
    ['the JSON null', 'null', 'application/json'],
    ['a truncated JSON body', '{"message":{"data":', 'application/json'],
    ['a JSON body declared as text', 'null', 'text/plain'],
    ['bytes of no charset', '\u00ff\u00fe', 'application/json; charset=ebcdic'],
  ])('acknowledges %s with a JSON answer and a log line, never an HTML page', async (_name, body, contentType) => {
    const rejectedBefore = fn.logs().filter((l) => l['event'] === 'push.rejected').length;
    const response = await postRaw(fn.url, body, contentType);
    expect(response.status).toBe(200);
    expect(response.contentType).toMatch(/^application\/json/);
    expect(JSON.parse(response.text)).toEqual({ acknowledged: true, rejected: 'body' });
    expect(fn.logs().filter((l) => l['event'] === 'push.rejected').length).toBe(rejectedBefore + 1);
  });

  it('acknowledges kinds it does not act on, and logs them', async () => {
    const birth = sampleBirth();
    const messageId = randomUUID();
    expect(await post(fn.url, pushBody(encodeFinding(birth), messageId))).toEqual({ status: 200, body: { acknowledged: true, ignored: 'pod.birth' } });
    expect(fn.logs().some((l) => l['event'] === 'push.ignored' && l['messageId'] === messageId && l['kind'] === 'pod.birth')).toBe(true);
  });

  it('gets only throttle findings through a push subscription with the deployed filter (emulator + filtering relay)', async () => {
    const push = await pushSubscription(topology, { name: `${topology.topic.name.split('/').pop()!}-remediate`, endpoint: fn.url, filter: PUSH_FILTERS.remediate! });
    const publisher = createFindingPublisher({ pubsub, topicName: topology.topic.name.split('/').pop()!, timeoutMs: 10_000 });
    try {
      expect((await push.subscription.getMetadata())[0].filter).toBe(PUSH_FILTERS.remediate);
      const ignoredBefore = fn.logs().filter((l) => l['event'] === 'push.ignored').length;
      const finding = throttle(NOT_OPTED_IN, 'Deployment', 'nothing-here');
      const report = await publisher.publish([sampleBirth(), sampleRemediation(), finding]);
      expect(report.failed).toEqual([]);
      // The throttle finding is pushed and decided; the others are acknowledged without delivery,
      // and so are the remediation.result findings remediate publishes meanwhile.
      expect((await resultFor(finding.id)).remediation.outcome).toBe('skipped');
      const until = Date.now() + 10_000;
      while (push.relay!.counts.filteredOut < 3 && Date.now() < until) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      // At least the birth, the sample result and remediate's own result were filtered out (the
      // emulator also hands a new subscription the topic's retained results of the tests before).
      expect(push.relay!.counts.delivered).toBe(1);
      expect(push.relay!.counts.filteredOut).toBeGreaterThanOrEqual(3);
      expect(fn.logs().filter((l) => l['event'] === 'push.ignored').length).toBe(ignoredBefore);
    } finally {
      await push.subscription.delete();
      await push.close();
    }
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
