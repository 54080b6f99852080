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

/** The node's binaries: the kubelet and the rest of the control plane (cache), containerd and CNI (Debian). */
export interface NodeBinaries {
  readonly kubelet: string;
  readonly controllerManager: string;
  readonly scheduler: string;
  readonly containerd: string;
  readonly ctr: string;
  /** Folder of the CNI plugins (`bridge`, `host-local`, `loopback`). */
  readonly cniBinDir: string;
}

/** Debian's containernetworking-plugins put them here. */
const DEBIAN_CNI_DIR = '/usr/lib/cni';

/**
 * Finds the node's binaries or throws a {@link MissingBinaryError} naming the set-up step that
 * provides each. Overrides: `KG_KUBELET`, `KG_KUBE_CONTROLLER_MANAGER`, `KG_KUBE_SCHEDULER`,
 * `KG_CONTAINERD`, `KG_CTR`, `KG_CNI_BIN_DIR`.
 */
export const resolveNodeBinaries = async (env: Env = process.env): Promise<NodeBinaries> => {
  const version = await pinnedKubernetesVersion();
  const built = async (component: string, override: string): Promise<string> => {
    const file = env[override] ?? path.join(cacheDir(env), 'bin', `${component}-${version}`);
    if (!(await isExecutable(file))) {
      throw new MissingBinaryError(`${component} ${version} is not at ${file}: build it once with \`bash dev/setup/11-kube-node.sh\`, or point ${override} at one`);
    }
    return file;
  };
  const debian = async (name: string, override: string): Promise<string> => {
    const file = env[override] ?? (await onPath(name, env));
    if (file === undefined || !(await isExecutable(file))) {
      throw new MissingBinaryError(`${name} is not on the PATH: install Debian's containerd (\`bash dev/setup/apt.sh\`), or point ${override} at one`);
    }
    return file;
  };
  const cniBinDir = env['KG_CNI_BIN_DIR'] ?? DEBIAN_CNI_DIR;
  for (const plugin of ['bridge', 'host-local', 'loopback']) {
    if (!(await isExecutable(path.join(cniBinDir, plugin)))) {
      throw new MissingBinaryError(`the CNI plugin ${plugin} is not in ${cniBinDir}: install Debian's containernetworking-plugins (\`bash dev/setup/apt.sh\`), or point KG_CNI_BIN_DIR at them`);
    }
  }
  return {
    kubelet: await built('kubelet', 'KG_KUBELET'),
    controllerManager: await built('kube-controller-manager', 'KG_KUBE_CONTROLLER_MANAGER'),
    scheduler: await built('kube-scheduler', 'KG_KUBE_SCHEDULER'),
    containerd: await debian('containerd', 'KG_CONTAINERD'),
    ctr: await debian('ctr', 'KG_CTR'),
    cniBinDir,
  };
};
