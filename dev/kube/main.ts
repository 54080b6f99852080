/**
 * `node dev/kube/main.ts [--apply]`: starts a local etcd + kube-apiserver (RBAC on), prints one
 * JSON ready line with the admin kubeconfig's path, and runs until SIGINT/SIGTERM, then stops both
 * and removes its temporary folder. `--apply` also applies `k8s/` (CRDs, RBAC, examples).
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

const log = createLogger({ labels: { component: 'local-kube' } });

const main = async (): Promise<void> => {
  const { values } = parseArgs({ options: { apply: { type: 'boolean', default: false } }, strict: true });
  // Listen before starting, so a signal during start-up still stops both processes and cleans up.
  const signalled = Promise.race([once(process, 'SIGINT').then(() => 'SIGINT'), once(process, 'SIGTERM').then(() => 'SIGTERM')]);
  const kube = await startLocalKube();
  const stop = async (signal: string): Promise<void> => {
    log.info('stopping local kube-apiserver', { signal });
    await kube.stop();
    log.info('local kube-apiserver stopped');
  };
  try {
    if (values.apply) {
      await applyManifests(kube.kubeconfigPath);
    }
  } catch (error) {
    await kube.stop();
    throw error;
  }
  log.notice('local kube-apiserver ready', {
    kubeconfig: kube.kubeconfigPath,
    server: kube.server,
    version: kube.version,
    startupMs: kube.startupMs,
    manifestsApplied: values.apply,
  });
  await stop(await signalled);
};

main().catch((error: unknown) => {
  log.error('local kube-apiserver failed', { error });
  process.exitCode = 1;
});
