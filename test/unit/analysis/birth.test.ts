import { describe, expect, it } from 'vitest';
import {
  birthCertificates,
  BirthEventsError,
  namespacesFromFlags,
  parseKubeCgroup,
  type BirthCapture,
  type BirthEvent,
  type BirthEventKind,
} from '../../../shared/analysis/index.ts';

const UID = '3f1c2d4e-aaaa-bbbb-cccc-1234567890ab';
const POD = `/kubepods/burstable/pod${UID}`;
const CTR = `${POD}/ctr1`;
const SANDBOX = `${POD}/sandbox0`;
const ALL: BirthEventKind[] = ['cgroup_mkdir', 'cgroup_attach', 'cgroup_write', 'fork', 'unshare', 'clone', 'setns', 'mount', 'pivot_root', 'exec', 'syscall'];

/**
 * A runc birth as the kernel lab saw it (docs/shared kernel-lab notes): one cgroup_mkdir per v1
 * hierarchy, runc writes the quota, attaches its init child, the child unshares 0x6c020000, the
 * init clones, mounts, pivots and execs the entrypoint. Unrelated machine noise interleaves.
 */
const runcBirth = (cgroup: string, t0: number, entry: string, pid: number): BirthEvent[] => [
  { kind: 'cgroup_mkdir', timeNs: t0, pid: 900, comm: 'runc', path: cgroup, hierarchy: 'cpu' },
  { kind: 'cgroup_mkdir', timeNs: t0 + 50_000, pid: 900, comm: 'runc', path: cgroup, hierarchy: 'memory' },
  { kind: 'cgroup_write', timeNs: t0 + 400_000, pid: 900, comm: 'runc', path: cgroup, file: 'cpu.cfs_quota_us', value: '20000' },
  { kind: 'cgroup_write', timeNs: t0 + 450_000, pid: 900, comm: 'runc', path: cgroup, file: 'cpu.cfs_period_us', value: '100000' },
  { kind: 'exec', timeNs: t0 + 500_000, pid: 1234, comm: 'git', filename: '/usr/bin/git' },
  { kind: 'cgroup_attach', timeNs: t0 + 1_000_000, pid: 900, comm: 'runc', path: cgroup, targetPid: pid },
  { kind: 'syscall', timeNs: t0 + 1_100_000, pid, comm: 'runc:[0:PARENT]', name: 'openat', count: 12 },
  { kind: 'fork', timeNs: t0 + 1_200_000, pid, comm: 'runc:[0:PARENT]', childPid: pid + 1 },
  { kind: 'unshare', timeNs: t0 + 1_500_000, pid: pid + 1, comm: 'runc:[1:CHILD]', flags: 0x6c020000 },
  { kind: 'setns', timeNs: t0 + 1_600_000, pid: pid + 1, comm: 'runc:[1:CHILD]', nstype: 0 },
  { kind: 'fork', timeNs: t0 + 1_700_000, pid: pid + 1, comm: 'runc:[1:CHILD]', childPid: pid + 2 },
  { kind: 'clone', timeNs: t0 + 1_800_000, pid: pid + 2, comm: 'runc:[2:INIT]', flags: 0x0 },
  { kind: 'mount', timeNs: t0 + 2_000_000, pid: pid + 2, comm: 'runc:[2:INIT]', source: 'proc', target: '/proc', fstype: 'proc' },
  { kind: 'pivot_root', timeNs: t0 + 3_000_000, pid: pid + 2, comm: 'runc:[2:INIT]', newRoot: '.' },
  { kind: 'syscall', timeNs: t0 + 3_500_000, pid: pid + 2, comm: 'runc:[2:INIT]', name: 'openat', count: 3 },
  { kind: 'exec', timeNs: t0 + 4_000_000, pid: pid + 2, comm: 'runc:[2:INIT]', filename: entry, argv: [entry] },
  { kind: 'syscall', timeNs: t0 + 4_500_000, pid: pid + 2, comm: 'sh', name: 'read', count: 100 },
  { kind: 'exec', timeNs: t0 + 6_000_000, pid: pid + 3, comm: 'bash', filename: '/bin/sleep' },
];

const capture = (events: BirthEvent[], covered: BirthEventKind[] = ALL): BirthCapture => ({ events, covered });

