/**
 * The demo's workloads: the pods the kernel lab runs (real containers, real CFS throttling) and the
 * Kubernetes objects the demo creates for them, so every finding names a workload the local API
 * server knows. Each throttled workload shows one of the remediator's decisions:
 *
 * - `shop/cart`: opted in (namespace `shop`), annotated `kernel.gossip.io/take-ownership: cpu-limit`,
 *   so in apply mode its CPU limit is raised;
 * - `shop/payments`: opted in, but its limit is owned by another field manager (a GitOps tool):
 *   the remediator reports the conflict with the patch to commit and changes nothing;
 * - `batch/nightly-report`: namespace `batch` did not opt in: recorded, never acted on;
 * - `shop/search`: light bursts far below its limit: healthy, nothing to say.
 *
 * A new `shop/cart` replica is born in the birth scenario (its PodBirthCertificate).
 *
 * @module
 */
import type { PodSpec, Workload } from '../lab/lab.ts';

const PERIOD_US = 100_000;

/** How long the throttled burners run: long enough for three observe windows with full evidence. */
export const THROTTLE_DURATION_MS = 9_000;

/** The role a workload plays in the demo, and what the remediator should decide about it. */
export const ROLES = ['apply', 'conflict', 'not-opted-in', 'healthy'] as const;
export type Role = (typeof ROLES)[number];

export interface DemoWorkload {
  readonly namespace: string;
  readonly deployment: string;
  readonly role: Role;
  /** The container the lab runs and the Deployment declares. */
  readonly container: string;
  readonly cpuLimitMillicores: number;
  /** Annotations the demo sets on the Deployment (policy). */
  readonly annotations: Readonly<Record<string, string>>;
  /** Field manager that creates the Deployment (a GitOps tool for the conflict case). */
  readonly fieldManager: string;
  readonly pod: PodSpec;
}

const replicaSet = (deployment: string): string => `${deployment}-5c9d7f`;

/**
 * Every workload pod also runs an idle sidecar without a CPU limit. When every container of a pod
 * has a limit, the kubelet sets the pod cgroup's quota too, and the waiting splits between the two
 * levels by the phase of their period timers: the app's own counters (what the probe, cAdvisor and
 * cpu.stat read) then show anywhere from 14% to 64% of it (dev/demo/node-loop.ts, docs/benchmarks.md),
 * and a recording could say "idle-inflated" where the pod was starved. With the sidecar there is no
 * pod quota, so the recordings and the live demo show the app's throttling whole. (Counting the
 * pod level as well is a known gap of the product: the probe reads the container's task group.)
 */
export const IDLE_SIDECAR = { name: 'sidecar', workload: { shape: 'idle', durationMs: THROTTLE_DURATION_MS } } as const;

const throttled = (
  namespace: string,
  deployment: string,
  role: Role,
  podSuffix: string,
  cpuLimitMillicores: number,
  workload: Workload,
  extra: { annotations?: Record<string, string>; fieldManager?: string; layout?: PodSpec['layout'] } = {},
): DemoWorkload => ({
  namespace,
  deployment,
  role,
  container: 'app',
  cpuLimitMillicores,
  annotations: extra.annotations ?? {},
  fieldManager: extra.fieldManager ?? 'kubectl-client-side-apply',
  pod: {
    namespace,
    name: `${replicaSet(deployment)}-${podSuffix}`,
    layout: extra.layout ?? 'cgroupfs',
    qos: 'burstable',
    owner: { kind: 'ReplicaSet', name: replicaSet(deployment) },
    containers: [{ name: 'app', workload, cpuQuotaUs: (cpuLimitMillicores * PERIOD_US) / 1000, cpuPeriodUs: PERIOD_US }, IDLE_SIDECAR],
  },
});

const cart = throttled('shop', 'cart', 'apply', 'x7k2p', 100, { shape: 'steady', threads: 1, durationMs: THROTTLE_DURATION_MS }, {
  annotations: { 'kernel.gossip.io/take-ownership': 'cpu-limit' },
});

/** The throttle scenario's workloads (small limits: the machine's two cores are shared). */
export const DEMO_WORKLOADS: readonly DemoWorkload[] = [
  cart,
  throttled('shop', 'payments', 'conflict', 'm4q8w', 100, { shape: 'steady', threads: 1, durationMs: THROTTLE_DURATION_MS }, {
    fieldManager: 'argocd-controller',
    layout: 'systemd',
  }),
  throttled('batch', 'nightly-report', 'not-opted-in', 'r9t3v', 100, { shape: 'steady', threads: 1, durationMs: THROTTLE_DURATION_MS }),
  throttled('shop', 'search', 'healthy', 'h2j6n', 500, { shape: 'bursty', threads: 1, durationMs: THROTTLE_DURATION_MS, burstMs: 5, everyMs: 100 }),
];

/** The birth scenario: a new replica of `shop/cart` starts (app container with its CPU limit). */
export const DEMO_BIRTHS: readonly DemoWorkload[] = [
  {
    ...cart,
    pod: {
      namespace: 'shop',
      name: `${replicaSet('cart')}-b5n1c`,
      layout: 'cgroupfs',
      qos: 'burstable',
      owner: { kind: 'ReplicaSet', name: replicaSet('cart') },
      containers: [{ name: 'app', workload: { shape: 'idle', durationMs: 300 }, cpuQuotaUs: 10_000, cpuPeriodUs: PERIOD_US }],
    },
  },
];
