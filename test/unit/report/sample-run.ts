/**
 * A realistic run for the report tests: throttle findings produced by the real analysis path
 * (`shared/observe/throttle-findings.ts`) from CFS counters over three windows, a pod birth
 * certificate split into parts by the real size guard, and remediation results including a
 * conflict with a GitOps manager.
 */
import type { ContainerCounters } from '../../../shared/analysis/index.ts';
import { stableId } from '../../../shared/findings/codec.ts';
import { FINDING_SCHEMA_VERSION } from '../../../shared/findings/schema.ts';
import { fitToMessageLimit } from '../../../shared/findings/size.ts';
import type { BirthFinding, BirthStep, ContainerBirth, Finding, RemediationFinding, ThrottleFinding } from '../../../shared/findings/types.ts';
import { BIRTH_PROBE_CAPTURES } from '../../../shared/observe/births.ts';
import { throttleFindings, type WindowCounters } from '../../../shared/observe/throttle-findings.ts';

const WINDOW_S = 60;
const RUN_END_MS = Date.parse('2026-11-27T12:03:00Z');
const PERIOD_NS = 100_000_000;

interface PodLoad {
  readonly pod: string;
  readonly node: string;
  /** Share of periods throttled, and ms throttled per throttled period. */
  readonly throttledShare: number;
  readonly msPerThrottle: number;
  /** CPU used as a share of the limit over the window; undefined = not measured. */
  readonly useOfLimit?: number;
}

interface WorkloadLoad {
  readonly namespace: string;
  readonly owner: { readonly kind: string; readonly name: string };
  readonly container: string;
  readonly limitMillicores: number;
  readonly pods: readonly PodLoad[];
}

const WORKLOADS: readonly WorkloadLoad[] = [
  {
    namespace: 'shop',
    owner: { kind: 'Deployment', name: 'cart' },
    container: 'app',
    limitMillicores: 200,
    pods: [
      { pod: 'cart-7d9f8-abcde', node: 'gke-pool-1-a', throttledShare: 0.42, msPerThrottle: 38, useOfLimit: 0.31 },
      { pod: 'cart-7d9f8-fghij', node: 'gke-pool-1-b', throttledShare: 0.35, msPerThrottle: 30, useOfLimit: 0.28 },
      { pod: 'cart-7d9f8-klmno', node: 'gke-pool-1-c', throttledShare: 0.5, msPerThrottle: 45, useOfLimit: 0.36 },
    ],
  },
  {
    namespace: 'search',
    owner: { kind: 'StatefulSet', name: 'indexer' },
    container: 'indexer',
    limitMillicores: 500,
    pods: [
      { pod: 'indexer-0', node: 'gke-pool-2-a', throttledShare: 0.9, msPerThrottle: 60, useOfLimit: 0.97 },
      { pod: 'indexer-1', node: 'gke-pool-2-b', throttledShare: 0.85, msPerThrottle: 55, useOfLimit: 0.95 },
    ],
  },
  {
    namespace: 'batch',
    owner: { kind: 'Deployment', name: 'resizer' },
    container: 'worker',
    limitMillicores: 1000,
    pods: [{ pod: 'resizer-5c4b-qrstu', node: 'gke-pool-1-a', throttledShare: 0.22, msPerThrottle: 20 }],
  },
];

const counters = (w: WorkloadLoad, p: PodLoad, startMs: number, endMs: number, index: number): ContainerCounters => {
  const periods = (WINDOW_S * 1e9) / PERIOD_NS;
  const throttled = Math.round(periods * p.throttledShare);
  const before = { nrPeriods: periods * index, nrThrottled: throttled * index, throttledTimeNs: throttled * index * p.msPerThrottle * 1e6 };
  return {
    identity: { cluster: 'lab', namespace: w.namespace, pod: p.pod, container: w.container, node: p.node, owner: w.owner },
    window: { startMs, endMs },
    samples: [
      { atMs: startMs, ...before },
      { atMs: endMs, nrPeriods: before.nrPeriods + periods, nrThrottled: before.nrThrottled + throttled, throttledTimeNs: before.throttledTimeNs + throttled * p.msPerThrottle * 1e6 },
    ],
    bandwidth: { quotaNs: (w.limitMillicores / 1000) * PERIOD_NS, periodNs: PERIOD_NS },
    ...(p.useOfLimit === undefined ? {} : { cpuUsedNs: Math.round(p.useOfLimit * (w.limitMillicores / 1000) * WINDOW_S * 1e9) }),
  };
};

/** Throttle findings from three consecutive 60 s windows of counters, through the real analysis. */
export const runThrottles = (): ThrottleFinding[] => {
  const windows: WindowCounters[] = [2, 1, 0].map((back, index) => {
    const endMs = RUN_END_MS - back * WINDOW_S * 1000;
    const startMs = endMs - WINDOW_S * 1000;
    return {
      window: { start: new Date(startMs), end: new Date(endMs) },
      counters: WORKLOADS.flatMap((w) => w.pods.map((p) => counters(w, p, startMs, endMs, index))),
    };
  });
  return throttleFindings(windows, { cluster: 'lab', source: 'replay', producedAt: new Date(RUN_END_MS + 2000) });
};

