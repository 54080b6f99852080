/**
 * Where the local control plane's binaries are: kube-apiserver built by
 * `dev/setup/10-kube-apiserver.sh` into the cache, etcd from Debian's `etcd-server` on the PATH.
 * Either can be overridden with `KG_KUBE_APISERVER` / `KG_ETCD`.
 *
 * @module
 */
import { constants } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';

const moduleDir = path.join(import.meta.dirname, 'apiserver');

/** Thrown when a binary is missing, with the command that provides it. */
export class MissingBinaryError extends Error {
  override readonly name = 'MissingBinaryError';
}

export interface KubeBinaries {
  readonly apiserver: string;
  readonly etcd: string;
  /** The Kubernetes release the apiserver was built from, e.g. `v1.34.4`. */
  readonly version: string;
}

type Env = Readonly<Record<string, string | undefined>>;

const isExecutable = async (file: string): Promise<boolean> => {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/** The Kubernetes release pinned by the wrapper module (`dev/kube/apiserver/VERSION`). */
export const pinnedKubernetesVersion = async (): Promise<string> => (await readFile(path.join(moduleDir, 'VERSION'), 'utf8')).trim();

/** `$KG_CACHE`, defaulting like `.ci/run` does. */
export const cacheDir = (env: Env): string => env['KG_CACHE'] ?? path.join(env['HOME'] ?? homedir(), '.cache', 'kernel-gossip');

const onPath = async (name: string, env: Env): Promise<string | undefined> => {
  for (const dir of (env['PATH'] ?? '').split(path.delimiter)) {
    if (dir !== '' && (await isExecutable(path.join(dir, name)))) {
      return path.join(dir, name);
    }
  }
  return undefined;
};

/** Finds both binaries or throws a {@link MissingBinaryError} that says how to get them. */
export const resolveKubeBinaries = async (env: Env = process.env): Promise<KubeBinaries> => {
  const version = await pinnedKubernetesVersion();
  const apiserver = env['KG_KUBE_APISERVER'] ?? path.join(cacheDir(env), 'bin', `kube-apiserver-${version}`);
  if (!(await isExecutable(apiserver))) {
    throw new MissingBinaryError(
      `kube-apiserver ${version} is not at ${apiserver}: build it once with \`bash dev/setup/10-kube-apiserver.sh\` ` +
        '(10-20 min on a cold Go cache, cached afterwards), or point KG_KUBE_APISERVER at one',
    );
  }
  const etcd = env['KG_ETCD'] ?? (await onPath('etcd', env));
  if (etcd === undefined || !(await isExecutable(etcd))) {
    throw new MissingBinaryError('etcd is not on the PATH: install Debian\'s etcd-server (`bash dev/setup/apt.sh`), or point KG_ETCD at one');
  }
  return { apiserver, etcd, version };
};