describe('birthCertificates', () => {
  const events = [
    { kind: 'cgroup_mkdir', timeNs: 1_000_000, pid: 800, comm: 'kubelet', path: POD, hierarchy: 'cpu' } as const,
    ...runcBirth(SANDBOX, 2_000_000, '/pause', 5000),
    ...runcBirth(CTR, 20_000_000, '/bin/sh', 6000),
  ];
  const [cert] = birthCertificates(capture(events), {
    pods: { [UID]: { namespace: 'shop', name: 'web-0' } },
    containers: { ctr1: { name: 'app' } },
  });

  it('assembles one certificate per pod with its sandbox recognised and names attached', () => {
    expect(cert).toBeDefined();
    expect(cert!).toMatchObject({ podUid: UID, namespace: 'shop', pod: 'web-0', qos: 'burstable' });
    expect(cert!.podCgroupsCreated).toEqual([{ path: POD, hierarchy: 'cpu', atNs: 1_000_000 }]);
    expect(cert!.sandbox?.containerId).toBe('sandbox0');
    expect(cert!.sandbox?.entrypoint?.filename).toBe('/pause');
    expect(cert!.containers.map((c) => [c.containerId, c.name, c.sandbox])).toEqual([['ctr1', 'app', false]]);
  });

  it('builds an ordered timeline whose durations agree with the timestamps', () => {
    const app = cert!.containers[0]!;
    const times = app.timeline.map((s) => s.atNs);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    app.timeline.forEach((step, i) => {
      expect(step.sinceFirstMs).toBeCloseTo((step.atNs - times[0]!) / 1e6, 12);
      expect(step.sincePreviousMs).toBeCloseTo(i === 0 ? 0 : (step.atNs - times[i - 1]!) / 1e6, 12);
    });
    expect(app.cgroupToEntrypointMs).toBeCloseTo(4, 12);
    expect(app.entrypoint).toMatchObject({ filename: '/bin/sh', pid: 6002, atNs: 24_000_000 });
    expect(cert!.firstEventToLastEntrypointMs).toBeCloseTo(23, 12);
  });

  it('attributes by cgroup path and by attached pids and their children, never by time', () => {
    const app = cert!.containers[0]!;
    // The git exec and the unrelated bash pid happen during the birth but belong to no container.
    expect(app.execs?.map((x) => x.filename)).toEqual(['/bin/sh']);
    expect(app.timeline.some((s) => s.comm === 'git')).toBe(false);
    expect(app.timeline.filter((s) => s.kind === 'fork')).toHaveLength(2);
  });

  it('lists cgroups, limit files, named namespaces, mounts and pivot_root', () => {
    const app = cert!.containers[0]!;
    expect(app.cgroupsCreated?.map((c) => c.hierarchy)).toEqual(['cpu', 'memory']);
    expect(app.limitsWritten?.map((l) => [l.file, l.value])).toEqual([
      ['cpu.cfs_quota_us', '20000'],
      ['cpu.cfs_period_us', '100000'],
    ]);
    expect(app.namespacesCreated?.map((n) => n.namespace)).toEqual(['mnt', 'uts', 'ipc', 'pid', 'net']);
    expect(app.namespacesCreated?.every((n) => n.via === 'unshare' && n.pid === 6001)).toBe(true);
    expect(app.namespacesJoined).toEqual([{ namespace: 'any', pid: 6001, atNs: 21_600_000 }]);
    expect(app.mounts).toEqual([{ target: '/proc', source: 'proc', fstype: 'proc', pid: 6002, atNs: 22_000_000 }]);
    expect(app.pivotRoots).toEqual([{ newRoot: '.', pid: 6002, atNs: 23_000_000 }]);
  });

  it('counts runtime syscalls up to the entrypoint exec only', () => {
    expect(cert!.containers[0]!.runtimeSyscalls).toEqual({ total: 15, byName: { openat: 15 } });
  });

  it('leaves fields absent when their events were not captured, and empty when captured but unseen', () => {
    const [partial] = birthCertificates(capture(events, ['cgroup_mkdir', 'cgroup_attach', 'fork', 'exec']));
    const app = partial!.containers[0]!;
    for (const field of ['limitsWritten', 'namespacesCreated', 'namespacesJoined', 'mounts', 'pivotRoots', 'runtimeSyscalls'] as const) {
      expect(app).not.toHaveProperty(field);
    }
    expect(app.cgroupsCreated).toHaveLength(2);
    const [none] = birthCertificates(capture(events.filter((e) => e.kind !== 'mount')));
    expect(none!.containers[0]!.mounts).toEqual([]);
  });

  it('finds the entrypoint without pivot_root by skipping runtime binaries', () => {
    const evs: BirthEvent[] = [
      { kind: 'cgroup_mkdir', timeNs: 10, pid: 1, path: CTR },
      { kind: 'cgroup_attach', timeNs: 20, pid: 1, path: CTR, targetPid: 7 },
      { kind: 'exec', timeNs: 30, pid: 7, filename: '/usr/bin/runc' },
      { kind: 'exec', timeNs: 40, pid: 7, filename: '/app/server' },
    ];
    const [c] = birthCertificates(capture(evs, ['cgroup_mkdir', 'cgroup_attach', 'exec']));
    expect(c!.containers[0]!.entrypoint?.filename).toBe('/app/server');
    expect(c!.containers[0]!.cgroupToEntrypointMs).toBeCloseTo(30 / 1e6, 15);
    expect(c!).not.toHaveProperty('sandbox');
  });

  it('leaves the entrypoint and its duration absent when no exec was seen', () => {
    const [c] = birthCertificates(capture([{ kind: 'cgroup_mkdir', timeNs: 10, pid: 1, path: CTR }]));
    expect(c!.containers[0]).not.toHaveProperty('entrypoint');
    expect(c!.containers[0]).not.toHaveProperty('cgroupToEntrypointMs');
    expect(c!).not.toHaveProperty('firstEventToLastEntrypointMs');
    expect(c!).not.toHaveProperty('pod');
  });

  it('attributes by the task cgroup path when the probe reports it', () => {
    const evs: BirthEvent[] = [
      { kind: 'mount', timeNs: 5, pid: 44, target: '/sys', cgroupPath: CTR },
      { kind: 'mount', timeNs: 6, pid: 45, target: '/elsewhere', cgroupPath: '/user.slice' },
    ];
    const [c] = birthCertificates(capture(evs));
    expect(c!.containers[0]!.mounts?.map((m) => m.target)).toEqual(['/sys']);
  });

  it('separates pods and orders them by first event', () => {
    const other = '0000aaaa-1111-2222-3333-444455556666';
    const certs = birthCertificates(
      capture([
        ...runcBirth(`/kubepods/pod${other}/c9`, 50_000_000, '/bin/true', 7000),
        ...runcBirth(CTR, 1_000, '/bin/sh', 6000),
      ]),
    );
    expect(certs.map((c) => [c.podUid, c.qos])).toEqual([
      [UID, 'burstable'],
      [other, 'guaranteed'],
    ]);
  });

  it('rejects events without a usable time or pid', () => {
    expect(() => birthCertificates(capture([{ kind: 'exec', timeNs: Number.NaN, pid: 1, filename: '/x' }]))).toThrow(BirthEventsError);
  });
});

