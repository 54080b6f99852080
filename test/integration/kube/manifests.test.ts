import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalKube } from '../../../dev/kube/local-kube.ts';
import { MANIFEST_DIR, MANIFEST_GROUPS } from '../../../dev/kube/manifests.ts';
import { clientsFor, type KubeClients, kubectl, startTestKube, statusOf } from '../../support/kube.ts';

/** Every YAML file under k8s/, in apply order (CRDs, RBAC, examples; files sorted within a group). */
const manifestFiles = MANIFEST_GROUPS.flatMap((group) =>
  readdirSync(path.join(MANIFEST_DIR, group), { recursive: true, encoding: 'utf8' })
    .filter((file) => /\.ya?ml$/.test(file))
    .sort()
    .map((file) => path.join(group, file)),
);

const GROUP = 'kernel.gossip.io';
const VERSION = 'v1alpha1';

/** A KernelWhisper as `record` would write it: evidence and verdict in spec. */
const kernelWhisper = (name: string, overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  apiVersion: `${GROUP}/${VERSION}`,
  kind: 'KernelWhisper',
  metadata: { name },
  spec: {
    findingId: `cpu.throttle/${name}/2026-11-27T12:00:00Z`,
    cluster: 'local',
    source: 'local',
    workload: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'checkout' },
    pods: ['checkout-abc123-x1y2z'],
    container: 'app',
    observedWindow: { start: '2026-11-27T12:00:00Z', end: '2026-11-27T12:01:00Z' },
    verdict: 'saturated',
    metricsLie: true,
    evidence: {
      periods: 600,
      throttledPeriods: 417,
      throttledSeconds: 20.85,
      throttledPercent: 69.5,
      cfsQuotaMicros: 50_000,
      cfsPeriodMicros: 100_000,
      cpuLimit: '500m',
      meanUseCores: 0.25,
      meanUsePercentOfLimit: 50,
    },
    recommendation: { cpuLimit: '750m', targetThrottledPercent: 5, reason: 'bursts need a full core; step capped at 1.5x' },
    ...overrides,
  },
});

const podBirthCertificate = (name: string): Record<string, unknown> => ({
  apiVersion: `${GROUP}/${VERSION}`,
  kind: 'PodBirthCertificate',
  metadata: { name },
  spec: {
    findingId: `pod.birth/${name}`,
    pod: { name, uid: '5f0c6a52-1b7e-4c1e-9a53-0d1f3b0f6c11' },
    node: 'node-1',
    workload: { kind: 'Deployment', name: 'checkout' },
    containerCount: 2,
    timeToEntrypoint: '412ms',
    timeToEntrypointMillis: 412,
    syscalls: 1532,
    containers: [
      { name: 'app', cgroupsCreated: 1, namespacesCreated: ['mnt', 'uts', 'ipc', 'pid'], namespacesJoined: ['net'], pivotRoot: true, execs: 1 },
      { name: 'sidecar', cgroupsCreated: 1, limitFilesWritten: [{ file: 'cpu.max', value: '50000 100000' }] },
    ],
  },
});

