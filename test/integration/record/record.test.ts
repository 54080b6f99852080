import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalKube } from '../../../dev/kube/local-kube.ts';
import { applyManifests, kubectl } from '../../../dev/kube/manifests.ts';
import { encodeFinding } from '../../../shared/findings/codec.ts';
import type { BirthFinding } from '../../../shared/findings/types.ts';
import { sampleBirth, sampleRemediation, sampleThrottle } from '../../support/findings.ts';
import { post, pushBody, type RunningFunction, startFunction } from '../../support/functions.ts';
import { clientsFor, type KubeClients, startTestKube } from '../../support/kube.ts';

const RECORDER_USER = 'kernel-gossip-recorder@PROJECT_ID.iam.gserviceaccount.com';
const target = { group: 'kernel.gossip.io', version: 'v1alpha1', namespace: 'shop' } as const;

describe('record (built bundle) against a real kube-apiserver, as the recorder identity', () => {
  let kube: LocalKube;
  let admin: KubeClients;
  let fn: RunningFunction;
  const cleanups: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    kube = await startTestKube();
    cleanups.push(() => kube.stop());
    admin = clientsFor(kube.kubeconfigPath);
    await applyManifests(kube.kubeconfigPath, ['crds', 'rbac']);
    await admin.core.createNamespace({ body: { metadata: { name: 'shop' } } });
    fn = await startFunction('record', { KUBECONFIG: await kube.kubeconfigFor({ user: RECORDER_USER }), KG_CLUSTER_NAME: 'lab' });
    cleanups.push(() => fn.stop());
  });

  afterAll(async () => {
    for (const stop of cleanups.reverse()) {
      await stop();
    }
  });

  const push = async (data: Buffer) => post(fn.url, pushBody(data, randomUUID()));
  const get = async (plural: string, name: string) => (await admin.custom.getNamespacedCustomObject({ ...target, plural, name })) as Record<string, Record<string, unknown>>;

  it('keeps a throttle finding as a KernelWhisper, then its remediation as the status, idempotently', async () => {
    expect((await push(encodeFinding(sampleThrottle()))).status).toBe(200);
    const whisper = await get('kernelwhispers', 'cart-app');
    expect(whisper['spec']).toMatchObject({
      findingId: sampleThrottle().id,
      verdict: 'metrics-lie',
      container: 'app',
      workload: { kind: 'Deployment', name: 'cart' },
      evidence: { throttledPercent: 40, cpuLimit: '200m', periods: 600, throttledPeriods: 240 },
      recommendation: { cpuLimit: '400m' },
    });
    const version = (whisper['metadata'] as { resourceVersion: string }).resourceVersion;
    // The same finding again changes nothing.
    expect((await push(encodeFinding(sampleThrottle()))).status).toBe(200);
    expect(((await get('kernelwhispers', 'cart-app'))['metadata'] as { resourceVersion: string }).resourceVersion).toBe(version);

    expect((await push(encodeFinding(sampleRemediation()))).status).toBe(200);
    const decided = await get('kernelwhispers', 'cart-app');
    expect(decided['status']).toMatchObject({ remediation: { outcome: 'Applied', mode: 'apply', fromCpuLimit: '200m', toCpuLimit: '400m' } });
    const table = await kubectl(kube.kubeconfigPath, ['get', 'kw,pbc', '-A']);
    expect(table).toMatch(/shop\s+kernelwhisper\.kernel\.gossip\.io\/cart-app\s+cart\s+app\s+metrics-lie\s+40\s+31\s+200m\s+400m\s+Applied/);
  });

  it('keeps a birth certificate, and merges the parts of a split one', async () => {
    expect((await push(encodeFinding(sampleBirth()))).status).toBe(200);
    const pbc = await get('podbirthcertificates', 'cart-7d9f8-abcde');
    expect(pbc['spec']).toMatchObject({ pod: { name: 'cart-7d9f8-abcde' }, containerCount: 1, timeToEntrypoint: '41ms' });
    const base = sampleBirth();
    const part = (name: string, index: number): BirthFinding => ({
      ...base,
      id: `${'a'.repeat(31)}${index}`,
      birth: { ...base.birth, pod: 'split-pod', containers: [{ ...base.birth.containers[0]!, name }], part: index, parts: 2 },
    });
    expect((await push(encodeFinding(part('one', 1)))).status).toBe(200);
    expect((await push(encodeFinding(part('two', 2)))).status).toBe(200);
    const split = await get('podbirthcertificates', 'split-pod');
    expect((split['spec']!['containers'] as { name: string }[]).map((c) => c.name).sort()).toEqual(['one', 'two']);
  });

  it('asks for redelivery of a decision that arrived before its finding was recorded', async () => {
    const early = { ...sampleRemediation(), workload: { kind: 'Deployment', name: 'not-yet', container: 'app' } };
    const response = await push(encodeFinding(early));
    expect(response.status).toBe(503);
  });

  it.each([
    ['get', 'secrets', '', false],
    ['patch', 'deployments', 'apps', false],
    ['get', 'pods', '', false],
    ['patch', 'kernelwhispers', 'kernel.gossip.io', true],
    ['create', 'podbirthcertificates', 'kernel.gossip.io', true],
    ['delete', 'kernelwhispers', 'kernel.gossip.io', false],
  ] as const)('its identity may %s %s (%s): %s', async (verb, resource, group, allowed) => {
    const review = await admin.authz.createSubjectAccessReview({
      body: { spec: { user: RECORDER_USER, groups: ['system:authenticated'], resourceAttributes: { verb, resource, group, namespace: 'shop' } } },
    });
    expect(review.status?.allowed).toBe(allowed);
  });

  it('acknowledges malformed pushes without writing anything', async () => {
    const before = (await admin.custom.listNamespacedCustomObject({ ...target, plural: 'kernelwhispers' })) as { items: unknown[] };
    for (const body of [pushBody('***', 'm1'), pushBody(Buffer.from('{"kind":"cpu.throttle"}'), 'm2'), { nothing: true }]) {
      const response = await post(fn.url, body);
      expect(response).toMatchObject({ status: 200, body: { acknowledged: true } });
    }
    const after = (await admin.custom.listNamespacedCustomObject({ ...target, plural: 'kernelwhispers' })) as { items: unknown[] };
    expect(after.items).toHaveLength(before.items.length);
  });

  it('writes nothing for a finding or a decision about another cluster (one topic, several clusters; remediate refusing a foreign finding)', async () => {
    const foreign = { ...sampleThrottle(), cluster: 'prod-eu-2', workload: { kind: 'Deployment', name: 'elsewhere', container: 'app' } } as const;
    const base = sampleRemediation();
    // remediate's answer to a foreign finding names this cluster (docs/deployment.md, "Evidence
    // remediate acts on") and the foreign workload's names; one from the other cluster names that one.
    const refusal = { ...base, remediation: { ...base.remediation, outcome: 'skipped', refusal: 'foreign-cluster', reason: 'the finding is about cluster "prod-eu-2"' } } as const;
    const foreignResult = { ...base, cluster: 'prod-eu-2', remediation: { ...base.remediation, outcome: 'skipped', reason: 'not opted in' } } as const;
    for (const finding of [foreign, refusal, foreignResult]) {
      expect(await push(encodeFinding(finding))).toMatchObject({ status: 200, body: { acknowledged: true, skipped: 'foreign-cluster' } });
    }
    await expect(get('kernelwhispers', 'elsewhere-app')).rejects.toThrow(/404|not found/i);
    // The foreign decision names cart-app, which this cluster has: its status is left as it was.
    const whisper = await get('kernelwhispers', 'cart-app');
    expect(whisper['status']).toMatchObject({ remediation: { outcome: 'Applied' } });
  });
});
