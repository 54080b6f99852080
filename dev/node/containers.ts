/**
 * Every container cgroup of this host, from the cgroup filesystem (the adapter around the pure
 * parsing of shared/pxl/cgroup-identity.ts): the kubepods trees of the hierarchy that holds the
 * `cpu` controller (v1: its own mount; v2: the unified mount), each container with its runtime's
 * container id, pod uid and CFS limit. CPU-limited cgroups inside kubepods whose names fit no known
 * layout are returned as `unrecognized`, never dropped.
 *
 * @module
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { type ContainerCgroup, isKubepodsLevel, parseContainerCgroupPath } from '../../shared/pxl/cgroup-identity.ts';
import { type CpuLimit, parseCpuMax, parseV1CpuLimit } from './cpu-limit.ts';

/** The cgroup hierarchy that carries CFS bandwidth (the `cpu` controller). */
export interface CpuHierarchy {
  readonly mount: string;
  readonly version: 1 | 2;
}

export interface HostContainer {
  /** The cgroup's path inside its hierarchy, e.g. `/kubepods/burstable/pod<uid>/<id>`. */
  readonly cgroupPath: string;
  readonly identity: ContainerCgroup;
  /** Undefined when the container has no CPU limit. */
  readonly limit: CpuLimit | undefined;
}

/** A CPU-limited cgroup inside kubepods whose name fits no known layout. */
export interface UnrecognizedCgroup {
  readonly cgroupPath: string;
  readonly limit: CpuLimit;
}

export interface NodeContainers {
  readonly hierarchy: CpuHierarchy;
  readonly containers: readonly HostContainer[];
  readonly unrecognized: readonly UnrecognizedCgroup[];
}

/** This host offers no cgroup hierarchy with the cpu controller, or one could not be read. */
export class NodeDiscoveryError extends Error {
  override readonly name = 'NodeDiscoveryError';
}

/** Mount points from /proc/self/mounts text (pure): v1 mounts carrying `cpu`, and every cgroup2 mount. */
export const cpuMountCandidates = (mounts: string): { readonly v1: readonly string[]; readonly v2: readonly string[] } => {
  const v1: string[] = [];
  const v2: string[] = [];
  for (const [, mount, type, options] of mounts.split('\n').map((line) => line.split(' '))) {
    if (mount === undefined) {
      continue;
    }
    if (type === 'cgroup' && (options ?? '').split(',').includes('cpu')) {
      v1.push(mount);
    } else if (type === 'cgroup2') {
      v2.push(mount);
    }
  }
  return { v1, v2 };
};

/**
 * The hierarchy with the cpu controller: the v1 `cpu` mount, else a cgroup2 mount whose root lists
 * `cpu` in cgroup.controllers (a hybrid host's empty /sys/fs/cgroup/unified does not).
 */
export const findCpuHierarchy = async (mountsFile = '/proc/self/mounts'): Promise<CpuHierarchy> => {
  const candidates = cpuMountCandidates(await readFile(mountsFile, 'utf8'));
  const v1 = candidates.v1[0];
  if (v1 !== undefined) {
    return { mount: v1, version: 1 };
  }
  for (const mount of candidates.v2) {
    const controllers = await readFile(path.join(mount, 'cgroup.controllers'), 'utf8').catch(() => '');
    if (controllers.trim().split(/\s+/).includes('cpu')) {
      return { mount, version: 2 };
    }
  }
  throw new NodeDiscoveryError('no cgroup hierarchy on this host has the cpu controller (checked the cgroup and cgroup2 mounts of /proc/self/mounts)');
};

const isMissing = (error: unknown): boolean => ['ENOENT', 'ENODEV'].includes(String((error as { code?: unknown }).code));

const subdirectories = async (dir: string): Promise<string[]> => {
  try {
    return (await readdir(dir, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  } catch (error) {
    if (isMissing(error)) {
      return [];
    }
    throw new NodeDiscoveryError(`cannot list ${dir}`, { cause: error });
  }
};

/** The CPU limit of a cgroup, undefined for none, or 'gone' when it vanished meanwhile. */
export const readCpuLimit = async (hierarchy: CpuHierarchy, cgroupPath: string): Promise<CpuLimit | undefined | 'gone'> => {
  const dir = path.join(hierarchy.mount, cgroupPath);
  try {
    if (hierarchy.version === 2) {
      return parseCpuMax(await readFile(path.join(dir, 'cpu.max'), 'utf8'));
    }
    const [quota, period] = await Promise.all([readFile(path.join(dir, 'cpu.cfs_quota_us'), 'utf8'), readFile(path.join(dir, 'cpu.cfs_period_us'), 'utf8')]);
    return parseV1CpuLimit(quota, period);
  } catch (error) {
    if (isMissing(error)) {
      return 'gone';
    }
    throw new NodeDiscoveryError(`cannot read the CPU limit of ${cgroupPath}`, { cause: error });
  }
};

/** Depth below the hierarchy root searched for kubepods roots (a kubelet in a container: `/docker/<id>/kubepods`). */
const ROOT_SEARCH_DEPTH = 3;
const isKubepodsRoot = (name: string): boolean => name === 'kubepods' || /^(?:[a-z0-9_]+-)*kubepods\.slice$/.test(name);

const kubepodsRoots = async (hierarchy: CpuHierarchy): Promise<string[]> => {
  const roots: string[] = [];
  let level = ['/'];
  for (let depth = 0; depth < ROOT_SEARCH_DEPTH && level.length > 0; depth += 1) {
    const next: string[] = [];
    for (const dir of level) {
      for (const name of await subdirectories(path.join(hierarchy.mount, dir))) {
        (isKubepodsRoot(name) ? roots : next).push(path.posix.join(dir, name));
      }
    }
    level = next;
  }
  return roots;
};

/** Every container cgroup under the kubepods roots of `hierarchy` (default: this host's cpu hierarchy). */
export const discoverContainers = async (hierarchy?: CpuHierarchy): Promise<NodeContainers> => {
  const used = hierarchy ?? (await findCpuHierarchy());
  const containers: HostContainer[] = [];
  const unrecognized: UnrecognizedCgroup[] = [];
  const visit = async (cgroupPath: string): Promise<void> => {
    const identity = parseContainerCgroupPath(cgroupPath);
    if (identity === undefined && isKubepodsLevel(cgroupPath)) {
      for (const name of await subdirectories(path.join(used.mount, cgroupPath))) {
        await visit(path.posix.join(cgroupPath, name));
      }
      return;
    }
    // A container (or something unknown inside kubepods): nothing below it is walked.
    const limit = await readCpuLimit(used, cgroupPath);
    if (limit === 'gone') {
      return;
    }
    if (identity !== undefined) {
      containers.push({ cgroupPath, identity, limit });
    } else if (limit !== undefined) {
      unrecognized.push({ cgroupPath, limit });
    }
  };
  for (const root of await kubepodsRoots(used)) {
    await visit(root);
  }
  return { hierarchy: used, containers, unrecognized };
};
