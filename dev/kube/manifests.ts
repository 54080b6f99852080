/**
 * Applies the `k8s/` manifests to a cluster with kubectl, in the order the API needs: CRDs first
 * (then waits until they are established, so custom objects can follow), then everything else.
 *
 * @module
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The repository's `k8s/` folder. */
export const MANIFEST_DIR = path.resolve(import.meta.dirname, '..', '..', 'k8s');

/** The manifest folders under `k8s/`, in apply order. */
export const MANIFEST_GROUPS = ['crds', 'rbac', 'examples'] as const;
export type ManifestGroup = (typeof MANIFEST_GROUPS)[number];

/** Runs kubectl against `kubeconfig` and returns its stdout; the error keeps kubectl's stderr. */
export const kubectl = async (kubeconfig: string, args: readonly string[], timeoutMs = 60_000): Promise<string> => {
  try {
    const { stdout } = await run('kubectl', [`--kubeconfig=${kubeconfig}`, ...args], { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const stderr = (error as { stderr?: unknown }).stderr;
    throw new Error(`kubectl ${args.join(' ')} failed${typeof stderr === 'string' && stderr !== '' ? `: ${stderr.trim()}` : ''}`, { cause: error });
  }
};

/** Applies the given groups of `k8s/` (all by default) and waits for the CRDs to be established. */
export const applyManifests = async (kubeconfig: string, groups: readonly ManifestGroup[] = MANIFEST_GROUPS): Promise<void> => {
  for (const group of MANIFEST_GROUPS.filter((name) => groups.includes(name))) {
    await kubectl(kubeconfig, ['apply', '--recursive', '-f', path.join(MANIFEST_DIR, group)]);
    if (group === 'crds') {
      await kubectl(kubeconfig, ['wait', '--for=condition=Established', '--timeout=30s', '-f', path.join(MANIFEST_DIR, group)]);
    }
  }
};