const observedWindow = { start: '2026-11-27T12:02:00.000000000Z', end: '2026-11-27T12:03:00.000000000Z', seconds: WINDOW_S };

const step = (offsetMs: number, kind: string, detail: string, pid: number): BirthStep => ({ offsetNs: Math.round(offsetMs * 1e6), kind, detail, pid });

const sandbox: ContainerBirth = {
  name: 'POD',
  containerId: 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
  sandbox: true,
  firstEventAt: '2026-11-27T12:02:10.000000000Z',
  entrypointExecAt: '2026-11-27T12:02:10.018400000Z',
  timeToEntrypointNs: 18_400_000,
  entrypoint: '/pause',
  cgroupsCreated: ['/kubepods/burstable/pod0b7c1d2e/a1b2c3d4e5f6'],
  limitWrites: [{ file: 'cpu.shares', value: '2' }],
  namespacesCreated: ['mnt', 'uts', 'ipc', 'pid', 'net'],
  namespacesJoined: [],
  mounts: [{ source: 'proc', target: '/proc', fstype: 'proc' }],
  pivotRoot: '/run/containerd/io.containerd.runtime.v2.task/k8s.io/a1b2c3/rootfs',
  execs: ['/usr/bin/runc', '/pause'],
  runtimeSyscalls: 1_312,
  syscalls: [],
  steps: [
    step(0, 'cgroup_mkdir', '/kubepods/burstable/pod0b7c1d2e/a1b2c3d4e5f6', 3100),
    step(0.9, 'cgroup_write', 'cpu.shares=2', 3100),
    step(2.4, 'cgroup_attach', 'pid 3120', 3100),
    step(4.1, 'unshare', 'mnt,uts,ipc,pid,net', 3120),
    step(9.8, 'mount', 'proc -> /proc (proc)', 3121),
    step(13.2, 'pivot_root', '/run/containerd/io.containerd.runtime.v2.task/k8s.io/a1b2c3/rootfs', 3121),
    step(18.4, 'exec', '/pause', 3121),
  ],
};

const app: ContainerBirth = {
  name: 'app',
  containerId: 'c0ffee00c0ffee00c0ffee00c0ffee00',
  sandbox: false,
  firstEventAt: '2026-11-27T12:02:10.310000000Z',
  entrypointExecAt: '2026-11-27T12:02:10.351000000Z',
  timeToEntrypointNs: 41_000_000,
  entrypoint: '/app/server',
  cgroupsCreated: ['/kubepods/burstable/pod0b7c1d2e/c0ffee00c0ff'],
  limitWrites: [
    { file: 'cpu.cfs_quota_us', value: '20000' },
    { file: 'cpu.cfs_period_us', value: '100000' },
    { file: 'memory.limit_in_bytes', value: '268435456' },
  ],
  namespacesCreated: ['mnt', 'uts'],
  namespacesJoined: ['net', 'ipc', 'pid'],
  mounts: [
    { source: 'overlay', target: '/', fstype: 'overlay' },
    { source: 'proc', target: '/proc', fstype: 'proc' },
    { source: 'tmpfs', target: '/dev', fstype: 'tmpfs' },
    { source: '/var/lib/kubelet/pods/0b7c/volumes/config', target: '/etc/config', fstype: 'bind' },
  ],
  pivotRoot: '/run/containerd/io.containerd.runtime.v2.task/k8s.io/c0ffee/rootfs',
  execs: ['/usr/bin/runc', '/app/server'],
  runtimeSyscalls: 2_874,
  syscalls: [
    { name: 'openat', count: 611 },
    { name: 'mount', count: 27 },
    { name: 'setns', count: 3 },
  ],
  steps: [
    step(0, 'cgroup_mkdir', '/kubepods/burstable/pod0b7c1d2e/c0ffee00c0ff', 3200),
    step(1.2, 'cgroup_write', 'cpu.cfs_quota_us=20000', 3200),
    step(1.5, 'cgroup_write', 'cpu.cfs_period_us=100000', 3200),
    step(1.9, 'cgroup_write', 'memory.limit_in_bytes=268435456', 3200),
    step(3.3, 'cgroup_attach', 'pid 3230', 3200),
    step(5, 'setns', 'net', 3230),
    step(5.2, 'setns', 'ipc', 3230),
    step(5.4, 'setns', 'pid', 3230),
    step(6.1, 'unshare', 'mnt,uts', 3230),
    step(12.5, 'mount', 'overlay -> / (overlay)', 3231),
    step(14, 'mount', 'proc -> /proc (proc)', 3231),
    step(15.1, 'mount', 'tmpfs -> /dev (tmpfs)', 3231),
    step(19.7, 'mount', '/var/lib/kubelet/pods/0b7c/volumes/config -> /etc/config (bind)', 3231),
    step(27.8, 'pivot_root', '/run/containerd/io.containerd.runtime.v2.task/k8s.io/c0ffee/rootfs', 3231),
    step(41, 'exec', '/app/server', 3231),
  ],
};

