import { describe, expect, it } from 'vitest';
import { inventoryLines } from '../../../cli/inventory.ts';
import type { HostContainer } from '../../../dev/node/containers.ts';
import { nameContainers } from '../../../dev/node/naming.ts';
import type { ContainerCounters } from '../../../shared/analysis/index.ts';
import { containerCgroupPath, parseContainerCgroupPath } from '../../../shared/pxl/cgroup-identity.ts';

const uid = '11111111-2222-3333-4444-555555555555';
const host = (id: string, quotaUs: number | undefined): HostContainer => {
  const cgroupPath = containerCgroupPath('cgroupfs', 'burstable', uid, id);
  const identity = parseContainerCgroupPath(cgroupPath);
  if (identity === undefined) {
    throw new Error('fixture path does not parse');
  }
  return { cgroupPath, identity, limit: quotaUs === undefined ? undefined : { quotaUs, periodUs: 100_000 } };
};

const counters = (containerKey: string, periods: [number, number], throttled: [number, number]): ContainerCounters => ({
  identity: { cluster: 'c', namespace: '', pod: `pod${uid}`, podUid: uid, container: containerKey, containerId: containerKey },
  window: { startMs: 0, endMs: 10_000 },
  samples: [
    { atMs: 0, nrPeriods: periods[0], nrThrottled: throttled[0], throttledTimeNs: 0 },
    { atMs: 10_000, nrPeriods: periods[1], nrThrottled: throttled[1], throttledTimeNs: 2_500_000_000 },
  ],
  bandwidth: { quotaNs: 10_000_000, periodNs: 100_000_000 },
});

describe('inventoryLines', () => {
  const seen = 'a'.repeat(64);
  const idle = 'b'.repeat(64);
  const unlimited = 'c'.repeat(64);
  const gone = 'd'.repeat(32);
  const containers = nameContainers([host(seen, 10_000), host(idle, 20_000), host(unlimited, undefined)], []);

  it('lists every CPU-limited container with what the probe saw, and what it saw that is gone', () => {
    const lines = inventoryLines(
      { containers, unrecognized: [{ cgroupPath: `/kubepods/burstable/pod${uid}/odd`, limit: { quotaUs: 5000, periodUs: 100_000 } }], namingFailures: [{ source: 'kubelet', error: "the kubelet's pod list: refused" }], namingAsked: "the kubelet's read-only pod list" },
      [counters(seen.slice(0, 32), [100, 200], [10, 70]), counters(gone, [0, 50], [0, 5])],
      10,
    );
    expect(lines[0]).toBe('CPU-limited containers on this node: 2 (probe window 10 s)');
    expect(lines[1]).toBe(`  /kubepods/burstable/pod${uid}/${seen}  limit 100m  throttled in 60% of 100 periods, 2.50 s throttled  [named by cgroup]`);
    expect(lines[2]).toContain(`/${idle}  limit 200m  no probe sample in the window`);
    expect(lines[3]).toBe(`  pod ${uid} container ${gone}  limit 100m  throttled in 10% of 50 periods, 2.50 s throttled  [seen by the probe, gone from the cgroup filesystem]`);
    expect(lines[4]).toContain('/odd  limit 50m  [a CPU-limited cgroup in kubepods of no known container layout]');
    expect(lines[5]).toBe("naming: the kubelet's pod list: refused");
    expect(lines[6]).toContain("naming: 2 of 2 named by cgroup path and container id (asked the kubelet's read-only pod list");
    expect(lines.join('\n')).not.toContain(unlimited);
  });
});