describe('k8s/ manifests on a real kube-apiserver', () => {
  let kube: LocalKube;
  let admin: KubeClients;

  beforeAll(async () => {
    kube = await startTestKube();
    admin = clientsFor(kube.kubeconfigPath);
  });

  afterAll(async () => {
    await kube.stop();
  });

  it('finds the manifests it checks', () => {
    expect(manifestFiles).toEqual(expect.arrayContaining(['crds/kernelwhispers.kernel.gossip.io.yaml', 'rbac/remediator.yaml', 'examples/20-workloads.yaml']));
  });

  // In apply order, so each file's dry run sees what the files before it created.
  it.each(manifestFiles)('%s is accepted by `kubectl apply --dry-run=server`, then applied', async (file) => {
    const full = path.join(MANIFEST_DIR, file);
    const dryRun = await kubectl(kube.kubeconfigPath, ['apply', '--dry-run=server', '-f', full]);
    expect(dryRun).toMatch(/\(server dry run\)/);
    await kubectl(kube.kubeconfigPath, ['apply', '-f', full]);
    if (file.startsWith('crds/')) {
      await kubectl(kube.kubeconfigPath, ['wait', '--for=condition=Established', '--timeout=30s', '-f', full]);
    }
  });

  it('registers both kinds with their short names and status subresources', async () => {
    const resources = await kubectl(kube.kubeconfigPath, ['api-resources', `--api-group=${GROUP}`, '-o', 'wide']);
    expect(resources).toMatch(/kernelwhispers\s+kw\s+kernel\.gossip\.io\/v1alpha1\s+true\s+KernelWhisper/);
    expect(resources).toMatch(/podbirthcertificates\s+pbc\s+kernel\.gossip\.io\/v1alpha1\s+true\s+PodBirthCertificate/);
  });

  it('validates KernelWhisper objects against the schema', async () => {
    const create = (body: Record<string, unknown>) =>
      statusOf(admin.custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: 'shop', plural: 'kernelwhispers', body }));
    expect(await create(kernelWhisper('schema-ok'))).toBe('ok');
    expect(await create(kernelWhisper('bad-verdict', { verdict: 'Not A Verdict' }))).toBe(422);
    expect(await create(kernelWhisper('bad-window', { observedWindow: { start: '2026-11-27T12:01:00Z', end: '2026-11-27T12:00:00Z' } }))).toBe(422);
    expect(await create(kernelWhisper('bad-limit', { recommendation: { cpuLimit: 'lots' } }))).toBe(422);
    expect(await create(kernelWhisper('bad-percent', { evidence: { throttledPercent: 140 } }))).toBe(422);
    const { findingId: _, ...noFindingId } = kernelWhisper('x').spec as Record<string, unknown>;
    expect(await create({ ...kernelWhisper('missing-id'), spec: noFindingId })).toBe(422);
  });

  it('validates PodBirthCertificate objects against the schema', async () => {
    const create = (body: Record<string, unknown>) =>
      statusOf(admin.custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: 'shop', plural: 'podbirthcertificates', body }));
    const valid = podBirthCertificate('schema-ok-pod');
    const spec = valid['spec'] as Record<string, unknown>;
    expect(await create(valid)).toBe('ok');
    expect(await create({ ...podBirthCertificate('bad-count'), spec: { ...spec, containerCount: 3 } })).toBe(422);
    expect(await create({ ...podBirthCertificate('bad-duration'), spec: { ...spec, timeToEntrypoint: 'soon' } })).toBe(422);
    expect(await create({ ...podBirthCertificate('bad-namespace-kind'), spec: { ...spec, containers: [{ name: 'app', namespacesCreated: ['network'] }], containerCount: 1 } })).toBe(422);
    expect(await create({ ...podBirthCertificate('duplicate-container'), spec: { ...spec, containers: [{ name: 'app' }, { name: 'app' }] } })).toBe(422);
  });

  it('keeps status behind the status subresource', async () => {
    const name = 'status-split';
    await admin.custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: 'shop',
      plural: 'kernelwhispers',
      body: { ...kernelWhisper(name), status: { lastFindingId: 'ignored-on-create' } },
    });
    const created = (await admin.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: 'shop', plural: 'kernelwhispers', name })) as {
      status?: unknown;
      metadata: { resourceVersion: string };
    };
    expect(created.status).toBeUndefined();
    const updated = (await admin.custom.replaceNamespacedCustomObjectStatus({
      group: GROUP,
      version: VERSION,
      namespace: 'shop',
      plural: 'kernelwhispers',
      name,
      body: {
        ...kernelWhisper(name),
        metadata: { name, resourceVersion: created.metadata.resourceVersion },
        status: { lastFindingId: 'f-1', remediation: { mode: 'apply', outcome: 'Applied', reason: 'raised', fromCpuLimit: '500m', toCpuLimit: '750m' } },
      },
    })) as { status?: { lastFindingId?: string } };
    expect(updated.status?.lastFindingId).toBe('f-1');
  });

  it('shows the findings at a glance in `kubectl get kw,pbc -A`', async () => {
    const name = 'checkout-app';
    await admin.custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: 'shop', plural: 'kernelwhispers', body: kernelWhisper(name) });
    const current = (await admin.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: 'shop', plural: 'kernelwhispers', name })) as {
      metadata: { resourceVersion: string };
    };
    await admin.custom.replaceNamespacedCustomObjectStatus({
      group: GROUP,
      version: VERSION,
      namespace: 'shop',
      plural: 'kernelwhispers',
      name,
      body: { ...kernelWhisper(name), metadata: { name, resourceVersion: current.metadata.resourceVersion }, status: { remediation: { outcome: 'Applied', reason: 'raised' } } },
    });
    await admin.custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: 'shop',
      plural: 'podbirthcertificates',
      body: podBirthCertificate('checkout-abc123-x1y2z'),
    });

    const table = await kubectl(kube.kubeconfigPath, ['get', 'kw,pbc', '-A']);
    const lines = table.split('\n');
    const kwHeader = lines.find((line) => line.startsWith('NAMESPACE') && line.includes('VERDICT')) ?? '';
    expect(kwHeader.split(/\s+/)).toEqual(['NAMESPACE', 'NAME', 'WORKLOAD', 'CONTAINER', 'VERDICT', 'THROTTLED%', 'MEANUSE%', 'LIMIT', 'RECOMMENDED', 'ACTION', 'AGE']);
    const kwRow = lines.find((line) => line.includes('kernelwhisper.kernel.gossip.io/checkout-app')) ?? '';
    expect(kwRow.split(/\s+/).slice(0, 10)).toEqual(['shop', 'kernelwhisper.kernel.gossip.io/checkout-app', 'checkout', 'app', 'saturated', '69.5', '50', '500m', '750m', 'Applied']);
    const pbcHeader = lines.find((line) => line.startsWith('NAMESPACE') && line.includes('TOENTRYPOINT')) ?? '';
    expect(pbcHeader.split(/\s+/)).toEqual(['NAMESPACE', 'NAME', 'POD', 'CONTAINERS', 'TOENTRYPOINT', 'AGE']);
    const pbcRow = lines.find((line) => line.includes('podbirthcertificate.kernel.gossip.io/checkout-abc123-x1y2z')) ?? '';
    expect(pbcRow.split(/\s+/).slice(0, 5)).toEqual(['shop', 'podbirthcertificate.kernel.gossip.io/checkout-abc123-x1y2z', 'checkout-abc123-x1y2z', '2', '412ms']);

    const wide = await kubectl(kube.kubeconfigPath, ['get', 'kw', '-n', 'shop', name, '-o', 'wide']);
    expect(wide.split('\n')[0]?.split(/\s+/)).toEqual(expect.arrayContaining(['KIND', 'REASON']));
    expect(wide).toMatch(/Deployment/);
  });
});
