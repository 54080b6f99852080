/**
 * Findings as Kubernetes objects (pure mapping): a KernelWhisper per workload container, whose spec
 * is the latest throttle evidence and whose status is the latest remediation decision, and a
 * PodBirthCertificate per pod. Field names follow the CRDs in `k8s/crds/`.
 *
 * @module
 */
import type { BirthFinding, ContainerBirth, RemediationFinding, ThrottleFinding } from '../findings/types.ts';
import { formatCpu } from './policy.ts';

export const GROUP = 'kernel.gossip.io';
export const VERSION = 'v1alpha1';
export const KERNEL_WHISPERS = 'kernelwhispers';
export const POD_BIRTH_CERTIFICATES = 'podbirthcertificates';

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob', 'Pod']);

/** A DNS-1123 subdomain from free text: lower case, `[a-z0-9.-]`, alphanumeric at both ends, at most 253. */
export const objectName = (...parts: readonly string[]): string => {
  const name = parts
    .join('-')
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '')
    .slice(0, 253)
    .replace(/[^a-z0-9]+$/, '');
  return name === '' ? 'unnamed' : name;
};

/** The KernelWhisper of a workload container. */
export const kernelWhisperName = (workloadName: string, container: string): string => objectName(workloadName, container);

const round = (value: number, digits: number): number => Number(value.toFixed(digits));

const workloadRef = (kind: string, name: string) => ({
  apiVersion: kind === 'Pod' ? 'v1' : kind === 'Job' || kind === 'CronJob' ? 'batch/v1' : 'apps/v1',
  kind: WORKLOAD_KINDS.has(kind) ? kind : 'Pod',
  name,
});

const labels = (cluster: string, workload: string) => ({
  'app.kubernetes.io/managed-by': 'kernel-gossip',
  'kernel.gossip.io/cluster': objectName(cluster).slice(0, 63).replace(/[^a-z0-9]+$/, ''),
  'kernel.gossip.io/workload': objectName(workload).slice(0, 63).replace(/[^a-z0-9]+$/, ''),
});

/** The server-side apply body of a KernelWhisper for a throttle finding (spec only). */
export const kernelWhisperFor = (finding: ThrottleFinding): Record<string, unknown> => {
  const t = finding.throttle;
  const periods = t.pods.reduce((sum, pod) => sum + pod.counters.periods, 0);
  const throttledPeriods = t.pods.reduce((sum, pod) => sum + pod.counters.throttledPeriods, 0);
  const throttledNs = t.pods.reduce((sum, pod) => sum + pod.counters.throttledTimeNs, 0);
  const first = t.pods[0]?.counters;
  const evidence: Record<string, unknown> = {
    periods,
    throttledPeriods,
    throttledSeconds: round(throttledNs / 1e9, 6),
    throttledPercent: round(Math.min(100, t.throttledRatio * 100), 2),
    cpuLimit: formatCpu(t.limitMillicores),
  };
  if (first !== undefined) {
    evidence['cfsQuotaMicros'] = first.quotaUs;
    evidence['cfsPeriodMicros'] = first.periodUs;
    if (first.burstUs !== undefined) {
      evidence['cfsBurstMicros'] = first.burstUs;
    }
  }
  if (t.meanUseOfLimit !== undefined) {
    evidence['meanUsePercentOfLimit'] = round(t.meanUseOfLimit * 100, 2);
    evidence['meanUseCores'] = round((t.meanUseOfLimit * t.limitMillicores) / 1000, 4);
  }
  const spec: Record<string, unknown> = {
    findingId: finding.id,
    cluster: finding.cluster,
    source: finding.source,
    workload: workloadRef(finding.workload.kind, finding.workload.name),
    pods: t.pods.slice(0, 100).map((pod) => pod.pod),
    container: finding.workload.container,
    observedWindow: { start: finding.observedWindow.start, end: finding.observedWindow.end },
    consecutiveWindows: t.consecutiveWindows,
    verdict: t.verdict,
    metricsLie: t.verdict === 'metrics-lie',
    summary: finding.summary.slice(0, 1024),
    evidence,
  };
  if (t.recommendedLimitMillicores !== undefined) {
    spec['recommendation'] = {
      cpuLimit: formatCpu(t.recommendedLimitMillicores),
      ...(t.expectedThrottledRatio === undefined ? {} : { targetThrottledPercent: round(t.expectedThrottledRatio * 100, 2) }),
      reason: t.reason.slice(0, 1024),
    };
  }
  return {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: 'KernelWhisper',
    metadata: {
      name: kernelWhisperName(finding.workload.name, finding.workload.container),
      namespace: finding.namespace,
      labels: labels(finding.cluster, finding.workload.name),
    },
    spec,
  };
};

const OUTCOME_WORDS: Readonly<Record<RemediationFinding['remediation']['outcome'], string>> = {
  applied: 'Applied',
  recommended: 'Recommended',
  skipped: 'Skipped',
  conflict: 'Conflict',
  failed: 'Failed',
};

