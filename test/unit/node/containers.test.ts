import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cpuMountCandidates, discoverContainers, findCpuHierarchy, NodeDiscoveryError } from '../../../dev/node/containers.ts';
import { type ContainerRuntime, containerCgroupPath, podCgroupPath, type QosClass } from '../../../shared/pxl/cgroup-identity.ts';

const uid = (n: number): string => `${String(n).padStart(8, '0')}-b1c6-479d-852b-3f3990193f46`;
const id = (n: number): string => String(n).repeat(64).slice(0, 64);

// Path fixtures: a cgroup tree written by hand with the files the kernel shows (cpu.max on v2,
// cpu.cfs_quota_us / cpu.cfs_period_us on v1). The walker only reads directories and those files.
let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'kg-cgroup-fixture-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const cgroup = async (version: 1 | 2, cgroupPath: string, quotaUs: number | undefined): Promise<void> => {
  const dir = path.join(root, cgroupPath);
  await mkdir(dir, { recursive: true });
  if (version === 2) {
    await writeFile(path.join(dir, 'cpu.max'), `${quotaUs ?? 'max'} 100000\n`);
  } else {
    await writeFile(path.join(dir, 'cpu.cfs_quota_us'), `${quotaUs ?? -1}\n`);
    await writeFile(path.join(dir, 'cpu.cfs_period_us'), '100000\n');
  }
};

const podWith = async (version: 1 | 2, layout: 'cgroupfs' | 'systemd', qos: QosClass, n: number, runtime: ContainerRuntime, quotaUs: number | undefined): Promise<string> => {
  await cgroup(version, podCgroupPath(layout, qos, uid(n)), undefined);
  const p = containerCgroupPath(layout, qos, uid(n), id(n), runtime);
  await cgroup(version, p, quotaUs);
  return p;
};

describe('discoverContainers over path fixtures', () => {
  it('finds every container of the v2 systemd layout, every runtime and QoS, with its limit', async () => {
    await cgroup(2, '/system.slice/containerd.service', undefined);
    const paths = [
      await podWith(2, 'systemd', 'burstable', 1, 'containerd', 20000),
      await podWith(2, 'systemd', 'besteffort', 2, 'cri-o', undefined),
      await podWith(2, 'systemd', 'guaranteed', 3, 'docker', 50000),
    ];
    // CRI-O's conmon scope beside the container, and a cgroup of unknown naming with a quota.
    await cgroup(2, `${podCgroupPath('systemd', 'guaranteed', uid(3))}/crio-conmon-${id(3)}.scope`, undefined);
    await cgroup(2, `${podCgroupPath('systemd', 'guaranteed', uid(3))}/mystery.scope`, 30000);
    const found = await discoverContainers({ mount: root, version: 2 });
    expect(found.containers.map((c) => c.cgroupPath).sort()).toEqual([...paths].sort());
    const byPod = new Map(found.containers.map((c) => [c.identity.podUid, c]));
    expect(byPod.get(uid(1))).toMatchObject({ identity: { layout: 'systemd', qos: 'burstable', containerId: id(1), runtime: 'containerd' }, limit: { quotaUs: 20000, periodUs: 100000 } });
    expect(byPod.get(uid(2))).toMatchObject({ identity: { qos: 'besteffort', runtime: 'cri-o' }, limit: undefined });
    expect(byPod.get(uid(3))).toMatchObject({ identity: { qos: 'guaranteed', runtime: 'docker' }, limit: { quotaUs: 50000 } });
    expect(found.unrecognized).toEqual([{ cgroupPath: `${podCgroupPath('systemd', 'guaranteed', uid(3))}/mystery.scope`, limit: { quotaUs: 30000, periodUs: 100000 } }]);
  });

  it('finds v1 cgroupfs containers, also under a kubepods root nested in another cgroup', async () => {
    const direct = await podWith(1, 'cgroupfs', 'guaranteed', 4, 'containerd', 10000);
    const crio = await podWith(1, 'cgroupfs', 'burstable', 5, 'cri-o', 10000);
    await cgroup(1, `/docker/abc/kubepods/burstable/pod${uid(6)}/${id(6)}`, 40000);
    const found = await discoverContainers({ mount: root, version: 1 });
    expect(found.containers.map((c) => [c.cgroupPath, c.limit?.quotaUs]).sort()).toEqual(
      [
        [direct, 10000],
        [crio, 10000],
        [`/docker/abc/kubepods/burstable/pod${uid(6)}/${id(6)}`, 40000],
      ].sort(),
    );
    expect(found.unrecognized).toEqual([]);
  });

  it('finds nothing, without error, on a host without kubepods', async () => {
    await cgroup(1, '/user.slice', undefined);
    expect(await discoverContainers({ mount: root, version: 1 })).toEqual({ hierarchy: { mount: root, version: 1 }, containers: [], unrecognized: [] });
  });

  it('fails clearly on a limit file the kernel would not write', async () => {
    const p = await podWith(1, 'cgroupfs', 'burstable', 7, 'containerd', 10000);
    await writeFile(path.join(root, p, 'cpu.cfs_quota_us'), 'garbage\n');
    await expect(discoverContainers({ mount: root, version: 1 })).rejects.toThrow(NodeDiscoveryError);
  });
});

describe('the cpu hierarchy', () => {
  it('takes the v1 mount that carries cpu, else the cgroup2 mounts', () => {
    const hybrid = [
      'cgroup2 /sys/fs/cgroup/unified cgroup2 rw,nosuid,nodev,noexec,relatime 0 0',
      'cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,nosuid,nodev,noexec,relatime,cpu,cpuacct 0 0',
      'cgroup /sys/fs/cgroup/cpuset cgroup rw,nosuid,nodev,noexec,relatime,cpuset 0 0',
    ].join('\n');
    expect(cpuMountCandidates(hybrid)).toEqual({ v1: ['/sys/fs/cgroup/cpu,cpuacct'], v2: ['/sys/fs/cgroup/unified'] });
    expect(cpuMountCandidates('cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid 0 0\nproc /proc proc rw 0 0')).toEqual({ v1: [], v2: ['/sys/fs/cgroup'] });
  });

  it('takes a cgroup2 mount only when its root offers the cpu controller', async () => {
    const v2 = path.join(root, 'v2');
    const empty = path.join(root, 'empty');
    await mkdir(v2);
    await mkdir(empty);
    await writeFile(path.join(v2, 'cgroup.controllers'), 'cpuset cpu io memory pids\n');
    await writeFile(path.join(empty, 'cgroup.controllers'), '\n');
    const mounts = path.join(root, 'mounts');
    await writeFile(mounts, `cgroup2 ${empty} cgroup2 rw 0 0\ncgroup2 ${v2} cgroup2 rw 0 0\n`);
    expect(await findCpuHierarchy(mounts)).toEqual({ mount: v2, version: 2 });
    await writeFile(mounts, `cgroup2 ${empty} cgroup2 rw 0 0\n`);
    await expect(findCpuHierarchy(mounts)).rejects.toThrow(/no cgroup hierarchy on this host has the cpu controller/);
  });
});
