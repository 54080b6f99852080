/**
 * Certificate assembly and throttle verdicts on recordings of the real kernel (the kernel lab's
 * fixtures). The expected values come from the OCI configs the lab gave runc and from cpu.stat,
 * not from the analysis.
 */
import { describe, expect, it } from 'vitest';
import { birthCertificates, throttleVerdict, type ContainerBirth, type NamespaceName } from '../../../shared/analysis/index.ts';
import { workloadOfArgs } from '../../../dev/lab/kubelet-pods.ts';
import { birthCapture, birthNames, loadRecording, throttleCounters } from './lab-fixture.ts';

const OCI_NS: Record<string, NamespaceName> = { pid: 'pid', network: 'net', ipc: 'ipc', uts: 'uts', mount: 'mnt', cgroup: 'cgroup', user: 'user', time: 'time' };

interface OciShape {
  process: { args: string[] };
  linux: { namespaces: { type: string; path?: string }[]; resources: { cpu?: { quota?: number; period?: number } } };
}

describe('birth certificates from the recorded lab', async () => {
  const recording = await loadRecording('birth');
  const certs = birthCertificates(birthCapture(recording), birthNames(recording));
  const births = new Map<string, ContainerBirth>();
  for (const cert of certs) {
    for (const b of [...(cert.sandbox === undefined ? [] : [cert.sandbox]), ...cert.containers]) {
      births.set(b.containerId, b);
    }
  }

  it('finds every pod of the lab, in both cgroup layouts, with its sandbox recognised', () => {
    const pods = [...new Set(recording.containers.map((c) => c.podUid))];
    expect(certs.map((c) => c.podUid).sort()).toEqual(pods.sort());
    for (const cert of certs) {
      const truth = recording.containers.filter((c) => c.podUid === cert.podUid);
      expect(cert.sandbox?.containerId).toBe(truth.find((c) => c.sandbox)?.containerId);
      expect(cert.containers.map((c) => c.name).sort()).toEqual(truth.filter((c) => !c.sandbox).map((c) => c.container).sort());
      expect(cert.qos).toBe(truth[0]!.qos);
      expect(cert.pod).toBe(truth[0]!.pod);
      // The lab gives a pod a CPU limit when every app container has one: the sum of theirs.
      const apps = truth.filter((c) => !c.sandbox).map((c) => (c.ociConfig as unknown as OciShape).linux.resources.cpu);
      const written = Object.fromEntries(cert.podLimitsWritten?.map((l) => [l.file, Number(l.value)]) ?? []);
      const podCores = written['cpu.cfs_quota_us'] === undefined ? null : written['cpu.cfs_quota_us'] / (written['cpu.cfs_period_us'] ?? Number.NaN);
      const expectedCores = apps.every((cpu) => cpu?.quota !== undefined)
        ? apps.reduce((sum, cpu) => sum + (cpu?.quota ?? 0) / (cpu?.period ?? 100_000), 0)
        : null;
      expect(podCores === null ? null : Number(podCores.toFixed(6))).toBe(expectedCores === null ? null : Number(expectedCores.toFixed(6)));
    }
  });

  it.each(recording.containers.map((c) => [`${c.pod}/${c.container}`, c] as const))('%s: entrypoint, namespaces and limits match its OCI config', (_name, truth) => {
    const birth = births.get(truth.containerId);
    expect(birth).toBeDefined();
    const oci = truth.ociConfig as unknown as OciShape;
    expect(birth!.entrypoint?.filename).toBe(oci.process.args[0]);
    const created = oci.linux.namespaces.filter((n) => n.path === undefined).map((n) => OCI_NS[n.type]);
    const joined = oci.linux.namespaces.filter((n) => n.path !== undefined).map((n) => OCI_NS[n.type]);
    expect(new Set(birth!.namespacesCreated?.filter((n) => n.via === 'unshare').map((n) => n.namespace))).toEqual(new Set(created));
    expect(new Set(birth!.namespacesJoined?.map((n) => n.namespace))).toEqual(new Set(joined));
    const cpu = oci.linux.resources.cpu;
    const written = Object.fromEntries(birth!.limitsWritten?.map((l) => [l.file, l.value]) ?? []);
    // The quota and period runc wrote are the OCI config's (both absent for containers without a limit).
    expect([written['cpu.cfs_quota_us'], written['cpu.cfs_period_us']]).toEqual(
      cpu?.quota === undefined ? [undefined, undefined] : [String(cpu.quota), String(cpu.period)],
    );
    expect(Object.keys(written).filter((f) => f.startsWith('cgroup.') || f.startsWith('devices.'))).toEqual([]);
    expect(birth!.timeline.filter((s) => s.kind === 'cgroup_write' && s.summary.startsWith('write cgroup.procs')).length).toBeGreaterThan(0);
    expect(birth!.cgroupsCreated?.length).toBe(truth.cgroupIds.length);
    expect(birth!.pivotRoots).toHaveLength(1);
    expect(birth!.mounts?.length).toBeGreaterThan(0);
    expect(birth!.runtimeSyscalls?.total).toBeGreaterThan(0);
    expect(birth!.runtimeSyscalls).not.toHaveProperty('byName');
  });

  it('orders every timeline and keeps its durations equal to the timestamp differences', () => {
    for (const birth of births.values()) {
      const times = birth.timeline.map((s) => s.atNs);
      expect(times).toEqual([...times].sort((a, b) => a - b));
      birth.timeline.forEach((s, i) => {
        expect(s.sinceFirstMs).toBeCloseTo((s.atNs - times[0]!) / 1e6, 9);
        expect(s.sincePreviousMs).toBeCloseTo(i === 0 ? 0 : (s.atNs - times[i - 1]!) / 1e6, 9);
      });
      const firstMkdir = birth.cgroupsCreated?.[0];
      expect(birth.cgroupToEntrypointMs).toBeCloseTo((birth.entrypoint!.atNs - firstMkdir!.atNs) / 1e6, 9);
      expect(birth.cgroupToEntrypointMs).toBeGreaterThan(0);
      // Creation steps come before the entrypoint: cgroup, then namespaces, then pivot_root, then exec.
      const at = (kind: string) => birth.timeline.find((s) => s.kind === kind)?.atNs ?? Number.NaN;
      expect(at('cgroup_mkdir')).toBeLessThan(at('unshare'));
      expect(at('unshare')).toBeLessThan(at('pivot_root'));
      expect(at('pivot_root')).toBeLessThan(birth.entrypoint!.atNs);
    }
  });
});

