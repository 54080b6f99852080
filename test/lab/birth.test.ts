/**
 * The birth programs on the real kernel: for lab pods (both cgroup layouts) the events they report
 * match the OCI specs runc was given (namespaces created and joined, CPU limit values written,
 * entrypoint), and unrelated processes that make namespaces and mounts meanwhile leave no event.
 * The cgroupfs pods are real pods: created through the API server of a one-node cluster started
 * once for this file (dev/kube/node.ts) and born by its kubelet through containerd, whose specs
 * (config.json in the shim's bundle) are the truth; the systemd layout, which that node (cgroupfs
 * driver, cgroup v1) cannot give, still comes from the runc lab.
 * pod_birth_lite, the always-on probe, reports the same cascade without limit writes and without
 * the syscall count; each program runs its own scenario.
 * Needs root, bpftrace, runc and the node's binaries: fails (never skips) without them. Run under
 * `flock /tmp/kg-lab.lock` (the kubelet owns `kubepods`).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BirthScriptName } from '../../shared/pxl/scripts.ts';
import { type LocalNode, startLocalNode } from '../../dev/kube/node.ts';
import { cgroupMounts } from '../../dev/lab/cgroupfs.ts';
import { type AttributedEvent, attributeBirthRows } from '../../dev/lab/compare.ts';
import { KubeletPods } from '../../dev/lab/kubelet-pods.ts';
import { Lab } from '../../dev/lab/lab.ts';
import { namespacesInFlags, type OciNamespace } from '../../dev/lab/oci.ts';
import { type ContainerTruth, type Recording, runBirthScenario } from '../../dev/lab/scenarios.ts';
import { BIRTH_PODS } from '../../dev/lab/standard-scenarios.ts';
import { nodeLeftovers } from './node-leftovers.ts';

const exec = promisify(execFile);

/** Unrelated processes of the machine making namespaces, mounts and execs while the probe runs. */
const noise = async (): Promise<void> => {
  for (let i = 0; i < 5; i += 1) {
    await exec('unshare', ['--mount', '--uts', '--ipc', '--fork', 'sh', '-c', 'mount -t tmpfs none /mnt && true']);
  }
};

interface Run {
  recording: Recording;
  events: AttributedEvent[];
}

const SCRIPTS: readonly BirthScriptName[] = ['pod_birth', 'pod_birth_lite'];

let node: LocalNode | undefined;

beforeAll(async () => {
  node = await startLocalNode();
}, 300_000);

afterAll(async () => {
  await node?.stop();
}, 180_000);

