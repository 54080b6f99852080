import { describe, expect, it } from 'vitest';
import type { HostContainer } from '../../../dev/node/containers.ts';
import { containerLabel, limitedContainerLines, nameContainers } from '../../../dev/node/naming.ts';
import type { NamedPod } from '../../../dev/node/pods.ts';
import { containerCgroupPath, parseContainerCgroupPath } from '../../../shared/pxl/cgroup-identity.ts';

const uidA = '11111111-2222-3333-4444-555555555555';
const uidB = '66666666-2222-3333-4444-555555555555';
const idA = 'a'.repeat(64);
const idB = 'b'.repeat(64);
const sandbox = 'c'.repeat(64);

const host = (uid: string, id: string, limit = true): HostContainer => {
  const cgroupPath = containerCgroupPath('cgroupfs', 'burstable', uid, id);
  const identity = parseContainerCgroupPath(cgroupPath);
  if (identity === undefined) {
    throw new Error('fixture path does not parse');
  }
  return { cgroupPath, identity, limit: limit ? { quotaUs: 10000, periodUs: 100000 } : undefined };
};

const pod = (uid: string, name: string, containers: NamedPod['containers']): NamedPod => ({ uid, name, namespace: 'shop', node: 'n', owners: [], startTime: '', containers });

describe('nameContainers', () => {
  const containers = [host(uidA, idA), host(uidA, sandbox, false), host(uidB, idB)];

  it('names by pod uid and container id, first source first, and keeps unknown containers by path', () => {
    const named = nameContainers(containers, [
      { source: 'api-server', pods: [pod(uidA, 'web', [{ name: 'app', containerId: idA, runtime: 'containerd' }])] },
      { source: 'lab', pods: [pod(uidA, 'shadowed', []), pod(uidB, 'other', [])] },
    ]);
    expect(named.map((c) => [c.naming, c.pod?.name, c.containerName])).toEqual([
      ['api-server', 'web', 'app'],
      ['api-server', 'web', ''],
      ['lab', 'other', ''],
    ]);
    expect(named.map(containerLabel)).toEqual(['shop/web/app', `shop/web/<${sandbox.slice(0, 12)}>`, `shop/other/<${idB.slice(0, 12)}>`]);
  });

  it('never drops a container no source knows: its cgroup path names it', () => {
    const named = nameContainers(containers, []);
    expect(named).toHaveLength(3);
    expect(named.every((c) => c.naming === 'cgroup' && c.pod === undefined)).toBe(true);
    expect(containerLabel(named[0] ?? (undefined as never))).toBe(`/kubepods/burstable/pod${uidA}/${idA}`);
  });

  it('lists only the CPU-limited ones, with their limit', () => {
    const lines = limitedContainerLines(nameContainers(containers, []));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain('limit 100m (10000/100000 µs)');
    expect(lines[0]).toContain('named by cgroup');
  });
});