describe('throttle verdicts from the recorded lab', async () => {
  const recording = await loadRecording('throttle');
  const counters = throttleCounters(recording);

  it('judges every limited app container, and agrees with cpu.stat on whether it was throttled', () => {
    const limited = recording.containers.filter((c) => c.cpuStatAfter !== null && (c.ociConfig as unknown as OciShape).linux.resources.cpu?.quota !== undefined);
    expect(limited.length).toBeGreaterThan(0);
    const rows = limited.map((truth) => {
      const c = counters.get(truth.container);
      const v = c === undefined ? undefined : throttleVerdict(c);
      const byCpuStat = Number(truth.cpuStatAfter!.nrThrottled) - Number(truth.cpuStatBefore!.nrThrottled);
      return { container: truth.container, throttledByCpuStat: byCpuStat > 0, throttledByProbe: (v?.measures.throttledPeriods ?? -1) > 0, healthy: v?.kind === 'healthy', withinCpuStat: (v?.measures.throttledPeriods ?? Infinity) <= byCpuStat };
    });
    // The probe sees a subset of the periods cpu.stat counted, throttling iff cpu.stat does, and
    // a container the kernel never throttled is healthy.
    expect(rows).toEqual(rows.map((r) => ({ ...r, throttledByProbe: r.throttledByCpuStat, healthy: !r.throttledByCpuStat, withinCpuStat: true })));
    expect(rows.some((r) => r.throttledByCpuStat)).toBe(true);
  });

  it('calls a steady burner that wants more cores than its limit saturated, from process_stats CPU time', () => {
    // `burner steady <threads> <ms>` keeps <threads> threads runnable: it wants <threads> cores.
    const steady = recording.containers.filter((c) => {
      const oci = c.ociConfig as unknown as OciShape;
      const cpu = oci.linux.resources.cpu;
      const workload = workloadOfArgs(oci.process.args);
      return workload[1] === 'steady' && cpu?.quota !== undefined && Number(workload[2]) > cpu.quota / (cpu.period ?? 100_000);
    });
    expect(steady.length).toBeGreaterThan(0);
    const verdicts = steady.map((c) => throttleVerdict(counters.get(c.container)!));
    expect(verdicts.map((v) => [v.kind, v.measures.cpuUse?.source])).toEqual(steady.map(() => ['saturated', 'measured']));
  });
});
