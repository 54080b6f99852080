/**
 * The lab's standard pods, used by the lab tests, the recorded fixtures and the benchmarks. Short and
 * small: the machine has two cores shared by several people. On a node (node-lab.ts) the cgroupfs
 * pods are made by the controllers of the owners named here (a ReplicaSet's through a Deployment)
 * and born by its kubelet, so they get the controllers' names; the systemd ones come from the runc
 * lab, whose owners exist only in its ground truth.
 */
import type { PodSpec } from './lab.ts';

/**
 * Throttling: a steady single-thread burner at 0.1 CPU (cgroupfs layout, throttled every period even
 * when the shared machine leaves it only a small share of a core), a
 * bursty 3-thread burner at 0.3 CPU next to an unlimited light container (systemd layout).
 */
export const THROTTLE_PODS: readonly PodSpec[] = [
  {
    namespace: 'shop',
    name: 'web-7f9c4-abcde',
    layout: 'cgroupfs',
    qos: 'burstable',
    owner: { kind: 'ReplicaSet', name: 'web-7f9c4' },
    containers: [{ name: 'app', workload: { shape: 'steady', threads: 1, durationMs: 2500 }, cpuQuotaUs: 10_000, cpuPeriodUs: 100_000 }],
  },
  {
    namespace: 'shop',
    name: 'api-5d8b6-fghij',
    layout: 'systemd',
    qos: 'burstable',
    owner: { kind: 'ReplicaSet', name: 'api-5d8b6' },
    containers: [
      { name: 'api', workload: { shape: 'bursty', threads: 3, durationMs: 2500, burstMs: 30, everyMs: 100 }, cpuQuotaUs: 30_000, cpuPeriodUs: 100_000 },
      { name: 'sidecar', workload: { shape: 'bursty', threads: 1, durationMs: 2500, burstMs: 10, everyMs: 100 } },
    ],
  },
];

/** Pod birth: one pod per layout, an app container with a CPU limit and an idle one without. */
export const BIRTH_PODS: readonly PodSpec[] = [
  {
    namespace: 'shop',
    name: 'cart-6c7d8-klmno',
    layout: 'cgroupfs',
    qos: 'burstable',
    owner: { kind: 'ReplicaSet', name: 'cart-6c7d8' },
    containers: [
      { name: 'cart', workload: { shape: 'idle', durationMs: 300 }, cpuQuotaUs: 50_000, cpuPeriodUs: 100_000 },
      { name: 'proxy', workload: { shape: 'idle', durationMs: 300 }, cpuQuotaUs: 25_000, cpuPeriodUs: 50_000 },
    ],
  },
  {
    namespace: 'batch',
    name: 'report-28d1f',
    layout: 'systemd',
    qos: 'besteffort',
    owner: { kind: 'Job', name: 'report' },
    containers: [{ name: 'report', workload: { shape: 'idle', durationMs: 300 } }],
  },
];
