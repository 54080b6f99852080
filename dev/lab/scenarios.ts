/**
 * Lab scenarios: run a script's bpftrace program while real pods do real work, and keep the lab's
 * own ground truth beside what the probe saw. The result is a {@link Recording}: plain JSON (big
 * integers as decimal strings) that tests assert on and that `dev/lab/record.ts` saves as fixtures.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { BirthScriptName, ScriptName } from '../../shared/pxl/scripts.ts';
import type { Column } from '../../shared/pxl/bpftrace-program.ts';
import type { PrintfLayout } from '../../shared/pxl/printf-layout.ts';
import { startProbe } from './bpftrace-runner.ts';
import { readCpuStat } from './cgroupfs.ts';
import type { CpuStat } from './cpu-stat.ts';
import type { KubeletPods, RequestedPod } from './kubelet-pods.ts';
import { cpuHierarchy, type Lab, type LabContainer, type LabPod, type LimitFiles, type PodSpec } from './lab.ts';
import { sampleCpuStat, sampleProcessStats } from './samplers.ts';
import { loadRepoScript } from './scripts.ts';

/** cpu.stat with bigints as decimal strings. */
export type CpuStatJson = { readonly [K in keyof CpuStat]: string };

export interface ContainerTruth {
  readonly pod: string;
  readonly namespace: string;
  readonly podUid: string;
  readonly owner: { readonly kind: string; readonly name: string } | null;
  readonly layout: string;
  readonly qos: string;
  readonly container: string;
  readonly containerId: string;
  readonly sandbox: boolean;
  readonly cgroupPath: string;
  /** `(hierarchy id, kernfs id)` of the container cgroup in every hierarchy (what probes print as cgroup ids). */
  readonly cgroupIds: readonly { readonly hierarchy: number; readonly id: number }[];
  /** The same for the pod cgroup and its kubepods parents. */
  readonly podCgroupIds: readonly { readonly hierarchy: number; readonly id: number }[];
  readonly pid: number;
  readonly ociConfig: Record<string, unknown>;
  /** cpu.stat when the lab first saw the cgroup, and after the workload ended (app containers only). */
  readonly cpuStatBefore: CpuStatJson | null;
  readonly cpuStatAfter: CpuStatJson | null;
  /** Who made the pod: the runc lab, or a node's kubelet (recordings before the node have no field: runc). */
  readonly bornBy?: 'runc' | 'kubelet';
  /** The container cgroup's CPU limit files once it ran. */
  readonly limitFiles?: LimitFiles | null;
  /** The pod-level cgroup's CPU limit files once the pod's sandbox ran. */
  readonly podLimitFiles?: LimitFiles | null;
  /** A kubelet's pod: the API server's times for the pod and this container (see lab.ts PodReport). */
  readonly reported?: { readonly podCreated: string; readonly podStarted: string; readonly containerStarted: string | null } | null;
}

export interface Recording {
  readonly schemaVersion: 1;
  readonly script: ScriptName;
  readonly recordedAt: string;
  readonly kernel: string;
  readonly program: string;
  readonly format: string;
  readonly columns: readonly Column[];
  /** Add to bpftrace's monotonic `nsecs` to get wall-clock ns (what Pixie shows as time_). */
  readonly clockOffsetNs: string;
  /** Monotonic ns when the probe was attached and when it was stopped. */
  readonly windowMonoNs: { readonly start: string; readonly end: string };
  /** Every printf of the probe, as bpftrace formatted it. */
  readonly printfs: readonly string[];
  /**
   * The program's printf structs from bpftrace's dry run (`bpftrace -d`), in printf order: what the
   * replay decodes the printfs with, as a PEM would (pem-rows.ts). dev/lab/record.ts adds them.
   */
  readonly printfLayouts?: readonly PrintfLayout[];
  readonly containers: readonly ContainerTruth[];
  /** cpu.stat samples of each app container's cgroup, on the monotonic clock. */
  readonly cpuStatSamples: readonly { readonly cgroupPath: string; readonly startNs: string; readonly endNs: string; readonly stat: CpuStatJson }[];
  /** process_stats columns sampled from /proc every second (bigints as strings). */
  readonly processStats: readonly { readonly monoNs: string; readonly cgroupPath: string; readonly stats: Record<string, string | number> }[];
}

const statJson = (stat: CpuStat): CpuStatJson => ({
  nrPeriods: stat.nrPeriods.toString(),
  nrThrottled: stat.nrThrottled.toString(),
  throttledTimeNs: stat.throttledTimeNs.toString(),
  nrBursts: stat.nrBursts.toString(),
  burstTimeNs: stat.burstTimeNs.toString(),
});

/** cpu.stat of a cgroup the kernel just made (kernel/sched/core.c: a task group's bandwidth statistics start zeroed). */
const NEW_CGROUP_CPU_STAT: CpuStat = { nrPeriods: 0n, nrThrottled: 0n, throttledTimeNs: 0n, nrBursts: 0n, burstTimeNs: 0n };

const stringify = (record: object): Record<string, string | number> =>
  Object.fromEntries(Object.entries(record).map(([k, v]) => [k, typeof v === 'bigint' ? v.toString() : (v as string | number)]));

