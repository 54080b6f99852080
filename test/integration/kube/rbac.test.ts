 
import { ApiException, PatchStrategy, setHeaderOptions, V1MicroTime } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalKube } from '../../../dev/kube/local-kube.ts';
import { applyManifests } from '../../../dev/kube/manifests.ts';
import { clientsFor, createOwnedPod, type KubeClients, kubectl, type OwnedPod, REMEDIATOR_USER, startTestKube, statusOf } from '../../support/kube.ts';

/** `shop` opted in and has the apply RoleBinding (k8s/examples); `batch` did not opt in. */
const OPTED_IN = 'shop';
const NOT_OPTED_IN = 'batch';

interface Access {
  readonly verb: string;
  readonly resource: string;
  readonly group?: string;
  readonly subresource?: string;
  readonly namespace?: string;
}

const describeAccess = (a: Access): string =>
  `${a.verb} ${a.group ? `${a.group}/` : ''}${a.resource}${a.subresource ? `/${a.subresource}` : ''} ${a.namespace ? `in ${a.namespace}` : 'cluster-wide'}`;

/** What the remediator needs, and nothing else. */
const ALLOWED: readonly Access[] = [
  { verb: 'get', resource: 'pods', namespace: NOT_OPTED_IN },
  { verb: 'list', resource: 'pods' },
  { verb: 'watch', resource: 'pods', namespace: OPTED_IN },
  { verb: 'get', resource: 'namespaces' },
  { verb: 'list', resource: 'namespaces' },
  ...['replicasets', 'deployments', 'statefulsets', 'daemonsets'].flatMap((resource) => [
    { verb: 'get', group: 'apps', resource, namespace: NOT_OPTED_IN },
    { verb: 'list', group: 'apps', resource },
  ]),
  { verb: 'list', group: 'autoscaling', resource: 'horizontalpodautoscalers', namespace: OPTED_IN },
  { verb: 'create', resource: 'events', namespace: NOT_OPTED_IN },
  { verb: 'patch', resource: 'events', namespace: OPTED_IN },
  { verb: 'create', group: 'events.k8s.io', resource: 'events', namespace: OPTED_IN },
  ...['kernelwhispers', 'podbirthcertificates'].flatMap((resource) => [
    ...['get', 'list', 'create', 'patch', 'update'].map((verb) => ({ verb, group: 'kernel.gossip.io', resource, namespace: NOT_OPTED_IN })),
    ...['get', 'patch', 'update'].map((verb) => ({ verb, group: 'kernel.gossip.io', resource, subresource: 'status', namespace: OPTED_IN })),
  ]),
  // Writes to workloads: only where the namespace opted in and bound the apply role.
  { verb: 'patch', group: 'apps', resource: 'deployments', namespace: OPTED_IN },
  { verb: 'patch', group: 'apps', resource: 'statefulsets', namespace: OPTED_IN },
  { verb: 'patch', resource: 'pods', subresource: 'resize', namespace: OPTED_IN },
];

