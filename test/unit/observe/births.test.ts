import { beforeAll, describe, expect, it } from 'vitest';
import { recordingRows } from '../../../dev/lab/compare.ts';
import type { ContainerTruth, Recording } from '../../../dev/lab/scenarios.ts';
import { decodeFinding, encodeFinding } from '../../../shared/findings/codec.ts';
import type { BirthFinding } from '../../../shared/findings/types.ts';
import { birthFindings, birthQueryWindow, isoNs } from '../../../shared/observe/births.ts';
import { birthEventName } from '../../../shared/pxl/birth-events.ts';
import type { CollectedTable } from '../../../shared/pixie/collect.ts';
import { loadRecording } from '../analysis/lab-fixture.ts';
import { collectedTable } from '../../support/pixie-table.ts';

/**
 * The pod_birth script's result for a lab recording: the probe's real rows, named the way the
 * script names them (pod uid and container key from the cgroup, pod identity from metadata, which
 * the lab's ground truth plays here).
 */
const scriptResult = async (recording: Recording, keep: (timeNs: bigint) => boolean = () => true): Promise<CollectedTable> => {
  const byContainer = new Map<string, ContainerTruth>();
  const byPodCgroup = new Map<string, ContainerTruth>();
  for (const c of recording.containers) {
    c.cgroupIds.forEach((id) => byContainer.set(`${id.hierarchy}:${id.id}`, c));
    c.podCgroupIds.forEach((id) => byPodCgroup.set(`${id.hierarchy}:${id.id}`, c));
  }
  const rows = recordingRows(recording).filter((row) => keep(row['time_'] as bigint)).flatMap((row) => {
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

  it("counts a pod's app containers in its summary, the sandbox (pause) apart", () => {
    for (const finding of findings) {
      const truth = recording.containers.filter((c) => c.podUid === finding.birth.podUid);
      const apps = truth.filter((c) => !c.sandbox).length;
      expect(truth.some((c) => c.sandbox)).toBe(true);
      expect(finding.summary).toContain(`${finding.namespace}/${finding.birth.pod} born: ${apps} container${apps === 1 ? '' : 's'} and its sandbox, slowest entrypoint after `);
    }
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
        // The entrypoint's exec (runc may exec itself before, e.g. from /dev/fd/<n>: its clone of the runc binary).
        const exec = c.steps.find((step) => step.kind === 'exec' && step.detail === `exec ${c.entrypoint}`);
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

describe('births on both sides of a window boundary (each container certified by exactly one run)', () => {
  /**
   * Two consecutive scheduled runs whose boundary cuts a recorded container's cascade in two. Each
   * run gets from Pixie what it asks for: the rows of its query window (its own window, reaching
   * back by the lookback), filtered on time_ as Pixie's start_time/end filter does.
   */
  const runsAround = async (recording: Recording, boundaryNs: bigint, intervalMs: number): Promise<[BirthFinding[], BirthFinding[]]> => {
    const boundaryMs = Number(boundaryNs / 1_000_000n);
    const boundary = new Date(boundaryMs);
    const windows = [
      { start: new Date(boundaryMs - intervalMs), end: boundary },
      { start: boundary, end: new Date(boundaryMs + intervalMs) },
    ];
    const boundaryExactNs = BigInt(boundaryMs) * 1_000_000n;
    const run = async (window: { start: Date; end: Date }): Promise<BirthFinding[]> => {
      const query = birthQueryWindow(window);
      const [from, to] = [BigInt(query.start.getTime()) * 1_000_000n, BigInt(query.end.getTime()) * 1_000_000n];
      const table = await scriptResult(recording, (t) => t >= from && t < to);
      return birthFindings(table, { probe: 'pod_birth', cluster: 'lab', source: 'replay', producedAt: new Date(), window });
    };
    expect(boundaryExactNs).toBeLessThanOrEqual(boundaryNs);
    return [await run(windows[0]!), await run(windows[1]!)];
  };

  it('certifies a cascade cut by the boundary once, in the window of its first event, with the events up to its end', async () => {
    const recording = await loadRecording('birth');
    // The same recording in one window that holds all of it: what the two runs must add up to.
    const window = { start: new Date(Date.parse(recording.recordedAt) - 60_000), end: new Date(Date.parse(recording.recordedAt) + 60_000) };
    const all = birthFindings(await scriptResult(recording), { probe: 'pod_birth', cluster: 'lab', source: 'replay', producedAt: new Date(), window })
      .flatMap((f) => f.birth.containers);
    const whole = all.find((c) => !c.sandbox && c.entrypointExecAt !== undefined && c.steps.length > 2)!;
    // A boundary on a whole millisecond strictly inside the container's cascade.
    const startNs = nsOf(whole.firstEventAt);
    const execNs = nsOf(whole.entrypointExecAt!);
    const boundaryNs = ((startNs + execNs) / 2n / 1_000_000n) * 1_000_000n;
    expect(boundaryNs > startNs && boundaryNs < execNs, 'the recorded cascade spans at least 1 ms').toBe(true);
    for (const intervalMs of [600_000, 30_000]) {
      const [before, after] = await runsAround(recording, boundaryNs, intervalMs);
      const certified = [...before, ...after].flatMap((f) => f.birth.containers.map((c) => c.containerId));
      // Every container of the recording once, none twice.
      expect(certified.sort()).toEqual([...new Set(certified)].sort());
      expect(new Set(certified)).toEqual(new Set(all.map((c) => c.containerId)));
      const cut = before.flatMap((f) => f.birth.containers).find((c) => c.containerId === whole.containerId);
      expect(cut, 'the cut container belongs to the run of its first event').toBeDefined();
      expect(after.flatMap((f) => f.birth.containers).some((c) => c.containerId === whole.containerId)).toBe(false);
      // Its certificate holds the events before the boundary only: the entrypoint came after it.
      expect(cut!.firstEventAt).toBe(whole.firstEventAt);
      expect(cut!.entrypointExecAt).toBeUndefined();
      expect(cut!.steps.every((step) => nsOf(whole.firstEventAt) + BigInt(step.offsetNs) < boundaryNs)).toBe(true);
      // Certificates are per run: the after-run's (if any) hold only containers born after the boundary.
      for (const c of after.flatMap((f) => f.birth.containers)) {
        expect(nsOf(c.firstEventAt)).toBeGreaterThanOrEqual(boundaryNs);
      }
    }
  });

  it('reads back by at most two minutes, or one window when the window is shorter', () => {
    const end = new Date('2026-12-05T08:00:00Z');
    expect(birthQueryWindow({ start: new Date('2026-12-05T07:50:00Z'), end }).start).toEqual(new Date('2026-12-05T07:48:00Z'));
    expect(birthQueryWindow({ start: new Date('2026-12-05T07:59:30Z'), end }).start).toEqual(new Date('2026-12-05T07:59:00Z'));
    expect(birthQueryWindow({ start: new Date('2026-12-05T07:50:00Z'), end }).end).toEqual(end);
  });
});
