/**
 * The pod sources of dev/node against the real kube-apiserver: the pods of one node with the ids of
 * their containers, and each failure (no rights, nothing listening, a bad node name) as a
 * PodSourceError that says what failed, without the credentials.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalKube } from '../../../dev/kube/local-kube.ts';
import { apiServerPods, kubeletPods, listPods, PodSourceError } from '../../../dev/node/pod-sources.ts';
import { freePort } from '../../../dev/process.ts';
import { kubeRequester } from '../../../shared/kube/api.ts';
import { fileKubeConfig } from '../../../shared/kube/connect.ts';
import { startTestKube } from '../../support/kube.ts';

const id = 'ab'.repeat(32);

describe('pod sources', () => {
  let kube: LocalKube;

  beforeAll(async () => {
    kube = await startTestKube();
    const send = kubeRequester(fileKubeConfig(kube.kubeconfigPath));
    await send({ method: 'POST', path: '/api/v1/namespaces', body: { metadata: { name: 'shop' } } });
    await send({ method: 'POST', path: '/api/v1/namespaces/shop/serviceaccounts', body: { metadata: { name: 'default' } } });
    for (const [name, node] of [['here', 'node-a'], ['elsewhere', 'node-b']]) {
      await send({ method: 'POST', path: '/api/v1/namespaces/shop/pods', body: { metadata: { name }, spec: { nodeName: node, automountServiceAccountToken: false, containers: [{ name: 'app', image: 'busybox' }] } } });
    }
    await send({
      method: 'PATCH',
      path: '/api/v1/namespaces/shop/pods/here/status',
      contentType: 'application/merge-patch+json',
      body: { status: { containerStatuses: [{ name: 'app', containerID: `containerd://${id}`, image: 'busybox', imageID: '', ready: true, restartCount: 0 }] } },
    });
  }, 180_000);

  afterAll(async () => {
    await kube.stop();
  });

  it("lists only the node's pods, with the runtime ids of their containers", async () => {
    const pods = await apiServerPods({ kubeconfig: kube.kubeconfigPath, node: 'node-a' })();
    expect(pods.map((p) => [p.namespace, p.name, p.node, p.containers])).toEqual([['shop', 'here', 'node-a', [{ name: 'app', containerId: id, runtime: 'containerd' }]]]);
  });

  it('reports an identity without the right to list pods as a failure of that source', async () => {
    const nobody = await kube.kubeconfigFor({ user: 'nobody', groups: ['team-x'] });
    const listing = await listPods([{ source: 'api-server', list: apiServerPods({ kubeconfig: nobody, node: 'node-a' }) }]);
    expect(listing.sources).toEqual([]);
    expect(listing.failures).toEqual([{ source: 'api-server', error: "the API server's pods of node node-a: HTTP 403" }]);
  });

  it('fails clearly when nothing listens, and refuses a node name that is no DNS subdomain', async () => {
    const port = await freePort();
    await expect(kubeletPods(`http://127.0.0.1:${port}`)()).rejects.toThrow(PodSourceError);
    await expect(kubeletPods(`http://127.0.0.1:${port}`)()).rejects.toThrow(new RegExp(`the kubelet's pod list at http://127.0.0.1:${port}: `));
    expect(() => apiServerPods({ kubeconfig: kube.kubeconfigPath, node: 'a,metadata.name=b' })).toThrow(/is not a Kubernetes node name/);
    expect(() => apiServerPods({ kubeconfig: '/nonexistent/kubeconfig', node: 'a' })).toThrow(/kubeconfig \/nonexistent\/kubeconfig cannot be used/);
  });
});
