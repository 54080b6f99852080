/** Sample findings of every kind, shaped as the observe and remediate paths produce them. */
import { stableId } from '../../shared/findings/codec.ts';
import { FINDING_SCHEMA_VERSION } from '../../shared/findings/schema.ts';
import { BIRTH_PROBE_CAPTURES } from '../../shared/observe/births.ts';
import type { BirthFinding, RemediationFinding, ThrottleFinding } from '../../shared/findings/types.ts';

const window = { start: '2026-11-27T12:00:00.000000000Z', end: '2026-11-27T12:01:00.000000000Z', seconds: 60 };

export const sampleThrottle = (overrides: Partial<ThrottleFinding> = {}): ThrottleFinding => {
  const workload = { kind: 'Deployment', name: 'cart', container: 'app' };
  const counters = { periods: 600, throttledPeriods: 240, throttledTimeNs: 9_600_000_000, quotaUs: 20_000, periodUs: 100_000 };
  return {
    schemaVersion: FINDING_SCHEMA_VERSION,
    kind: 'cpu.throttle',
    id: stableId('cpu.throttle', { cluster: 'lab', namespace: 'shop', workload, window, counters }),
    cluster: 'lab',
    namespace: 'shop',
    workload,
    observedWindow: window,
    severity: 'warning',
    source: 'replay',
    producedAt: '2026-11-27T12:01:02.000Z',
    summary: 'shop/cart app: throttled in 40% of periods while mean use is 31% of its limit',
    throttle: {
      verdict: 'metrics-lie',
      reason: 'throttled ratio 0.40 >= 0.10 while mean use 0.31 < 0.60',
      throttledRatio: 0.4,
      throttledSecondsPerSecond: 0.16,
      meanUseOfLimit: 0.31,
      limitMillicores: 200,
      recommendedLimitMillicores: 400,
      expectedThrottledRatio: 0.03,
      consecutiveWindows: 3,
      actionRecommended: true,
      pods: [
        {
          pod: 'cart-7d9f8-abcde',
          node: 'gke-pool-1',
          counters: { ...counters, bursts: 0, burstTimeNs: 0, burstUs: 0 },
          throttledRatio: 0.4,
          throttledSecondsPerSecond: 0.16,
          meanUseOfLimit: 0.31,
          cpuSeconds: 3.72,
          counterReset: false,
        },
      ],
      thresholds: [
        { name: 'throttledRatio', value: 0.1 },
        { name: 'metricsLieMeanUse', value: 0.6 },
      ],
    },
    ...overrides,
  };
};

export const sampleBirth = (): BirthFinding => ({
  schemaVersion: FINDING_SCHEMA_VERSION,
  kind: 'pod.birth',
  id: stableId('pod.birth', { pod: 'cart-7d9f8-abcde', uid: '0b7c' }),
  cluster: 'lab',
  namespace: 'shop',
  workload: { kind: 'Deployment', name: 'cart', container: '' },
  observedWindow: window,
  severity: 'info',
  source: 'local',
  producedAt: '2026-11-27T12:01:02.000Z',
  summary: 'shop/cart-7d9f8-abcde born: entrypoint after 41 ms',
  birth: {
    pod: 'cart-7d9f8-abcde',
    podUid: '0b7c1d2e-3f40-4a5b-8c6d-7e8f9a0b1c2d',
    node: 'gke-pool-1',
    captured: [...BIRTH_PROBE_CAPTURES.pod_birth],
    containers: [
      {
        name: 'app',
        containerId: 'c0ffee',
        sandbox: false,
        firstEventAt: '2026-11-27T12:00:10.000000000Z',
        entrypointExecAt: '2026-11-27T12:00:10.041000000Z',
        timeToEntrypointNs: 41_000_000,
        entrypoint: '/bin/sh',
        cgroupsCreated: ['/kubepods/burstable/pod0b7c/c0ffee'],
        limitWrites: [{ file: 'cpu.cfs_quota_us', value: '20000' }],
        namespacesCreated: ['mnt', 'uts'],
        namespacesJoined: ['net', 'ipc'],
        mounts: [{ source: 'proc', target: '/proc', fstype: 'proc' }],
        pivotRoot: '/run/runc/rootfs',
        execs: ['/bin/sh'],
        syscalls: [],
        steps: [
          { offsetNs: 0, kind: 'cgroup_mkdir', detail: '/kubepods/burstable/pod0b7c/c0ffee', pid: 4242 },
          { offsetNs: 41_000_000, kind: 'exec', detail: '/bin/sh', pid: 4250 },
        ],
      },
    ],
  },
});

export const sampleRemediation = (): RemediationFinding => ({
  schemaVersion: FINDING_SCHEMA_VERSION,
  kind: 'remediation.result',
  id: stableId('remediation.result', { finding: 'abc', outcome: 'applied' }),
  cluster: 'lab',
  namespace: 'shop',
  workload: { kind: 'Deployment', name: 'cart', container: 'app' },
  observedWindow: window,
  severity: 'info',
  source: 'replay',
  producedAt: '2026-11-27T12:01:03.000Z',
  summary: 'raised shop/cart app CPU limit 200m -> 400m',
  remediation: {
    findingId: 'f'.repeat(32),
    outcome: 'applied',
    reason: 'metrics-lie for 3 windows; policy apply',
    mode: 'apply',
    fromLimitMillicores: 200,
    toLimitMillicores: 400,
    podsResized: 0,
  },
});
