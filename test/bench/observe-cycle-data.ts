/**
 * A scaled-up replay dataset for the observe-cycle benchmark: one `cpu_throttle_windows` table with
 * the `cpu_throttle` result rows of the consecutive windows one observe-throttle run reads, each row
 * stamped `time_` inside its window (so the local Vizier's windows select it, as Pixie's would), for a cluster of `pods` pods with `containersPerPod` containers each, in the
 * local Vizier's dataset format (docs/vizier.md).
 *
 * Shapes per container (seeded, so every run of the benchmark reads the same cluster), keyed by
 * deployment and container name so every pod of a workload behaves alike (a workload streak needs
 * that), with counters that stay the same from window to window:
 * - healthy: active most periods, almost never throttled;
 * - saturated: uses ~90% of its limit and is throttled in half of the periods;
 * - metrics-lie: uses ~30% of its limit on average but is throttled in bursts;
 * - idle-inflated: rarely active, a few throttled periods with tiny waits;
 * - idle: no CPU use in the window at all (too few periods for a verdict).
 * Container keys are unique per container (the helper in test/support reuses the pod's).
 *
 * @module
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { prng as random } from '../../dev/random.ts';

export const SHAPES = ['healthy', 'saturated', 'metrics-lie', 'idle-inflated', 'idle'] as const;
export type Shape = (typeof SHAPES)[number];

/** Share of containers per shape (sums to 1). */
export const SHAPE_MIX: Readonly<Record<Shape, number>> = { healthy: 0.6, saturated: 0.08, 'metrics-lie': 0.07, 'idle-inflated': 0.05, idle: 0.2 };

const CONTAINER_NAMES = ['app', 'envoy', 'log-shipper', 'metrics-exporter', 'config-reloader'];
const PERIOD_NS = 100_000_000;

export interface ClusterShape {
  readonly pods: number;
  readonly containersPerPod: number;
  readonly podsPerDeployment: number;
  readonly namespaces: number;
  readonly seed: number;
}

export const DEFAULT_CLUSTER: ClusterShape = { pods: 1000, containersPerPod: 5, podsPerDeployment: 5, namespaces: 20, seed: 1 };

export interface Container {
  readonly namespace: string;
  readonly deployment: string;
  readonly pod: string;
  readonly podUid: string;
  readonly container: string;
  readonly key: string;
  readonly node: string;
  readonly shape: Shape;
  readonly quotaNs: number;
}

/** Per-window counter increments of a shape for a container with `quotaNs` per period over `windowMs`. */
export const perWindow = (shape: Shape, quotaNs: number, windowMs: number): { periods: number; throttled: number; throttledNs: number; cpuNs: number } => {
  const allPeriods = Math.floor((windowMs * 1e6) / PERIOD_NS);
  const limitCores = quotaNs / PERIOD_NS;
  const cpu = (share: number): number => Math.round(share * limitCores * windowMs * 1e6);
  switch (shape) {
    case 'healthy':
      return { periods: Math.round(allPeriods * 0.9), throttled: Math.round(allPeriods * 0.005), throttledNs: Math.round(allPeriods * 0.005) * 2_000_000, cpuNs: cpu(0.4) };
    case 'saturated':
      return { periods: allPeriods, throttled: Math.round(allPeriods * 0.5), throttledNs: Math.round(allPeriods * 0.5) * 30_000_000, cpuNs: cpu(0.92) };
    case 'metrics-lie':
      return { periods: Math.round(allPeriods * 0.6), throttled: Math.round(allPeriods * 0.2), throttledNs: Math.round(allPeriods * 0.2) * 45_000_000, cpuNs: cpu(0.3) };
    case 'idle-inflated':
      return { periods: Math.round(allPeriods * 0.3), throttled: Math.round(allPeriods * 0.03), throttledNs: Math.round(allPeriods * 0.03) * 500_000, cpuNs: cpu(0.05) };
    case 'idle':
      return { periods: 2, throttled: 0, throttledNs: 0, cpuNs: 0 };
  }
};


const pickShape = (r: number): Shape => {
  let acc = 0;
  for (const shape of SHAPES) {
    acc += SHAPE_MIX[shape];
    if (r < acc) {
      return shape;
    }
  }
  return 'healthy';
};

const hex = (rand: () => number, digits: number): string =>
  Array.from({ length: digits }, () => Math.floor(rand() * 16).toString(16)).join('');

/** The containers of the cluster. */
export const clusterContainers = (shape: ClusterShape = DEFAULT_CLUSTER): Container[] => {
  const rand = random(shape.seed);
  const out: Container[] = [];
  const deployments = Math.ceil(shape.pods / shape.podsPerDeployment);
  for (let d = 0; d < deployments; d += 1) {
    const namespace = `team-${String(d % shape.namespaces).padStart(2, '0')}`;
    const deployment = `svc-${String(d).padStart(4, '0')}`;
    const containerPlan = CONTAINER_NAMES.slice(0, shape.containersPerPod).map((container) => ({
      container,
      shape: pickShape(rand()),
      // Limits from 250m to 2 cores.
      quotaNs: [25_000_000, 50_000_000, 100_000_000, 200_000_000][Math.floor(rand() * 4)] ?? 50_000_000,
    }));
    for (let p = 0; p < shape.podsPerDeployment && d * shape.podsPerDeployment + p < shape.pods; p += 1) {
      const pod = `${deployment}-7d9f8${hex(rand, 5)}-${hex(rand, 5)}`;
      const podUid = `${hex(rand, 8)}-${hex(rand, 4)}-4${hex(rand, 3)}-8${hex(rand, 3)}-${hex(rand, 12)}`;
      const node = `gke-bench-pool-${String(Math.floor(rand() * 50)).padStart(2, '0')}`;
      for (const plan of containerPlan) {
        out.push({ namespace, deployment, pod, podUid, node, key: hex(rand, 32), ...plan });
      }
    }
  }
  return out;
};

