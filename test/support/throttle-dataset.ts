/**
 * Datasets of `cpu_throttle` result tables for the local Vizier's dataset mode: one table per
 * observe window (`cpu_throttle_w0`, `_w1`, ...), with the columns the script returns.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface ThrottleRow {
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
  readonly deployment: string;
  readonly periods: number;
  readonly throttled: number;
  readonly throttledNs: number;
  readonly cpuNs: number;
  readonly quotaNs: number;
}

const RELATION: readonly [string, string][] = [
  ['first_time', 'TIME64NS'], ['last_time', 'TIME64NS'], ['samples', 'INT64'], ['node', 'STRING'], ['namespace', 'STRING'],
  ['pod', 'STRING'], ['pod_uid', 'STRING'], ['owner_references', 'STRING'], ['deployment', 'STRING'], ['container_name', 'STRING'],
  ['container_id', 'STRING'], ['container_key', 'STRING'], ['container_cgroup', 'STRING'], ['nr_periods_first', 'INT64'],
  ['nr_periods_last', 'INT64'], ['nr_throttled_first', 'INT64'], ['nr_throttled_last', 'INT64'], ['throttled_time_ns_first', 'INT64'],
  ['throttled_time_ns_last', 'INT64'], ['nr_bursts_first', 'INT64'], ['nr_bursts_last', 'INT64'], ['burst_time_ns_first', 'INT64'],
  ['burst_time_ns_last', 'INT64'], ['quota_ns', 'INT64'], ['period_ns', 'INT64'], ['burst_ns', 'INT64'], ['cpu_time_ns', 'INT64'],
];

/** Writes `windows` tables; window i holds each row's i-th minute of cumulative counters. */
export const writeThrottleDataset = (windowStarts: readonly Date[], rows: readonly ThrottleRow[]): string => {
  const dir = mkdtempSync(path.join(tmpdir(), 'kg-throttle-'));
  windowStarts.forEach((start, i) => {
    const t = (offsetMs: number): string => String(BigInt(start.getTime() + offsetMs) * 1_000_000n);
    const values: Record<string, (row: ThrottleRow) => string | number> = {
      first_time: () => t(500),
      last_time: () => t(59_500),
      samples: () => 60,
      node: () => 'gke-pool-1',
      namespace: (r) => r.namespace,
      pod: (r) => `${r.namespace}/${r.pod}`,
      pod_uid: (r) => `uid-${r.pod}`,
      owner_references: (r) => JSON.stringify([{ kind: 'ReplicaSet', name: `${r.deployment}-7d9f8` }]),
      deployment: (r) => r.deployment,
      container_name: (r) => r.container,
      container_id: (r) => `c0ffee${r.pod}`,
      container_key: (r) => `c0ffee${r.pod}`,
      container_cgroup: (r) => `c0ffee${r.pod}`,
      nr_periods_first: (r) => String(i * r.periods),
      nr_periods_last: (r) => String((i + 1) * r.periods),
      nr_throttled_first: (r) => String(i * r.throttled),
      nr_throttled_last: (r) => String((i + 1) * r.throttled),
      throttled_time_ns_first: (r) => String(i * r.throttledNs),
      throttled_time_ns_last: (r) => String((i + 1) * r.throttledNs),
      nr_bursts_first: () => '0',
      nr_bursts_last: () => '0',
      burst_time_ns_first: () => '0',
      burst_time_ns_last: () => '0',
      quota_ns: (r) => String(r.quotaNs),
      period_ns: () => '100000000',
      burst_ns: () => '0',
      cpu_time_ns: (r) => String(r.cpuNs),
    };
    const name = `cpu_throttle_w${i}`;
    const doc = {
      name,
      relation: RELATION.map(([column, type]) => ({ name: column, type })),
      columns: Object.fromEntries(RELATION.map(([column]) => [column, rows.map((row) => values[column]!(row))])),
    };
    writeFileSync(path.join(dir, `${name}.json`), JSON.stringify(doc));
  });
  return dir;
};