const DENIED: readonly Access[] = [
  // Secrets, anywhere, in any way.
  ...['get', 'list', 'watch'].flatMap((verb) => [
    { verb, resource: 'secrets', namespace: OPTED_IN },
    { verb, resource: 'secrets' },
  ]),
  { verb: 'get', resource: 'configmaps', namespace: OPTED_IN },
  // Workload writes outside opted-in namespaces.
  { verb: 'patch', group: 'apps', resource: 'deployments', namespace: NOT_OPTED_IN },
  { verb: 'patch', group: 'apps', resource: 'statefulsets', namespace: NOT_OPTED_IN },
  { verb: 'patch', resource: 'pods', subresource: 'resize', namespace: NOT_OPTED_IN },
  { verb: 'patch', group: 'apps', resource: 'deployments', namespace: 'kube-system' },
  { verb: 'patch', group: 'apps', resource: 'deployments' },
  // Even where it may patch, nothing beyond patch.
  { verb: 'update', group: 'apps', resource: 'deployments', namespace: OPTED_IN },
  { verb: 'create', group: 'apps', resource: 'deployments', namespace: OPTED_IN },
  { verb: 'delete', group: 'apps', resource: 'deployments', namespace: OPTED_IN },
  { verb: 'patch', group: 'apps', resource: 'daemonsets', namespace: OPTED_IN },
  { verb: 'patch', group: 'apps', resource: 'replicasets', namespace: OPTED_IN },
  { verb: 'patch', resource: 'pods', namespace: OPTED_IN },
  { verb: 'delete', resource: 'pods', namespace: OPTED_IN },
  { verb: 'create', resource: 'pods', subresource: 'eviction', namespace: OPTED_IN },
  { verb: 'create', resource: 'pods', subresource: 'exec', namespace: OPTED_IN },
  { verb: 'delete', group: 'kernel.gossip.io', resource: 'kernelwhispers', namespace: OPTED_IN },
  { verb: 'delete', resource: 'events', namespace: OPTED_IN },
  // Cluster-wide writes.
  { verb: 'create', resource: 'namespaces' },
  { verb: 'patch', resource: 'namespaces' },
  { verb: 'patch', resource: 'nodes' },
  { verb: 'get', resource: 'nodes' },
  { verb: 'create', group: 'rbac.authorization.k8s.io', resource: 'clusterrolebindings' },
  { verb: 'create', group: 'rbac.authorization.k8s.io', resource: 'rolebindings', namespace: NOT_OPTED_IN },
  { verb: 'bind', group: 'rbac.authorization.k8s.io', resource: 'clusterroles' },
  { verb: 'escalate', group: 'rbac.authorization.k8s.io', resource: 'clusterroles' },
  { verb: 'impersonate', resource: 'users' },
  { verb: 'create', group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions' },
  { verb: 'create', resource: 'serviceaccounts', subresource: 'token', namespace: OPTED_IN },
];

const resourceAttributes = (a: Access) => ({
  verb: a.verb,
  group: a.group ?? '',
  resource: a.resource,
  ...(a.subresource ? { subresource: a.subresource } : {}),
  ...(a.namespace ? { namespace: a.namespace } : {}),
});

describe('RBAC of the remediator identity (k8s/rbac applied, acting as the Google service account user)', () => {
  let kube: LocalKube;
  let admin: KubeClients;
  let remediator: KubeClients;
  let optedIn: OwnedPod;
  let notOptedIn: OwnedPod;

  beforeAll(async () => {
    kube = await startTestKube();
    admin = clientsFor(kube.kubeconfigPath);
    await applyManifests(kube.kubeconfigPath);
    remediator = clientsFor(await kube.kubeconfigFor({ user: REMEDIATOR_USER }));
    optedIn = await createOwnedPod(admin, OPTED_IN, 'rbac-api', '500m');
    notOptedIn = await createOwnedPod(admin, NOT_OPTED_IN, 'rbac-report', '500m');
    await admin.core.createNamespacedSecret({ namespace: OPTED_IN, body: { metadata: { name: 'db-password' }, stringData: { password: 'not-for-the-remediator' } } });
  });

  afterAll(async () => {
    await kube.stop();
  });

  it('authenticates as the service account email, with no extra groups', async () => {
    const review = await remediator.authn.createSelfSubjectReview({ body: {} });
    expect(review.status?.userInfo?.username).toBe(REMEDIATOR_USER);
    expect(review.status?.userInfo?.groups).toEqual(['system:authenticated']);
  });

  it.each(ALLOWED.map((a) => [describeAccess(a), a] as const))('may %s (self and subject access review agree)', async (_, access) => {
    const self = await remediator.authz.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: resourceAttributes(access) } } });
    expect(self.status?.allowed).toBe(true);
    const subject = await admin.authz.createSubjectAccessReview({ body: { spec: { user: REMEDIATOR_USER, groups: ['system:authenticated'], resourceAttributes: resourceAttributes(access) } } });
    expect(subject.status?.allowed).toBe(true);
  });

  it.each(DENIED.map((a) => [describeAccess(a), a] as const))('may not %s (self and subject access review agree)', async (_, access) => {
    const self = await remediator.authz.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: resourceAttributes(access) } } });
    expect(self.status?.allowed).toBe(false);
    const subject = await admin.authz.createSubjectAccessReview({ body: { spec: { user: REMEDIATOR_USER, groups: ['system:authenticated'], resourceAttributes: resourceAttributes(access) } } });
    expect(subject.status?.allowed).toBe(false);
  });

  it('resolves a pod to its Deployment and reads the opt-in label with real requests', async () => {
    const pod = await remediator.core.readNamespacedPod({ namespace: OPTED_IN, name: optedIn.pod.metadata!.name! });
    const rsRef = pod.metadata?.ownerReferences?.[0];
    expect(rsRef).toMatchObject({ kind: 'ReplicaSet' });
    const rs = await remediator.apps.readNamespacedReplicaSet({ namespace: OPTED_IN, name: rsRef!.name });
    const deployRef = rs.metadata?.ownerReferences?.[0];
    expect(deployRef).toMatchObject({ kind: 'Deployment', name: 'rbac-api', uid: optedIn.deployment.metadata!.uid! });
    const namespace = await remediator.core.readNamespace({ name: OPTED_IN });
    expect(namespace.metadata?.labels?.['kernel.gossip.io/remediation']).toBe('enabled');
    const other = await remediator.core.readNamespace({ name: NOT_OPTED_IN });
    expect(other.metadata?.labels?.['kernel.gossip.io/remediation']).toBeUndefined();
    const optedInNamespaces = await remediator.core.listNamespace({ labelSelector: 'kernel.gossip.io/remediation=enabled' });
    expect(optedInNamespaces.items.map((n) => n.metadata?.name)).toEqual([OPTED_IN]);
  });

  it('may patch a Deployment in the opted-in namespace: SSA reaches the conflict check, a merge patch applies', async () => {
    const limitPatch = (cpu: string) => ({ spec: { template: { spec: { containers: [{ name: 'app', resources: { limits: { cpu } } }] } } } });
    // Server-side apply without force: authorized, and the API names the manager that owns the limit
    // (here the client that created the Deployment), which is what `remediate` reports as a conflict.
    const conflict = await remediator.apps
      .patchNamespacedDeployment(
        {
          namespace: OPTED_IN,
          name: 'rbac-api',
          fieldManager: 'kernel-gossip-remediator',
          body: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'rbac-api', namespace: OPTED_IN }, ...limitPatch('750m') },
        },
        setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
      )
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(conflict).toBeInstanceOf(ApiException);
    expect((conflict as ApiException<string>).code).toBe(409);
    expect(JSON.parse((conflict as ApiException<string>).body)).toMatchObject({
      reason: 'Conflict',
      details: { causes: [{ reason: 'FieldManagerConflict', field: '.spec.template.spec.containers[name="app"].resources.limits.cpu' }] },
    });
    const patched = await remediator.apps.patchNamespacedDeployment(
      { namespace: OPTED_IN, name: 'rbac-api', fieldManager: 'kernel-gossip-remediator', body: limitPatch('750m') },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    expect(patched.spec?.template.spec?.containers[0]?.resources?.limits?.['cpu']).toBe('750m');
    expect(patched.metadata?.managedFields?.map((m) => m.manager)).toContain('kernel-gossip-remediator');
  });

  it('resizes a running pod in place in the opted-in namespace (pods/resize)', async () => {
    const resized = await remediator.core.patchNamespacedPodResize(
      {
        namespace: OPTED_IN,
        name: optedIn.pod.metadata!.name!,
        body: { spec: { containers: [{ name: 'app', resources: { limits: { cpu: '750m' } } }] } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    expect(resized.spec?.containers[0]?.resources?.limits?.['cpu']).toBe('750m');
  });

  it('is refused (403) on the same writes where the namespace did not opt in', async () => {
    const ssa = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);
    expect(
      await statusOf(
        remediator.apps.patchNamespacedDeployment(
          {
            namespace: NOT_OPTED_IN,
            name: 'rbac-report',
            fieldManager: 'kernel-gossip-remediator',
            body: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'rbac-report', namespace: NOT_OPTED_IN }, spec: { template: { spec: { containers: [{ name: 'app', resources: { limits: { cpu: '750m' } } }] } } } },
          },
          ssa,
        ),
      ),
    ).toBe(403);
    expect(
      await statusOf(
        remediator.core.patchNamespacedPodResize(
          { namespace: NOT_OPTED_IN, name: notOptedIn.pod.metadata!.name!, body: { spec: { containers: [{ name: 'app', resources: { limits: { cpu: '750m' } } }] } } },
          setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
        ),
      ),
    ).toBe(403);
    const unchanged = await admin.apps.readNamespacedDeployment({ namespace: NOT_OPTED_IN, name: 'rbac-report' });
    expect(unchanged.spec?.template.spec?.containers[0]?.resources?.limits?.['cpu']).toBe('500m');
  });

  it('is refused (403) on Secrets and cluster-wide writes, with real requests', async () => {
    expect(await statusOf(remediator.core.listNamespacedSecret({ namespace: OPTED_IN }))).toBe(403);
    expect(await statusOf(remediator.core.readNamespacedSecret({ namespace: OPTED_IN, name: 'db-password' }))).toBe(403);
    expect(await statusOf(remediator.core.listSecretForAllNamespaces())).toBe(403);
    expect(await statusOf(remediator.core.createNamespace({ body: { metadata: { name: 'remediator-made' } } }))).toBe(403);
    expect(
      await statusOf(
        remediator.rbac.createClusterRoleBinding({
          body: { metadata: { name: 'escalate' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: REMEDIATOR_USER }] },
        }),
      ),
    ).toBe(403);
    expect(await statusOf(remediator.apps.deleteNamespacedDeployment({ namespace: OPTED_IN, name: 'rbac-api' }))).toBe(403);
  });

  it('records an Event on the workload and writes KernelWhisper status', async () => {
    const event = await remediator.events.createNamespacedEvent({
      namespace: OPTED_IN,
      body: {
        metadata: { generateName: 'rbac-api-' },
        eventTime: new V1MicroTime(),
        reportingController: 'kernel.gossip.io/remediator',
        reportingInstance: 'test',
        action: 'RaiseCPULimit',
        reason: 'CPUThrottled',
        note: 'raised the CPU limit of app from 500m to 750m',
        type: 'Normal',
        regarding: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'rbac-api', namespace: OPTED_IN, uid: optedIn.deployment.metadata!.uid! },
      },
    });
    expect(event.metadata?.name).toMatch(/^rbac-api-/);
    const body = {
      apiVersion: 'kernel.gossip.io/v1alpha1',
      kind: 'KernelWhisper',
      metadata: { name: 'rbac-report-app' },
      spec: {
        findingId: 'f-42',
        workload: { kind: 'Deployment', name: 'rbac-report' },
        container: 'app',
        observedWindow: { start: '2026-11-27T12:00:00Z', end: '2026-11-27T12:01:00Z' },
        verdict: 'saturated',
      },
    };
    const target = { group: 'kernel.gossip.io', version: 'v1alpha1', namespace: NOT_OPTED_IN, plural: 'kernelwhispers', name: 'rbac-report-app' };
    expect(await statusOf(remediator.custom.createNamespacedCustomObject({ ...target, body }))).toBe('ok');
    const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    await remediator.custom.patchNamespacedCustomObjectStatus({ ...target, body: { status: { lastFindingId: 'f-42', remediation: { mode: 'recommend', outcome: 'Skipped', reason: 'not-opted-in' } } } }, merge);
    const stored = (await remediator.custom.getNamespacedCustomObject(target)) as { status?: { remediation?: { reason?: string } } };
    expect(stored.status?.remediation?.reason).toBe('not-opted-in');
    expect(await statusOf(remediator.custom.deleteNamespacedCustomObject(target))).toBe(403);
  });

  it('cannot be given the apply role in kube-system, even by a cluster admin (admission policy)', async () => {
    const binding = (namespace: string, name: string) => ({
      namespace,
      body: {
        metadata: { name },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'kernel-gossip-remediator-apply' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: REMEDIATOR_USER }],
      },
    });
    // A policy becomes active shortly after it is created (its informer must see it): retry until it bites.
    const deadline = Date.now() + 20_000;
    let status = await statusOf(admin.rbac.createNamespacedRoleBinding(binding('kube-system', 'kernel-gossip-apply')));
    while (status === 'ok' && Date.now() < deadline) {
      await admin.rbac.deleteNamespacedRoleBinding({ namespace: 'kube-system', name: 'kernel-gossip-apply' });
      await new Promise((resolve) => setTimeout(resolve, 250));
      status = await statusOf(admin.rbac.createNamespacedRoleBinding(binding('kube-system', 'kernel-gossip-apply')));
    }
    expect(status).toBe(403);
    const review = await admin.authz.createSubjectAccessReview({
      body: { spec: { user: REMEDIATOR_USER, groups: ['system:authenticated'], resourceAttributes: { verb: 'patch', group: 'apps', resource: 'deployments', namespace: 'kube-system' } } },
    });
    expect(review.status?.allowed).toBe(false);
    // The same binding elsewhere is fine: the policy targets kube-system only.
    await admin.core.createNamespace({ body: { metadata: { name: 'vap-control' } } });
    expect(await statusOf(admin.rbac.createNamespacedRoleBinding(binding('vap-control', 'kernel-gossip-apply')))).toBe('ok');
  });

  it('agrees with `kubectl auth can-i --as` (admin impersonating the remediator)', async () => {
    const canI = async (...args: string[]): Promise<string> =>
      (await kubectl(kube.kubeconfigPath, ['auth', 'can-i', ...args, `--as=${REMEDIATOR_USER}`]).catch((error: unknown) => {
        // can-i exits 1 when the answer is no; the answer is still on stdout.
        const stdout = (error as { cause?: { stdout?: unknown } }).cause?.stdout;
        if (typeof stdout === 'string') {
          return stdout;
        }
        throw error;
      })).trim();
    expect(await canI('patch', 'deployments.apps', '-n', OPTED_IN)).toBe('yes');
    expect(await canI('patch', 'deployments.apps', '-n', NOT_OPTED_IN)).toBe('no');
    expect(await canI('get', 'secrets', '-n', OPTED_IN)).toBe('no');
    expect(await canI('list', 'secrets', '--all-namespaces')).toBe('no');
    expect(await canI('patch', 'pods', '--subresource=resize', '-n', OPTED_IN)).toBe('yes');
  });
});
