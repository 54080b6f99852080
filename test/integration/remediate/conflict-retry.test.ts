import { KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalKube } from '../../../dev/kube/local-kube.ts';
import { applyManifests } from '../../../dev/kube/manifests.ts';
import { createRemediator } from '../../../shared/kube/remediator.ts';
import { DEFAULT_POLICY } from '../../../shared/kube/policy.ts';
import { sampleThrottle } from '../../support/findings.ts';
import { bindApplyRole, clientsFor, createOwnedPod, type KubeClients, REMEDIATOR_USER, startTestKube } from '../../support/kube.ts';

type RequestContext = Parameters<KubeConfig['applySecurityAuthentication']>[0];

/**
 * A KubeConfig that lets another writer change the workload right before the remediator's first
 * PATCH reaches the API server, so that PATCH carries a stale resourceVersion and the API server
 * answers 409: the race a concurrent change creates, made deterministic.
 */
class RacingKubeConfig extends KubeConfig {
  raced = 0;
  beforeFirstPatch: () => Promise<void> = () => Promise.resolve();

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    if (context.getHttpMethod() === 'PATCH' && this.raced === 0) {
      this.raced += 1;
      await this.beforeFirstPatch();
    }
    await super.applySecurityAuthentication(context);
  }
}

describe('remediator against a real kube-apiserver: a 409 on resourceVersion', () => {
  let kube: LocalKube;
  let admin: KubeClients;

  beforeAll(async () => {
    kube = await startTestKube();
    admin = clientsFor(kube.kubeconfigPath);
    await applyManifests(kube.kubeconfigPath, ['crds', 'rbac']);
    await admin.core.createNamespace({ body: { metadata: { name: 'shop', labels: { 'kernel.gossip.io/remediation': 'enabled' } } } });
    await bindApplyRole(admin, 'shop');
  });

  afterAll(async () => {
    await kube.stop();
  });

  it('is retried: the remediator re-reads, decides again and applies once', async () => {
    await createOwnedPod(admin, 'shop', 'cart', '200m');
    await admin.apps.patchNamespacedDeployment(
      { name: 'cart', namespace: 'shop', body: { metadata: { annotations: { 'kernel.gossip.io/take-ownership': 'cpu-limit' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const kubeConfig = new RacingKubeConfig();
    kubeConfig.loadFromFile(await kube.kubeconfigFor({ user: REMEDIATOR_USER }));
    // Another writer (say, a label added by a person) changes the Deployment between the read and the apply.
    kubeConfig.beforeFirstPatch = async () => {
      await admin.apps.patchNamespacedDeployment(
        { name: 'cart', namespace: 'shop', body: { metadata: { labels: { touched: 'yes' } } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    };
    const remediator = createRemediator({
      kubeConfig,
      operator: { ...DEFAULT_POLICY, mode: 'apply', minConsecutiveWindows: 1 },
      reportingInstance: 'test',
    });
    const finding = sampleThrottle();
    const report = await remediator.remediate({ ...finding, workload: { kind: 'Deployment', name: 'cart', container: 'app' } }, { deadline: new Date(Date.now() + 60_000) });
    expect(kubeConfig.raced).toBe(1);
    expect(report.outcome).toBe('applied');
    expect(report.notes).toContain('retried after a concurrent change of the workload (resourceVersion conflict)');
    const deployment = await admin.apps.readNamespacedDeployment({ name: 'cart', namespace: 'shop' });
    expect(deployment.spec?.template.spec?.containers[0]?.resources?.limits?.['cpu']).toBe('400m');
    expect(deployment.metadata?.labels?.['touched']).toBe('yes');
  });
});
