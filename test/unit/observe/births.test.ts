import { beforeAll, describe, expect, it } from 'vitest';
import { recordingRows } from '../../../dev/lab/compare.ts';
import type { ContainerTruth, Recording } from '../../../dev/lab/scenarios.ts';
import { decodeFinding, encodeFinding } from '../../../shared/findings/codec.ts';
import type { BirthFinding } from '../../../shared/findings/types.ts';
import { birthFindings, isoNs } from '../../../shared/observe/births.ts';
import { birthEventName } from '../../../shared/pxl/birth-events.ts';
import type { CollectedTable } from '../../../shared/pixie/collect.ts';
import { loadRecording } from '../analysis/lab-fixture.ts';
import { collectedTable } from '../../support/pixie-table.ts';

/**
 * The pod_birth script's result for a lab recording: the probe's real rows, named the way the
 * script names them (pod uid and container key from the cgroup, pod identity from metadata, which
 * the lab's ground truth plays here).
 */
const scriptResult = async (recording: Recording): Promise<CollectedTable> => {
  const byContainer = new Map<string, ContainerTruth>();
  const byPodCgroup = new Map<string, ContainerTruth>();
  for (const c of recording.containers) {
    c.cgroupIds.forEach((id) => byContainer.set(`${id.hierarchy}:${id.id}`, c));
    c.podCgroupIds.forEach((id) => byPodCgroup.set(`${id.hierarchy}:${id.id}`, c));
  }
  const rows = recordingRows(recording).flatMap((row) => {
    const key = `${String(row['hierarchy'])}:${String(row['cgroup_id'])}`;
    const container = byContainer.get(key);
    const pod = container ?? byPodCgroup.get(key);
    // Only the pod's own cgroup is pod-level; its kubepods parents belong to no pod.
    const podLevel = container === undefined && pod !== undefined && String(row['detail']).includes(`pod${pod.podUid}`);
    if (pod === undefined || (container === undefined && !podLevel)) {
      return [];
    }
    return [{ row, pod, key: container === undefined ? '' : container.containerId.slice(0, 32) }];
  });
  const s = (f: (r: (typeof rows)[number]) => string) => ({ type: 'string' as const, values: rows.map(f) });
  const i = (f: (r: (typeof rows)[number]) => bigint | number) => ({ type: 'int' as const, values: rows.map(f) });
  return collectedTable('pod_birth_w0', {
    time_: { type: 'time', values: rows.map((r) => r.row['time_'] as bigint) },
    node: s(() => 'lab-node'),
    namespace: s((r) => r.pod.namespace),
    pod: s((r) => `${r.pod.namespace}/${r.pod.pod}`),
    pod_uid: s((r) => r.pod.podUid),
    container_key: s((r) => r.key),
    event: s((r) => birthEventName(r.row['event_code'] as bigint)),
    pid: i((r) => r.row['pid'] as bigint),
    comm: s((r) => String(r.row['comm'])),
    hierarchy: i((r) => r.row['hierarchy'] as bigint),
    cgroup_id: i((r) => r.row['cgroup_id'] as bigint),
    cgroup: s((r) => String(r.row['cgroup'] ?? '')),
    parent_cgroup: s((r) => String(r.row['parent_cgroup'] ?? '')),
    flags: i((r) => r.row['flags'] as bigint),
    detail: s((r) => String(r.row['detail'])),
    value: s((r) => String(r.row['value'])),
    syscalls: i((r) => r.row['syscalls'] as bigint),
  });
};

const nsOf = (iso: string): bigint => {
  const [whole = '', fraction = ''] = iso.replace('Z', '').split('.');
  return BigInt(Date.parse(`${whole}Z`)) * 1_000_000n + BigInt(fraction.padEnd(9, '0').slice(0, 9));
};

describe('birthFindings on a recorded lab birth (real kernel events)', () => {
  let recording: Recording;
  let findings: BirthFinding[];

  beforeAll(async () => {
    recording = await loadRecording('birth');
    const window = { start: new Date(Date.parse(recording.recordedAt) - 60_000), end: new Date(Date.parse(recording.recordedAt) + 60_000) };
    findings = birthFindings(await scriptResult(recording), { probe: 'pod_birth', cluster: 'lab', source: 'replay', producedAt: new Date(), window });
  });

  it('gives one certificate per pod the lab made, named by its metadata', () => {
    const pods = [...new Set(recording.containers.map((c) => `${c.namespace}/${c.pod}`))].sort();
    expect(findings.map((f) => `${f.namespace}/${f.birth.pod}`).sort()).toEqual(pods);
  });

  it('matches each container to its OCI config: entrypoint, namespaces created or joined, limit values', () => {
    for (const truth of recording.containers) {
      const finding = findings.find((f) => f.birth.podUid === truth.podUid)!;
      const born = finding.birth.containers.find((c) => c.containerId === truth.containerId.slice(0, 32));
      expect(born, `${truth.pod}/${truth.container}`).toBeDefined();
      const oci = truth.ociConfig as { process: { args: string[] }; linux: { namespaces: { type: string; path?: string }[]; resources?: { cpu?: { shares?: number; quota?: number } } } };
      expect(born!.entrypoint).toBe(oci.process.args[0]);
      const nsName = (t: string): string => ({ network: 'net', mount: 'mnt' })[t] ?? t;
      const created = oci.linux.namespaces.filter((n) => n.path === undefined).map((n) => nsName(n.type)).sort();
      const joined = oci.linux.namespaces.filter((n) => n.path !== undefined).map((n) => nsName(n.type)).sort();
      expect([...born!.namespacesCreated].sort()).toEqual(created);
      // An app container joins the sandbox's namespaces; the sandbox joins none.
      expect(born!.namespacesJoined.length > 0).toBe(joined.length > 0);
      const shares = oci.linux.resources?.cpu?.shares;
      const writes = born!.limitWrites.filter((w) => w.file === 'cpu.shares');
      expect(writes).toEqual(shares === undefined ? [] : [{ file: 'cpu.shares', value: String(shares) }]);
      expect(born!.timeToEntrypointNs).toBeGreaterThan(0);
      expect(born!.steps.every((step, index, all) => index === 0 || step.offsetNs >= all[index - 1]!.offsetNs)).toBe(true);
    }
  });

  it('keeps durations in agreement with the event timestamps and fits the topic schema', () => {
    for (const finding of findings) {
      for (const c of finding.birth.containers) {
        // Every container of a lab pod reached its entrypoint, so all three are measured.
        const exec = c.steps.find((step) => step.kind === 'exec');
        expect([c.entrypointExecAt, c.timeToEntrypointNs, exec].every((v) => v !== undefined)).toBe(true);
        // Wall times with nanoseconds: the exec is exactly its step offset after the first event.
        expect(nsOf(c.entrypointExecAt!) - nsOf(c.firstEventAt)).toBe(BigInt(exec!.offsetNs));
        // Time to entrypoint is measured from the first cgroup, which is at or after the first event.
        expect(BigInt(c.timeToEntrypointNs!)).toBeLessThanOrEqual(nsOf(c.entrypointExecAt!) - nsOf(c.firstEventAt) + 1n);
      }
      expect(decodeFinding(encodeFinding(finding))).toEqual(finding);
    }
  });

  it('formats nanosecond wall times exactly', () => {
    expect(isoNs(1_764_244_800_123_456_789n)).toBe('2025-11-27T12:00:00.123456789Z');
  });
});