describe('namespacesFromFlags', () => {
  it('names every CLONE_NEW* flag, including those above 2^31', () => {
    expect(namespacesFromFlags(0x6c020000)).toEqual(['mnt', 'uts', 'ipc', 'pid', 'net']);
    expect(namespacesFromFlags(0x7e020080)).toEqual(['mnt', 'uts', 'ipc', 'pid', 'net', 'cgroup', 'user', 'time']);
    expect(namespacesFromFlags(0x80000000 + 0x40000000)).toEqual(['net']);
    expect(namespacesFromFlags(0)).toEqual([]);
  });
});

describe('parseKubeCgroup', () => {
  it.each([
    [`/kubepods/burstable/pod${UID}/abc123`, { podUid: UID, qos: 'burstable', containerId: 'abc123' }],
    [`/kubepods/pod${UID}`, { podUid: UID, qos: 'guaranteed' }],
    [`/kubepods/besteffort/pod${UID}/`, { podUid: UID, qos: 'besteffort' }],
    [
      `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UID.replaceAll('-', '_')}.slice/cri-containerd-0123abcd.scope`,
      { podUid: UID, qos: 'burstable', containerId: '0123abcd' },
    ],
    [`/kubepods.slice/kubepods-pod${UID.replaceAll('-', '_')}.slice`, { podUid: UID, qos: 'guaranteed' }],
    ['/user.slice/user-0.slice/session-1.scope', null],
    [`/kubepods.slice/kubepods-pod${UID.replaceAll('-', '_')}.slice/something-else`, null],
    ['/kubepods/burstable', null],
  ])('%s', (path, expected) => {
    expect(parseKubeCgroup(path)).toEqual(expected);
  });
});
