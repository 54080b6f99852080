/**
 * cgroup v1 hierarchies of this host, operated the way a kubelet and runc do: make a cgroup in
 * every hierarchy, write limits, read cpu.stat, list member pids, and remove a subtree (killing what
 * is left inside first). Also names the systemd-layout cgroups as equivalent v1 paths: the v2 mount
 * here is empty, so `kubepods.slice/...` cgroups are made in the v1 hierarchies with the same names.
 */
import { mkdir, readdir, readFile, rmdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type CpuStat, parseCpuStat } from './cpu-stat.ts';

export const CGROUP_ROOT = '/sys/fs/cgroup';

/** Mount points of the v1 hierarchies (one per mount, e.g. `cpu`, `cpuacct`, `memory`, `name=systemd`). */
export const v1Hierarchies = async (): Promise<string[]> => {
  const mounts = await readFile('/proc/self/mounts', 'utf8');
  return mounts
    .split('\n')
    .map((line) => line.split(' '))
    .filter((fields) => fields[2] === 'cgroup' && fields[1] !== undefined)
    .map((fields) => fields[1] ?? '')
    .sort();
};

export interface CgroupMount {
  readonly mount: string;
  /** The kernel's hierarchy id (`root->hierarchy_id`, what the probes print): 0 for cgroup v2. */
  readonly hierarchyId: number;
  readonly version: 1 | 2;
}

/**
 * Every cgroup mount with its hierarchy id, matched through /proc/self/cgroup (`id:controllers:path`)
 * by controller list (or `name=`) from the mount options.
 */
export const cgroupMounts = async (): Promise<CgroupMount[]> => {
  const [mounts, own] = await Promise.all([readFile('/proc/self/mounts', 'utf8'), readFile('/proc/self/cgroup', 'utf8')]);
  const idsByControllers = new Map<string, number>();
  for (const line of own.split('\n').filter((l) => l !== '')) {
    const [id, controllers] = line.split(':');
    idsByControllers.set([...(controllers ?? '').split(',')].sort().join(','), Number(id));
  }
  const out: CgroupMount[] = [];
  for (const fields of mounts.split('\n').map((line) => line.split(' '))) {
    const [, mount, type, options] = fields;
    if (mount === undefined || (type !== 'cgroup' && type !== 'cgroup2')) {
      continue;
    }
    const controllers = type === 'cgroup2' ? '' : (options ?? '').split(',').filter((o) => !['rw', 'ro', 'relatime', 'nosuid', 'nodev', 'noexec'].includes(o)).sort().join(',');
    const hierarchyId = idsByControllers.get(controllers);
    if (hierarchyId !== undefined) {
      out.push({ mount, hierarchyId, version: type === 'cgroup2' ? 2 : 1 });
    }
  }
  return out;
};

/** `(hierarchy id, kernfs id)` of a cgroup in every hierarchy where it exists (the kernfs id is the inode number). */
export const cgroupIds = async (cgroupPath: string): Promise<{ hierarchy: number; id: number }[]> => {
  const out: { hierarchy: number; id: number }[] = [];
  for (const { mount, hierarchyId } of await cgroupMounts()) {
    const info = await stat(path.join(mount, cgroupPath)).catch(() => undefined);
    if (info !== undefined) {
      out.push({ hierarchy: hierarchyId, id: info.ino });
    }
  }
  return out;
};

/** The mount point of the hierarchy with `controller` (e.g. `cpu`). */
export const hierarchyOf = async (controller: string): Promise<string> => {
  const mounts = await readFile('/proc/self/mounts', 'utf8');
  for (const line of mounts.split('\n')) {
    const fields = line.split(' ');
    if (fields[2] === 'cgroup' && (fields[3] ?? '').split(',').includes(controller)) {
      return fields[1] ?? '';
    }
  }
  throw new Error(`no cgroup v1 hierarchy with controller ${controller}`);
};

/** Makes `cgroupPath` (and its parents) in every v1 hierarchy; returns the directories made. */
export const makeCgroupEverywhere = async (cgroupPath: string): Promise<string[]> => {
  const made: string[] = [];
  for (const hierarchy of await v1Hierarchies()) {
    const dir = path.join(hierarchy, cgroupPath);
    await mkdir(dir, { recursive: true });
    made.push(dir);
  }
  return made;
};

/** Writes a cgroup file (e.g. `cpu.cfs_quota_us`) of `cgroupPath` in the hierarchy of `controller`. */
export const writeCgroupFile = async (controller: string, cgroupPath: string, file: string, value: string): Promise<void> => {
  await writeFile(path.join(await hierarchyOf(controller), cgroupPath, file), value);
};

export const readCpuStat = async (cgroupPath: string, cpuHierarchy?: string): Promise<CpuStat> =>
  parseCpuStat(await readFile(path.join(cpuHierarchy ?? (await hierarchyOf('cpu')), cgroupPath, 'cpu.stat'), 'utf8'));

/** Pids in a cgroup of the cpu hierarchy (cgroup.procs). */
export const cgroupPids = async (cgroupPath: string): Promise<number[]> => {
  const text = await readFile(path.join(await hierarchyOf('cpu'), cgroupPath, 'cgroup.procs'), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map(Number);
};

const sleep = async (ms: number): Promise<void> => {
  await new Promise((resolve) => setTimeout(resolve, ms));
};

/** Mount points of every cgroup hierarchy, v1 and v2 (runc also makes its cgroups in the v2 mount). */
export const allHierarchies = async (): Promise<string[]> => (await cgroupMounts()).map((m) => m.mount);

/**
 * Removes `cgroupPath` and everything below it from every hierarchy (v1 and v2), deepest first. Processes still
 * inside are killed first (SIGKILL), and removal is retried while they exit. Missing paths are fine.
 */
export const removeCgroupEverywhere = async (cgroupPath: string): Promise<void> => {
  const failures: string[] = [];
  for (const hierarchy of await allHierarchies()) {
    const root = path.join(hierarchy, cgroupPath);
    const dirs = await subtree(root);
    for (const dir of dirs.reverse()) {
      const procs = await readFile(path.join(dir, 'cgroup.procs'), 'utf8').catch(() => '');
      for (const pid of procs.split('\n').filter((line) => line !== '')) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      let removed = false;
      for (let attempt = 0; attempt < 50 && !removed; attempt += 1) {
        removed = await rmdir(dir).then(
          () => true,
          (error: unknown) => (error as NodeJS.ErrnoException).code === 'ENOENT',
        );
        if (!removed) {
          await sleep(20);
        }
      }
      if (!removed) {
        failures.push(dir);
      }
    }
  }
  if (failures.length > 0) {
    throw new Error(`could not remove cgroups: ${failures.join(', ')}`);
  }
};

/** `dir` and its descendant directories, parents before children; empty if `dir` is missing. */
const subtree = async (dir: string): Promise<string[]> => {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => undefined);
  if (entries === undefined) {
    return [];
  }
  const out = [dir];
  for (const entry of entries) {
    if (entry.isDirectory()) {
      out.push(...(await subtree(path.join(dir, entry.name))));
    }
  }
  return out;
};
