/**
 * What the live node view remembers of pods, as Pixie's metadata does: a deleted pod stays named
 * for 24 hours (kMinObjectRetentionAfterDeathNS, src/shared/metadata/state_manager.cc), and a
 * source that fails keeps naming what it last listed.
 */
import { describe, expect, it } from 'vitest';
import { DELETED_POD_RETENTION_MS, PodMemory } from '../../../dev/node/pod-memory.ts';
import { nameContainers } from '../../../dev/node/naming.ts';
import type { NamedPod } from '../../../dev/node/pods.ts';
import { containerCgroupPath, parseContainerCgroupPath } from '../../../shared/pxl/cgroup-identity.ts';

const uidA = '11111111-2222-3333-4444-555555555555';
const uidB = '66666666-2222-3333-4444-555555555555';
const pod = (uid: string, name: string): NamedPod => ({ uid, name, namespace: 'shop', node: 'n', owners: [], startTime: '', containers: [] });
const names = (sources: ReturnType<PodMemory['remember']>): string[] => sources.flatMap((s) => s.pods.map((p) => `${s.source}:${p.name}`));

describe('PodMemory', () => {
  it('keeps a deleted pod for 24 hours after its source stopped listing it, then forgets it', () => {
    const memory = new PodMemory();
    const t0 = Date.parse('2026-12-04T10:00:00Z');
    expect(names(memory.remember({ sources: [{ source: 'api-server', pods: [pod(uidA, 'web-1'), pod(uidB, 'web-2')] }], failures: [] }, t0))).toEqual(['api-server:web-1', 'api-server:web-2']);
    // web-1 deleted: still named, after the living pods.
    const deleted = memory.remember({ sources: [{ source: 'api-server', pods: [pod(uidB, 'web-2')] }], failures: [] }, t0 + 1000);
    expect(names(deleted)).toEqual(['api-server:web-2', 'api-server:web-1']);
    expect(names(memory.remember({ sources: [{ source: 'api-server', pods: [pod(uidB, 'web-2')] }], failures: [] }, t0 + 1000 + DELETED_POD_RETENTION_MS))).toEqual(['api-server:web-2', 'api-server:web-1']);
    expect(names(memory.remember({ sources: [{ source: 'api-server', pods: [pod(uidB, 'web-2')] }], failures: [] }, t0 + 1001 + DELETED_POD_RETENTION_MS))).toEqual(['api-server:web-2']);
  });

  it('keeps naming what a failing source listed last, and counts nothing as deleted while it fails', () => {
    const memory = new PodMemory();
    memory.remember({ sources: [{ source: 'api-server', pods: [pod(uidA, 'web-1')] }], failures: [] }, 0);
    const outage = memory.remember({ sources: [], failures: [{ source: 'api-server', error: 'connect ECONNREFUSED' }] }, 1000);
    expect(names(outage)).toEqual(['api-server:web-1']);
    // Back, and web-1 is still there: it never counted as gone.
    memory.remember({ sources: [{ source: 'api-server', pods: [pod(uidA, 'web-1')] }], failures: [] }, 2000);
    expect(names(memory.remember({ sources: [{ source: 'api-server', pods: [pod(uidA, 'web-1')] }], failures: [] }, 3000 + DELETED_POD_RETENTION_MS))).toEqual(['api-server:web-1']);
  });

  it('names a container of a deleted pod from memory, and a pod that came back (same uid) from its listing', () => {
    const memory = new PodMemory();
    const id = 'a'.repeat(64);
    const cgroupPath = containerCgroupPath('cgroupfs', 'burstable', uidA, id);
    const identity = parseContainerCgroupPath(cgroupPath);
    if (identity === undefined) {
      throw new Error('fixture path does not parse');
    }
    memory.remember({ sources: [{ source: 'api-server', pods: [pod(uidA, 'old-name')] }], failures: [] }, 0);
    const [gone] = nameContainers([{ cgroupPath, identity, limit: undefined }], memory.remember({ sources: [{ source: 'api-server', pods: [] }], failures: [] }, 1));
    expect([gone?.naming, gone?.pod?.name]).toEqual(['api-server', 'old-name']);
    const [back] = nameContainers([{ cgroupPath, identity, limit: undefined }], memory.remember({ sources: [{ source: 'api-server', pods: [pod(uidA, 'new-name')] }], failures: [] }, 2));
    expect(back?.pod?.name).toBe('new-name');
  });
});