/** The status apply body of a KernelWhisper for a remediation decision. */
export const kernelWhisperStatusFor = (finding: RemediationFinding, fieldManager: string): Record<string, unknown> => {
  const r = finding.remediation;
  return {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: 'KernelWhisper',
    metadata: { name: kernelWhisperName(finding.workload.name, finding.workload.container), namespace: finding.namespace },
    status: {
      lastFindingId: r.findingId,
      ...(r.outcome === 'applied' ? { lastActionTime: finding.producedAt } : {}),
      remediation: {
        mode: r.mode,
        outcome: OUTCOME_WORDS[r.outcome],
        reason: r.reason.slice(0, 256),
        message: finding.summary.slice(0, 4096),
        ...(r.fromLimitMillicores === undefined ? {} : { fromCpuLimit: formatCpu(r.fromLimitMillicores) }),
        ...(r.toLimitMillicores === undefined ? {} : { toCpuLimit: formatCpu(r.toLimitMillicores) }),
        decidedTime: finding.producedAt,
        fieldManager: r.conflictingManager ?? fieldManager,
        ...(r.patch === undefined ? {} : { patch: r.patch.slice(0, 16_384) }),
      },
    },
  };
};

/** Milliseconds with microsecond precision, and the CRD's human form (`412ms`, `1.2s`, `850us`). */
const millis = (ns: number): number => round(ns / 1e6, 3);
const humanDuration = (ns: number): string =>
  ns < 1e6 ? `${Math.round(ns / 1e3)}us` : ns < 1e9 ? `${round(ns / 1e6, 1)}ms` : `${round(ns / 1e9, 3)}s`;

/** A container's record; `limitFilesWritten` is left out when the probe did not watch cgroup writes (absent, not empty). */
const containerRecord = (c: ContainerBirth, captured: readonly string[]): Record<string, unknown> => ({
  name: objectName(c.name).slice(0, 63).replace(/[^a-z0-9]+$/, '') || 'container',
  ...(c.timeToEntrypointNs === undefined ? {} : { timeToEntrypointMillis: millis(c.timeToEntrypointNs) }),
  cgroupsCreated: c.cgroupsCreated.length,
  ...(captured.includes('cgroup_write') ? { limitFilesWritten: c.limitWrites.map((write) => ({ file: write.file, value: write.value })) } : {}),
  namespacesCreated: [...c.namespacesCreated],
  namespacesJoined: [...c.namespacesJoined],
  mounts: c.mounts.length,
  pivotRoot: c.pivotRoot !== undefined,
  execs: c.execs.length,
  ...(c.runtimeSyscalls === undefined ? {} : { syscalls: c.runtimeSyscalls }),
  steps: c.steps.slice(0, 256).map((step) => ({
    step: step.kind.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^[^a-z]+/, 'x') || 'step',
    offsetMillis: millis(step.offsetNs),
    detail: step.detail.slice(0, 1024),
  })),
});

/**
 * The apply body of a PodBirthCertificate. `existing` holds containers already recorded from other
 * parts of a split certificate; containers are merged by name so every part adds, none erases.
 */
export const podBirthCertificateFor = (finding: BirthFinding, existing: readonly Record<string, unknown>[] = []): Record<string, unknown> => {
  const b = finding.birth;
  const merged = new Map<string, Record<string, unknown>>();
  for (const container of existing) {
    merged.set(String(container['name']), container);
  }
  for (const container of b.containers) {
    const record = containerRecord(container, b.captured);
    merged.set(String(record['name']), record);
  }
  const containers = [...merged.values()].slice(0, 64);
  const app = b.containers.filter((c) => !c.sandbox && c.timeToEntrypointNs !== undefined);
  const slowest = app.reduce<number | undefined>((max, c) => Math.max(max ?? 0, c.timeToEntrypointNs ?? 0), undefined);
  const syscalls = b.containers.every((c) => c.runtimeSyscalls !== undefined)
    ? b.containers.reduce((sum, c) => sum + (c.runtimeSyscalls ?? 0), 0)
    : undefined;
  const firstEvent = b.containers.map((c) => c.firstEventAt).sort()[0];
  const spec: Record<string, unknown> = {
    findingId: finding.id,
    cluster: finding.cluster,
    source: finding.source,
    pod: { name: b.pod, ...(b.podUid === '' ? {} : { uid: b.podUid }) },
    node: b.node,
    workload: workloadRef(finding.workload.kind, finding.workload.name),
    ...(firstEvent === undefined ? {} : { bornTime: firstEvent }),
    containerCount: containers.length,
    ...(slowest === undefined ? {} : { timeToEntrypoint: humanDuration(slowest), timeToEntrypointMillis: millis(slowest) }),
    ...(syscalls === undefined || existing.length > 0 ? {} : { syscalls }),
    containers,
  };
  return {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: 'PodBirthCertificate',
    metadata: { name: objectName(b.pod), namespace: finding.namespace, labels: labels(finding.cluster, finding.workload.name) },
    spec,
  };
};