describe.each(SCRIPTS)('%s program vs the OCI configs', (script) => {
  let lab: Lab | undefined;
  let kubelet: KubeletPods | undefined;
  const run = {} as Run;
  const full = script === 'pod_birth';

  beforeAll(async () => {
    if (node === undefined) {
      throw new Error('the local node did not start');
    }
    kubelet = new KubeletPods(node);
    lab = await Lab.open();
    run.recording = await runBirthScenario(lab, { pods: BIRTH_PODS, kubelet, noise, script });
    run.events = attributeBirthRows(run.recording);
  }, 180_000);

  afterAll(async () => {
    try {
      await kubelet?.close();
    } finally {
      await lab?.close();
    }
  }, 120_000);

  const of = (container: ContainerTruth, event: string): AttributedEvent[] =>
    run.events.filter((e) => e.container?.containerId === container.containerId && e.event === event);

  const ociNamespaces = (container: ContainerTruth): OciNamespace[] => (container.ociConfig['linux'] as { namespaces: OciNamespace[] }).namespaces;

  const sorted = (values: readonly string[]): string[] => [...values].sort();

  const label = (container: ContainerTruth): string => `${container.pod}/${container.container}`;

  const cpuOf = (container: ContainerTruth): { quota?: number; period?: number; shares?: number } =>
    (container.ociConfig['linux'] as { resources: { cpu?: { quota?: number; period?: number; shares?: number } } }).resources.cpu ?? {};

  const written = (container: ContainerTruth, file: string): string[] =>
    of(container, 'cgroup_write')
      .filter((e) => e.row['detail'] === file)
      .map((e) => String(e.row['value']).trim());

  it('sees every container of both layouts born: its cgroup made and entered in every hierarchy, pivot_root', async () => {
    const hierarchies = (await cgroupMounts()).length;
    expect(sorted([...new Set(run.recording.containers.map((c) => c.layout))])).toEqual(['cgroupfs', 'systemd']);
    const idsOf = (container: ContainerTruth, event: string): string[] =>
      sorted(of(container, event).map((e) => `${String(e.row['hierarchy'])}:${String(e.row['cgroup_id'])}`));
    const observed = run.recording.containers.map((c) => ({
      container: label(c),
      hierarchies: c.cgroupIds.length,
      mkdir: idsOf(c, 'cgroup_mkdir'),
      attach: idsOf(c, 'cgroup_attach'),
      pivotRoots: of(c, 'pivot_root').length,
    }));
    const expected = run.recording.containers.map((c) => {
      const ids = sorted(c.cgroupIds.map((x) => `${x.hierarchy}:${x.id}`));
      return { container: label(c), hierarchies, mkdir: ids, attach: ids, pivotRoots: 1 };
    });
    expect(observed).toEqual(expected);
  });

  it("names each pod's own cgroup where the pod was born (pod_birth: only pods whose cgroup got limit writes)", () => {
    const uids = [...new Set(run.recording.containers.map((c) => c.podUid))];
    const named = uids.filter((uid) =>
      run.events.some((e) => e.podLevel && e.event === 'cgroup_mkdir' && e.cgroup.replaceAll('_', '-').includes(`pod${uid}`)),
    );
    // pod_birth names a pod-level cgroup only from writes to its files (the lab writes a pod-level
    // CPU limit when every container has one); pod_birth_lite names it from its containers' events.
    const podLimited = (uid: string): boolean => run.recording.containers.filter((c) => c.podUid === uid && !c.sandbox).every((c) => cpuOf(c).quota !== undefined);
    expect(named).toEqual(full ? uids.filter(podLimited) : uids);
    expect(uids.filter(podLimited).length).toBeGreaterThan(0);
    expect(uids.filter((uid) => !podLimited(uid)).length).toBeGreaterThan(0);
  });

  it("attributes by names (as the PxL does) exactly as by the lab's own cgroup ids", () => {
    const disagreements = run.events.filter((e) => e.container?.containerId !== e.containerById?.containerId);
    expect(disagreements.map((e) => e.row)).toEqual([]);
  });

  it('reports the namespaces each container created (unshare) and joined (setns)', () => {
    const observed = run.recording.containers.map((c) => ({
      container: label(c),
      created: sorted(of(c, 'unshare').flatMap((e) => namespacesInFlags(e.row['flags'] as bigint))),
      joined: sorted(of(c, 'setns').flatMap((e) => namespacesInFlags(e.row['flags'] as bigint))),
    }));
    const expected = run.recording.containers.map((c) => ({
      container: label(c),
      created: sorted(ociNamespaces(c).filter((n) => n.path === undefined).map((n) => n.type)),
      joined: sorted(ociNamespaces(c).filter((n) => n.path !== undefined).map((n) => n.type)),
    }));
    expect(observed).toEqual(expected);
    // App containers do join the sandbox's namespaces: the comparison above is not vacuous.
    expect(observed.some((o) => o.joined.length === 3)).toBe(true);
  });

  it('reports the CPU limit values written to each container cgroup (pod_birth; pod_birth_lite watches no write)', () => {
    const observed = run.recording.containers.map((c) => ({
      container: label(c),
      quota: written(c, 'cpu.cfs_quota_us').filter((v) => v !== '-1'),
      period: cpuOf(c).quota === undefined ? [] : written(c, 'cpu.cfs_period_us'),
      shares: written(c, 'cpu.shares'),
    }));
    const expected = run.recording.containers.map((c) => {
      const cpu = cpuOf(c);
      const seen = (value: number | undefined): string[] => (full && value !== undefined ? [String(value)] : []);
      return { container: label(c), quota: seen(cpu.quota), period: seen(cpu.quota === undefined ? undefined : cpu.period), shares: seen(cpu.shares) };
    });
    expect(observed).toEqual(expected);
    expect(run.events.some((e) => e.event === 'cgroup_write')).toBe(full);
    expect(run.recording.program.includes('sys_enter_write')).toBe(full);
    // Containers with a CPU limit exist: the comparison above is not vacuous.
    expect(run.recording.containers.filter((c) => cpuOf(c).quota !== undefined).length).toBeGreaterThanOrEqual(2);
  });

  it('reports the entrypoint exec, with the syscalls made until then where the probe counts them (pod_birth)', () => {
    const observed = run.recording.containers.map((c) => ({
      container: label(c),
      entrypoint: of(c, 'entrypoint_exec').map((e) => e.row['detail']),
      countedSyscalls: of(c, 'entrypoint_exec').every((e) => (full ? (e.row['syscalls'] as bigint) > 100n : !('syscalls' in e.row))),
    }));
    const expected = run.recording.containers.map((c) => ({
      container: label(c),
      entrypoint: [(c.ociConfig['process'] as { args: string[] }).args[0]],
      countedSyscalls: true,
    }));
    expect(observed).toEqual(expected);
    expect(run.recording.program.includes('raw_syscalls')).toBe(full);
  });

  // The birth certificate of a kubelet-born pod against what the others that took part report on
  // their own: the API server (the pod's uid and container ids, the kubelet's status times),
  // containerd (the OCI spec it wrote in the shim's bundle) and the kernel (the cgroup's limit files).
  it('agrees, for the kubelet-born pods, with the API server, containerd and the kernel', () => {
    const kubelet = run.recording.containers.filter((c) => c.bornBy === 'kubelet');
    expect(run.recording.containers.map((c) => [label(c), c.bornBy])).toEqual(run.recording.containers.map((c) => [label(c), c.layout === 'cgroupfs' ? 'kubelet' : 'runc']));
    expect(kubelet.filter((c) => !c.sandbox).length).toBeGreaterThanOrEqual(2);
    // containerd put each container (id from the API's pod status) in the kubelet's pod cgroup, and
    // the kernel enforces the CPU limit of containerd's spec.
    const limitOf = (c: ContainerTruth): { quota: string; period: string; shares: string } => {
      const cpu = cpuOf(c);
      return { quota: String(cpu.quota ?? -1), period: String(cpu.period ?? 100_000), shares: String(cpu.shares) };
    };
    expect(kubelet.map((c) => ({ container: label(c), cgroup: c.cgroupPath, limits: c.limitFiles }))).toEqual(
      kubelet.map((c) => ({ container: label(c), cgroup: `/kubepods/${c.qos}/pod${c.podUid}/${c.containerId}`, limits: limitOf(c) })),
    );
    // The order of birth: the kubelet acknowledged the pod (status.startTime) before the kernel saw
    // any of its containers' cgroups made; the sandbox's cgroup came before the app containers';
    // each app container's cgroup was made before containerd recorded its start (startedAt). The
    // API's times are whole seconds (RFC 3339), so the kernel's times are compared at that
    // precision, with 1 ms for the millisecond wall clock the probe's clock offset was read from.
    const second = (iso: string): bigint => BigInt(Date.parse(iso)) / 1000n;
    const mkdirNs = (c: ContainerTruth): bigint => (of(c, 'cgroup_mkdir')[0]?.row['time_'] as bigint | undefined) ?? -1n;
    const ms = 1_000_000n;
    const observed = kubelet.map((c) => {
      const mkdir = mkdirNs(c);
      const sandbox = kubelet.find((s) => s.sandbox && s.podUid === c.podUid);
      const reported = c.reported ?? undefined;
      return {
        container: label(c),
        mkdirSeen: mkdir > 0n,
        acknowledgedFirst: reported !== undefined && (mkdir + ms) / 1_000_000_000n >= second(reported.podStarted),
        afterSandbox: c.sandbox || (sandbox !== undefined && mkdir > mkdirNs(sandbox)),
        beforeStart: c.sandbox || (typeof reported?.containerStarted === 'string' && (mkdir - ms) / 1_000_000_000n <= second(reported.containerStarted)),
      };
    });
    expect(observed).toEqual(kubelet.map((c) => ({ container: label(c), mkdirSeen: true, acknowledgedFirst: true, afterSandbox: true, beforeStart: true })));
  });

  it("reports what the kubelet wrote to each of its pods' own cgroup, as the kernel shows it (pod_birth; pod_birth_lite watches no write)", () => {
    const pods = [...new Map(run.recording.containers.filter((c) => c.bornBy === 'kubelet').map((c) => [c.podUid, c])).values()];
    expect(pods.length).toBeGreaterThan(0);
    // The kubelet's last write of each file (it may write a file more than once) is what the file holds.
    const lastWrite = (uid: string, file: string): string | undefined =>
      run.events
        .filter((e) => e.event === 'cgroup_write' && e.podLevel && e.cgroup === `pod${uid}` && e.row['detail'] === file)
        .map((e) => String(e.row['value']).trim())
        .at(-1);
    const observed = pods.map((c) => ({ pod: c.pod, quota: lastWrite(c.podUid, 'cpu.cfs_quota_us'), period: lastWrite(c.podUid, 'cpu.cfs_period_us'), shares: lastWrite(c.podUid, 'cpu.shares') }));
    const expected = pods.map((c) => ({
      pod: c.pod,
      quota: full ? c.podLimitFiles?.quota : undefined,
      period: full ? c.podLimitFiles?.period : undefined,
      shares: full ? c.podLimitFiles?.shares : undefined,
    }));
    expect(observed).toEqual(expected);
    expect(pods.every((c) => c.podLimitFiles !== null && c.podLimitFiles !== undefined)).toBe(true);
  });

  it('reports nothing from unrelated processes', () => {
    // Every event is about a lab container's cgroup, or the pod / kubepods cgroups the lab (as a
    // kubelet) and runc made for the lab's pods.
    const unrelated = run.events.filter((e) => e.containerById === undefined && !e.podLevel);
    expect(unrelated.map((e) => e.row)).toEqual([]);
    expect(run.events.filter((e) => ['unshare', 'sh', 'mount', 'true'].includes(String(e.row['comm'])) && e.container === undefined)).toEqual([]);
  });
});

describe('teardown', () => {
  it('stops the node leaving no process, cgroup, bridge or folder', async () => {
    if (node === undefined) {
      throw new Error('the local node did not start');
    }
    await node.stop();
    expect(await nodeLeftovers(node)).toEqual([]);
  }, 180_000);
});