const kernelRelease = async (): Promise<string> => {
  const { readFile } = await import('node:fs/promises');
  return (await readFile('/proc/sys/kernel/osrelease', 'utf8')).trim();
};

const truthOf = (container: LabContainer, before: CpuStat | undefined, after: CpuStat | undefined): ContainerTruth => ({
  pod: container.pod.spec.name,
  namespace: container.pod.spec.namespace,
  podUid: container.pod.uid,
  owner: container.pod.spec.owner ?? null,
  layout: container.pod.spec.layout,
  qos: container.pod.spec.qos,
  container: container.name,
  containerId: container.id,
  sandbox: container.sandbox,
  cgroupPath: container.cgroupPath,
  cgroupIds: container.cgroupIds,
  podCgroupIds: container.pod.cgroupIds,
  pid: container.pid,
  ociConfig: container.ociConfig,
  cpuStatBefore: before === undefined ? null : statJson(before),
  cpuStatAfter: after === undefined ? null : statJson(after),
  bornBy: container.pod.bornBy,
  limitFiles: container.limitFiles ?? null,
  podLimitFiles: container.pod.limitFiles ?? null,
  reported:
    container.pod.reported === undefined
      ? null
      : { podCreated: container.pod.reported.created, podStarted: container.pod.reported.started, containerStarted: container.pod.reported.containersStarted[container.name] ?? null },
});

/** The containers of a pod, sandbox first (the order of a recording's truth). */
const containersOf = (pods: readonly LabPod[]): LabContainer[] => pods.flatMap((pod) => [pod.sandbox, ...pod.containers]);

/**
 * Who births each pod: with a node, its kubelet births every pod of the layout it gives (cgroupfs);
 * the runc lab births the rest (the systemd layout; see lab.ts) and every pod without a node.
 */
const byBirther = (pods: readonly PodSpec[], kubelet: KubeletPods | undefined): { readonly kubelet: PodSpec[]; readonly runc: PodSpec[] } => ({
  kubelet: kubelet === undefined ? [] : pods.filter((p) => p.layout === 'cgroupfs'),
  runc: pods.filter((p) => kubelet === undefined || p.layout !== 'cgroupfs'),
});

/** Container cgroups below the given pod cgroups right now (a kubelet's containers, before the API names them). */
const containerCgroupsBelow = async (cpuRoot: string, podCgroups: readonly string[]): Promise<string[]> => {
  const found: string[] = [];
  for (const pod of podCgroups) {
    const entries = await readdir(path.join(cpuRoot, pod), { withFileTypes: true }).catch(() => []);
    found.push(...entries.filter((e) => e.isDirectory()).map((e) => path.posix.join(pod, e.name)));
  }
  return found;
};

/** Pods in the order they were asked for. */
const inSpecOrder = (specs: readonly PodSpec[], pods: readonly LabPod[]): LabPod[] =>
  specs.flatMap((spec) => pods.filter((pod) => (pod.asked ?? pod.spec) === spec));

export interface ScenarioOptions {
  readonly pods: readonly PodSpec[];
  /** A real node's kubelet (kubelet-pods.ts): it births the pods of the layout it gives. */
  readonly kubelet?: KubeletPods;
  /** Extra time the probe keeps running after the workloads end. */
  readonly settleMs?: number;
  readonly cpuStatEveryMs?: number;
  readonly signal?: AbortSignal;
}

/**
 * CPU throttling: starts the throttle program, creates the pods, starts every app container, samples
 * cpu.stat (every 20 ms) and /proc (every second) until the workloads end, then stops the probe.
 */
