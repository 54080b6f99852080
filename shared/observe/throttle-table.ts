/**
 * The `cpu_throttle` script's result table, one row per container, to the analysis input
 * (`ContainerCounters`). Columns are looked up by name and typed; a missing column is an error
 * that names it, never a silently zero value.
 *
 * @module
 */
import type { ContainerCounters, ContainerIdentity } from '../analysis/index.ts';
import type { CollectedTable } from '../pixie/collect.ts';
import type { Column } from '../pixie/columns.ts';
import { DataType } from '../pixie/types.ts';
import type { ObserveWindow } from './window.ts';

/** The result table does not have the shape the script promises. */
export class TableShapeError extends Error {
  override readonly name = 'TableShapeError';
}

/** The kernel's "no quota" (RUNTIME_INF) as a signed 64-bit value, and anything not positive. */
const unlimited = (quotaNs: number): boolean => quotaNs <= 0;

interface Reader {
  int(name: string, row: number): number;
  text(name: string, row: number): string;
  time(name: string, row: number): number;
}

/** A column of the table by name, of one of `types`; a missing or mistyped column is a {@link TableShapeError}. */
export const typedColumn = (table: CollectedTable, name: string, types: readonly number[]): Column => {
  let found: Column;
  try {
    found = table.column(name);
  } catch (error) {
    throw new TableShapeError(`table ${table.meta.name} has no column ${name}`, { cause: error });
  }
  if (!types.includes(found.type)) {
    throw new TableShapeError(`column ${name} of ${table.meta.name} has type ${found.type}, expected ${types.join(' or ')}`);
  }
  return found;
};

/** Typed, named access to a collected table's columns. */
const reader = (table: CollectedTable): Reader => {
  const columns = new Map<string, Column>();
  const column = (name: string, types: readonly number[]): Column => {
    let found = columns.get(name);
    if (found === undefined) {
      found = typedColumn(table, name, types);
      columns.set(name, found);
    }
    return found;
  };
  return {
    int: (name, row) => {
      const col = column(name, [DataType.INT64, DataType.TIME64NS]);
      return (col as { number(row: number): number }).number(row);
    },
    text: (name, row) => (column(name, [DataType.STRING]) as { get(row: number): string }).get(row),
    time: (name, row) => {
      const col = column(name, [DataType.TIME64NS, DataType.INT64]);
      return Number((col as { get(row: number): bigint }).get(row) / 1_000_000n);
    },
  };
};

/** `namespace/pod` (Pixie's form) to `pod`. */
const podName = (qualified: string, namespace: string): string =>
  qualified.startsWith(`${namespace}/`) ? qualified.slice(namespace.length + 1) : qualified.slice(qualified.lastIndexOf('/') + 1);

/** The controller of a pod from Pixie's metadata: the Deployment when known, else the first owner reference. */
export const ownerOf = (deployment: string, ownerReferences: string, pod: string): { kind: string; name: string } => {
  if (deployment !== '') {
    return { kind: 'Deployment', name: deployment.slice(deployment.lastIndexOf('/') + 1) };
  }
  try {
    const refs = JSON.parse(ownerReferences) as unknown;
    const list = Array.isArray(refs) ? (refs as unknown[]) : [];
    for (const ref of list) {
      const { kind, name } = (ref ?? {}) as { kind?: unknown; name?: unknown };
      if (typeof kind === 'string' && typeof name === 'string' && kind !== '' && name !== '') {
        return { kind, name };
      }
    }
  } catch {
    // Not JSON: no owner known; the pod stands alone.
  }
  return { kind: 'Pod', name: pod };
};

/**
 * A counter the node's kernel has, or nothing: the cpu_throttle variants for kernels without the
 * burst statistics (before Linux 5.16) print -1 for them (pxl-scripts/cpu_throttle).
 */
const counterIfPresent = <K extends string>(key: K, value: number): Partial<Record<K, number>> => (value < 0 ? {} : ({ [key]: value } as Record<K, number>));

/**
 * Maps the rows of one `cpu_throttle` table (one window) to analysis inputs. Rows for containers
 * without a quota are dropped (the probe already skips them; this guards replayed data).
 */
export const throttleCounters = (table: CollectedTable, window: ObserveWindow, cluster: string): ContainerCounters[] => {
  const r = reader(table);
  const out: ContainerCounters[] = [];
  for (let row = 0; row < table.rows; row += 1) {
    const quotaNs = r.int('quota_ns', row);
    if (unlimited(quotaNs)) {
      continue;
    }
    const namespace = r.text('namespace', row);
    const podUid = r.text('pod_uid', row);
    // A pod Pixie's metadata does not know (yet) keeps the name its cgroup gives it, so that two
    // unnamed pods are never one workload.
    const pod = podName(r.text('pod', row), namespace) || (podUid === '' ? '' : `pod${podUid}`);
    const containerName = r.text('container_name', row);
    const containerKey = r.text('container_key', row);
    // No process_stats row matched (a left merge leaves its columns empty): CPU time is unmeasured.
    const measured = r.text('container_id', row) !== '';
    const identity: ContainerIdentity = {
      cluster,
      namespace,
      pod,
      podUid,
      container: containerName === '' ? containerKey : containerName,
      containerId: containerKey,
      node: r.text('node', row),
      owner: ownerOf(r.text('deployment', row), r.text('owner_references', row), pod),
    };
    const burstNs = r.int('burst_ns', row);
    out.push({
      identity,
      window: { startMs: window.start.getTime(), endMs: window.end.getTime() },
      samples: [
        {
          atMs: r.time('first_time', row),
          nrPeriods: r.int('nr_periods_first', row),
          nrThrottled: r.int('nr_throttled_first', row),
          throttledTimeNs: r.int('throttled_time_ns_first', row),
          ...counterIfPresent('nrBursts', r.int('nr_bursts_first', row)),
          ...counterIfPresent('burstTimeNs', r.int('burst_time_ns_first', row)),
        },
        {
          atMs: r.time('last_time', row),
          nrPeriods: r.int('nr_periods_last', row),
          nrThrottled: r.int('nr_throttled_last', row),
          throttledTimeNs: r.int('throttled_time_ns_last', row),
          ...counterIfPresent('nrBursts', r.int('nr_bursts_last', row)),
          ...counterIfPresent('burstTimeNs', r.int('burst_time_ns_last', row)),
        },
      ],
      bandwidth: { quotaNs, periodNs: r.int('period_ns', row), ...(burstNs > 0 ? { burstNs } : {}) },
      ...(measured ? { cpuUsedNs: r.int('cpu_time_ns', row) } : {}),
    });
  }
  return out;
};