/** A pod whose probe saw only part of the cascade: nothing about the entrypoint was measured. */
const partial: ContainerBirth = {
  name: 'worker',
  containerId: 'deadbeefdeadbeefdeadbeefdeadbeef',
  sandbox: false,
  firstEventAt: '2026-11-27T12:02:40.000000000Z',
  cgroupsCreated: ['/kubepods/pod77aa/deadbeefdead'],
  limitWrites: [{ file: 'cpu.max', value: '100000 100000' }],
  namespacesCreated: [],
  namespacesJoined: [],
  mounts: [],
  execs: [],
  syscalls: [],
  steps: [step(0, 'cgroup_mkdir', '/kubepods/pod77aa/deadbeefdead', 4100), step(2.6, 'cgroup_write', 'cpu.max=100000 100000', 4100)],
};

const birth = (pod: string, podUid: string, workload: { kind: string; name: string }, namespace: string, containers: ContainerBirth[], summary: string): BirthFinding => ({
  schemaVersion: FINDING_SCHEMA_VERSION,
  kind: 'pod.birth',
  id: stableId('pod.birth', { pod, podUid }),
  cluster: 'lab',
  namespace,
  workload: { ...workload, container: '' },
  observedWindow,
  severity: 'info',
  source: 'local',
  producedAt: '2026-11-27T12:03:02.000Z',
  summary,
  birth: { pod, podUid, node: 'gke-pool-1-a', captured: [...BIRTH_PROBE_CAPTURES.pod_birth], containers },
});

/** The cart pod's certificate, split into one message per container by the real size guard. */
export const runBirths = (): BirthFinding[] => {
  const whole = birth('cart-7d9f8-abcde', '0b7c1d2e-3f40-4a5b-8c6d-7e8f9a0b1c2d', { kind: 'Deployment', name: 'cart' }, 'shop', [sandbox, app], 'shop/cart-7d9f8-abcde born: app entrypoint after 41 ms');
  const parts = fitToMessageLimit(whole, 3_000) as BirthFinding[];
  return [...parts, birth('resizer-5c4b-qrstu', '77aa0000-1111-4222-8333-444455556666', { kind: 'Deployment', name: 'resizer' }, 'batch', [partial], 'batch/resizer-5c4b-qrstu: entrypoint not seen')];
};

const remediation = (target: ThrottleFinding, details: Omit<RemediationFinding['remediation'], 'findingId'>, summary: string): RemediationFinding => ({
  schemaVersion: FINDING_SCHEMA_VERSION,
  kind: 'remediation.result',
  id: stableId('remediation.result', { finding: target.id, outcome: details.outcome }),
  cluster: target.cluster,
  namespace: target.namespace,
  workload: target.workload,
  observedWindow: target.observedWindow,
  severity: details.outcome === 'conflict' || details.outcome === 'failed' ? 'warning' : 'info',
  source: target.source,
  producedAt: '2026-11-27T12:03:04.000Z',
  summary,
  remediation: { ...details, findingId: target.id },
});

const byWorkload = (findings: readonly ThrottleFinding[], name: string): ThrottleFinding => {
  const found = findings.find((f) => f.workload.name === name);
  if (found === undefined) {
    throw new Error(`the analysis produced no throttle finding for ${name}`);
  }
  return found;
};

/** Everything the report shows for one run. */
export const sampleRun = (): { throttles: ThrottleFinding[]; births: BirthFinding[]; remediations: RemediationFinding[]; all: Finding[] } => {
  const throttles = runThrottles();
  const births = runBirths();
  const cart = byWorkload(throttles, 'cart');
  const indexer = byWorkload(throttles, 'indexer');
  const remediations = [
    remediation(cart, { outcome: 'applied', reason: `${cart.throttle.verdict} for ${cart.throttle.consecutiveWindows} windows; policy apply`, mode: 'apply', fromLimitMillicores: cart.throttle.limitMillicores, ...(cart.throttle.recommendedLimitMillicores === undefined ? {} : { toLimitMillicores: cart.throttle.recommendedLimitMillicores }), patch: '{"spec":{}}', podsResized: 3 }, 'raised shop/cart limit'),
    remediation(indexer, { outcome: 'conflict', reason: 'the CPU limit is owned by another field manager; not fighting it', mode: 'apply', fromLimitMillicores: indexer.throttle.limitMillicores, ...(indexer.throttle.recommendedLimitMillicores === undefined ? {} : { toLimitMillicores: indexer.throttle.recommendedLimitMillicores }), conflictingManager: 'argocd-controller', podsResized: 0 }, 'search/indexer: conflict with argocd-controller'),
  ];
  return { throttles, births, remediations, all: [...throttles, ...births, ...remediations] };
};