export const runThrottleScenario = async (lab: Lab, options: ScenarioOptions): Promise<Recording> => {
  const script = await loadRepoScript('cpu_throttle');
  const cpuRoot = await cpuHierarchy();
  const birthers = byBirther(options.pods, options.kubelet);
  const probe = await startProbe(script.program, { bpftrace: lab.host.bpftrace, ...(options.signal ? { signal: options.signal } : {}) });
  const windowStart = process.hrtime.bigint();
  const apps: LabContainer[] = [];
  const requested: RequestedPod[] = [];
  const before = new Map<string, CpuStat>();
  // A kubelet's containers are sampled from the moment their cgroups exist, before the API names them.
  // Each cgroup once: a born kubelet container is both an app and below its pod cgroup (read twice,
  // its process_stats would have two rows per sample, where Pixie has one).
  const paths = async (): Promise<string[]> => [...new Set([...apps.map((c) => c.cgroupPath), ...(await containerCgroupsBelow(cpuRoot, requested.map((r) => r.cgroupPath)))])];
  const cpuStats = sampleCpuStat(cpuRoot, paths, options.cpuStatEveryMs ?? 20);
  const procStats = sampleProcessStats(cpuRoot, paths);
  const pods: LabPod[] = [];
  const started = async (container: LabContainer): Promise<void> => {
    apps.push(container);
    // A kubelet's container runs its workload from the moment containerd starts it, before the API
    // server reports it running: a read now would miss its first periods, which the probe (attached
    // before the pod was asked for) did see. Its cgroup was made after the probe attached, and a new
    // cgroup's bandwidth counters start at zero: that is its cpu.stat before.
    before.set(container.id, container.pod.bornBy === 'kubelet' ? NEW_CGROUP_CPU_STAT : await readCpuStat(container.cgroupPath, cpuRoot));
  };
  try {
    for (const spec of birthers.kubelet) {
      requested.push(await (options.kubelet as KubeletPods).create(spec));
    }
    for (const spec of birthers.runc) {
      pods.push(await lab.createPod(spec));
    }
    for (const pod of [...pods]) {
      for (const container of pod.containers) {
        await lab.startContainer(container);
        await started(container);
      }
    }
    for (const pod of requested) {
      const born = await (options.kubelet as KubeletPods).waitBorn(pod);
      pods.push(born);
      for (const container of born.containers) {
        await started(container);
      }
    }
    for (const container of apps) {
      await (container.pod.bornBy === 'kubelet' ? (options.kubelet as KubeletPods).waitWorkloadDone(container) : lab.waitExited(container));
    }
    await new Promise((resolve) => setTimeout(resolve, options.settleMs ?? 200));
  } finally {
    await cpuStats.stop();
    await procStats.stop();
  }
  const after = new Map<string, CpuStat>();
  for (const container of apps) {
    after.set(container.id, await readCpuStat(container.cgroupPath, cpuRoot));
  }
  await probe.stop();
  const windowEnd = process.hrtime.bigint();
  const appPaths = new Set(apps.map((c) => c.cgroupPath));
  return {
    schemaVersion: 1,
    script: 'cpu_throttle',
    recordedAt: new Date().toISOString(),
    kernel: await kernelRelease(),
    program: script.program,
    format: script.output.format,
    columns: script.output.columns,
    clockOffsetNs: probe.clockOffsetNs.toString(),
    windowMonoNs: { start: windowStart.toString(), end: windowEnd.toString() },
    printfs: [...probe.texts()],
    containers: containersOf(inSpecOrder(options.pods, pods)).map((c) => truthOf(c, before.get(c.id), after.get(c.id))),
    // Only the app containers' samples (the listing of a kubelet's pod cgroups also found its sandbox).
    cpuStatSamples: cpuStats
      .samples()
      .filter((s) => appPaths.has(s.cgroupPath))
      .map((s) => ({ cgroupPath: s.cgroupPath, startNs: s.startNs.toString(), endNs: s.endNs.toString(), stat: statJson(s.stat) })),
    processStats: procStats
      .samples()
      .filter((s) => appPaths.has(s.cgroupPath))
      .map((s) => ({ monoNs: s.monoNs.toString(), cgroupPath: s.cgroupPath, stats: stringify(s.stats) })),
  };
};

/**
 * Pod birth: starts the birth program, creates the pods (sandbox first, then each app container
 * joining the sandbox's namespaces), waits for the workloads to end, then stops the probe. `noise`
 * runs while the probe is attached, to prove unrelated processes leave no event.
 */
export const runBirthScenario = async (
  lab: Lab,
  options: ScenarioOptions & { readonly noise?: () => Promise<void>; readonly script?: BirthScriptName },
): Promise<Recording> => {
  const script = await loadRepoScript(options.script ?? 'pod_birth');
  const birthers = byBirther(options.pods, options.kubelet);
  const probe = await startProbe(script.program, { bpftrace: lab.host.bpftrace, ...(options.signal ? { signal: options.signal } : {}) });
  const windowStart = process.hrtime.bigint();
  const pods: LabPod[] = [];
  try {
    const noise = options.noise?.();
    const requested: RequestedPod[] = [];
    for (const spec of birthers.kubelet) {
      requested.push(await (options.kubelet as KubeletPods).create(spec));
    }
    for (const spec of birthers.runc) {
      const pod = await lab.createPod(spec);
      pods.push(pod);
      await lab.startPod(pod);
    }
    for (const pod of requested) {
      pods.push(await (options.kubelet as KubeletPods).waitBorn(pod));
    }
    for (const pod of pods) {
      for (const container of pod.containers) {
        await (pod.bornBy === 'kubelet' ? (options.kubelet as KubeletPods).waitWorkloadDone(container) : lab.waitExited(container));
      }
    }
    await noise;
    await new Promise((resolve) => setTimeout(resolve, options.settleMs ?? 200));
  } finally {
    await probe.stop();
  }
  const windowEnd = process.hrtime.bigint();
  return {
    schemaVersion: 1,
    script: script.name,
    recordedAt: new Date().toISOString(),
    kernel: await kernelRelease(),
    program: script.program,
    format: script.output.format,
    columns: script.output.columns,
    clockOffsetNs: probe.clockOffsetNs.toString(),
    windowMonoNs: { start: windowStart.toString(), end: windowEnd.toString() },
    printfs: [...probe.texts()],
    containers: containersOf(inSpecOrder(options.pods, pods)).map((c) => truthOf(c, undefined, undefined)),
    cpuStatSamples: [],
    processStats: [],
  };
};
