 
import { access } from 'node:fs/promises';
import { VersionApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pinnedKubernetesVersion } from '../../../dev/kube/binaries.ts';
import type { LocalKube } from '../../../dev/kube/local-kube.ts';
import { IdentityError } from '../../../dev/kube/pki.ts';
import { clientsFor, kubectl, startTestKube, statusOf } from '../../support/kube.ts';
import { isAlive } from '../../support/process.ts';

describe('local kube-apiserver (etcd + kube-apiserver, RBAC on)', () => {
  let kube: LocalKube;

  beforeAll(async () => {
    kube = await startTestKube();
  });

  afterAll(async () => {
    await kube.stop();
  });

  it('serves the pinned Kubernetes release on 127.0.0.1 with TLS', async () => {
    expect(kube.server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const version = await clientsFor(kube.kubeconfigPath).config.makeApiClient(VersionApi).getCode();
    expect(version.gitVersion).toBe(await pinnedKubernetesVersion());
  });

  it('gives the admin kubeconfig cluster-admin rights through system:masters', async () => {
    const admin = clientsFor(kube.kubeconfigPath);
    const review = await admin.authz.createSelfSubjectAccessReview({
      body: { spec: { resourceAttributes: { verb: '*', group: '*', resource: '*' } } },
    });
    expect(review.status?.allowed).toBe(true);
    const whoami = await kubectl(kube.kubeconfigPath, ['auth', 'whoami', '-o', 'json']);
    expect(JSON.parse(whoami)).toMatchObject({ status: { userInfo: { username: 'kernel-gossip-admin', groups: expect.arrayContaining(['system:masters']) as unknown } } });
  });

  it('authenticates minted identities by client certificate and enforces RBAC on them', async () => {
    const user = 'someone@example-project.iam.gserviceaccount.com';
    const someone = clientsFor(await kube.kubeconfigFor({ user, groups: ['team-a'] }));
    const review = await someone.authn.createSelfSubjectReview({ body: {} });
    expect(review.status?.userInfo).toMatchObject({ username: user, groups: expect.arrayContaining(['team-a', 'system:authenticated']) as unknown });
    // No binding names this user, so RBAC (not AlwaysAllow) must refuse.
    expect(await statusOf(someone.core.listNamespacedPod({ namespace: 'default' }))).toBe(403);
    expect(await statusOf(someone.core.listNamespace())).toBe(403);
  });

  it('rejects identities a certificate subject cannot hold, before running openssl', async () => {
    await expect(kube.kubeconfigFor({ user: '/CN=admin/O=system:masters' })).rejects.toThrow(IdentityError);
    await expect(kube.kubeconfigFor({ user: 'ok', groups: ['system:masters\n'] })).rejects.toThrow(IdentityError);
    await expect(kube.kubeconfigFor({ user: `${'a'.repeat(60)}@example.com` })).rejects.toThrow(/at most 64/);
  });

  it('stops cleanly: both processes exit and the temporary folder is removed', async () => {
    const pids = [kube.pids.etcd, kube.pids.apiserver];
    expect(pids.map(isAlive)).toEqual([true, true]);
    await kube.stop();
    expect(pids.map(isAlive)).toEqual([false, false]);
    await expect(access(kube.dir)).rejects.toThrow(/ENOENT/);
    await kube.stop(); // a second stop is harmless
  });
});