const RELATION: readonly (readonly [string, string])[] = [
  ['first_time', 'TIME64NS'], ['last_time', 'TIME64NS'], ['samples', 'INT64'], ['node', 'STRING'], ['namespace', 'STRING'],
  ['pod', 'STRING'], ['pod_uid', 'STRING'], ['owner_references', 'STRING'], ['deployment', 'STRING'], ['container_name', 'STRING'],
  ['container_id', 'STRING'], ['container_key', 'STRING'], ['container_cgroup', 'STRING'], ['nr_periods_first', 'INT64'],
  ['nr_periods_last', 'INT64'], ['nr_throttled_first', 'INT64'], ['nr_throttled_last', 'INT64'], ['throttled_time_ns_first', 'INT64'],
  ['throttled_time_ns_last', 'INT64'], ['nr_bursts_first', 'INT64'], ['nr_bursts_last', 'INT64'], ['burst_time_ns_first', 'INT64'],
  ['burst_time_ns_last', 'INT64'], ['quota_ns', 'INT64'], ['period_ns', 'INT64'], ['burst_ns', 'INT64'], ['cpu_time_ns', 'INT64'],
];

export interface WrittenDataset {
  readonly dir: string;
  readonly containers: number;
  readonly shapes: Readonly<Record<Shape, number>>;
  readonly bytes: number;
}

/**
 * Writes the rows of every window (`windowStarts` oldest first, each `windowMs` long) into one table
 * of a fresh directory. Counters are cumulative: window i continues where window i-1 ended.
 */
export const writeObserveDataset = (windowStarts: readonly Date[], windowMs: number, cluster: ClusterShape = DEFAULT_CLUSTER): WrittenDataset => {
  const dir = mkdtempSync(path.join(tmpdir(), 'kg-bench-throttle-'));
  const containers = clusterContainers(cluster);
  const shapes = Object.fromEntries(SHAPES.map((s) => [s, containers.filter((c) => c.shape === s).length])) as Record<Shape, number>;
  const columns: Record<string, (string | number)[]> = { time_: [] };
  for (const [column] of RELATION) {
    columns[column] = [];
  }
  windowStarts.forEach((start, i) => {
    const t = (offsetMs: number): string => String(BigInt(start.getTime() + offsetMs) * 1_000_000n);
    const first = t(500);
    const last = t(windowMs - 500);
    const values: Record<string, (c: Container) => string | number> = {
      first_time: () => first,
      last_time: () => last,
      samples: () => String(Math.round(windowMs / 1000)),
      node: (c) => c.node,
      namespace: (c) => c.namespace,
      pod: (c) => `${c.namespace}/${c.pod}`,
      pod_uid: (c) => c.podUid,
      owner_references: (c) => JSON.stringify([{ kind: 'ReplicaSet', name: `${c.deployment}-7d9f8` }]),
      deployment: (c) => `${c.namespace}/${c.deployment}`,
      container_name: (c) => c.container,
      container_id: (c) => c.key,
      container_key: (c) => c.key,
      container_cgroup: (c) => `cri-containerd-${c.key}.scope`,
      nr_periods_first: (c) => String(i * perWindow(c.shape, c.quotaNs, windowMs).periods),
      nr_periods_last: (c) => String((i + 1) * perWindow(c.shape, c.quotaNs, windowMs).periods),
      nr_throttled_first: (c) => String(i * perWindow(c.shape, c.quotaNs, windowMs).throttled),
      nr_throttled_last: (c) => String((i + 1) * perWindow(c.shape, c.quotaNs, windowMs).throttled),
      throttled_time_ns_first: (c) => String(i * perWindow(c.shape, c.quotaNs, windowMs).throttledNs),
      throttled_time_ns_last: (c) => String((i + 1) * perWindow(c.shape, c.quotaNs, windowMs).throttledNs),
      nr_bursts_first: () => '0',
      nr_bursts_last: () => '0',
      burst_time_ns_first: () => '0',
      burst_time_ns_last: () => '0',
      quota_ns: (c) => String(c.quotaNs),
      period_ns: () => String(PERIOD_NS),
      burst_ns: () => '0',
      cpu_time_ns: (c) => String(perWindow(c.shape, c.quotaNs, windowMs).cpuNs),
    };
    columns['time_']!.push(...containers.map(() => first));
    for (const [column] of RELATION) {
      columns[column]!.push(...containers.map((c) => values[column]!(c)));
    }
  });
  const text = JSON.stringify({ name: 'cpu_throttle_windows', relation: [{ name: 'time_', type: 'TIME64NS' }, ...RELATION.map(([column, type]) => ({ name: column, type }))], columns });
  writeFileSync(path.join(dir, 'cpu_throttle_windows.json'), text);
  return { dir, containers: containers.length, shapes, bytes: text.length };
};
