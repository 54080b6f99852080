/**
 * `node dev/kube/main.ts [--apply] [--node]`: starts a local etcd + kube-apiserver (RBAC on), prints
 * one JSON ready line with the admin kubeconfig's path, and runs until SIGINT/SIGTERM, then stops
 * everything and removes its temporary folders. `--apply` also applies `k8s/` (CRDs, RBAC,
 * examples). `--node` makes it a real one-node cluster (dev/kube/node.ts: controller-manager,
 * scheduler, containerd, kubelet; root, and only under `flock /tmp/kg-lab.lock`).
 *
 *   export KUBECONFIG=$(node dev/kube/main.ts --apply | head -1 | jq -r .kubeconfig)   # or read the line
 *
 * @module
 */
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { createLogger } from '../../shared/log.ts';
import { startLocalKube } from './local-kube.ts';
import { applyManifests } from './manifests.ts';
import { startLocalNode } from './node.ts';

const log = createLogger({ labels: { component: 'local-kube' } });

const main = async (): Promise<void> => {
  const { values } = parseArgs({ options: { apply: { type: 'boolean', default: false }, node: { type: 'boolean', default: false } }, strict: true });
  // Listen before starting, so a signal during start-up still stops every process and cleans up.
  const signalled = Promise.race([once(process, 'SIGINT').then(() => 'SIGINT'), once(process, 'SIGTERM').then(() => 'SIGTERM')]);
  const kube = await startLocalKube();
  let stopAll = (): Promise<void> => kube.stop();
  try {
    if (values.node) {
      const node = await startLocalNode({ kube });
      stopAll = async () => {
        await node.stop();
        await kube.stop();
      };
      log.info('local node ready', { node: node.nodeName, image: node.image, startupMs: node.startupMs, kubelet: node.kubeletReadOnlyUrl });
    }
    if (values.apply) {
      await applyManifests(kube.kubeconfigPath);
    }
  } catch (error) {
    await stopAll();
    throw error;
  }
  log.notice('local kube-apiserver ready', {
    kubeconfig: kube.kubeconfigPath,
    server: kube.server,
    version: kube.version,
    startupMs: kube.startupMs,
    manifestsApplied: values.apply,
    node: values.node,
  });
  const signal = await signalled;
  log.info('stopping local cluster', { signal });
  await stopAll();
  log.info('local cluster stopped');
};

main().catch((error: unknown) => {
  log.error('local cluster failed', { error });
  process.exitCode = 1;
});
