/**
 * What `scan --local` says about every CPU-limited container of the node (pure): each one found in
 * the cgroup filesystem, named or by its cgroup path, with its limit and what the throttle probe saw
 * of it in the window; containers the probe saw that the filesystem no longer shows; CPU-limited
 * cgroups of no known layout; and why names are missing when they are.
 *
 * @module
 */
import { cfsDelta, type ContainerCounters } from '../shared/analysis/index.ts';
import { containerKeyOf } from '../shared/pxl/cgroup-identity.ts';
import type { UnrecognizedCgroup } from '../dev/node/containers.ts';
import { millicoresOf } from '../dev/node/cpu-limit.ts';
import { containerLabel, type NamedHostContainer } from '../dev/node/naming.ts';

export interface Inventory {
  readonly containers: readonly NamedHostContainer[];
  readonly unrecognized: readonly UnrecognizedCgroup[];
  /** Pod sources that failed, with their reason. */
  readonly namingFailures: readonly { readonly source: string; readonly error: string }[];
  /** What naming was asked for, e.g. "the API server (pods of node n1)". */
  readonly namingAsked: string;
}

const percent = (part: number, whole: number): string => `${whole === 0 ? 0 : Math.round((part / whole) * 100)}%`;

/** What the probe saw of one container in the window, in words. */
const probeSays = (counters: ContainerCounters | undefined): string => {
  if (counters === undefined) {
    // The probe samples running tasks at 99 Hz: a container that ran for no sampled instant has no row.
    return 'no probe sample in the window (it used little or no CPU)';
  }
  const delta = cfsDelta(counters.samples);
  return `throttled in ${percent(delta.throttledPeriods, delta.periods)} of ${delta.periods} periods, ${(delta.throttledTimeNs / 1e9).toFixed(2)} s throttled`;
};

/** The lines `scan --local` prints after the findings. */
export const inventoryLines = (inventory: Inventory, latest: readonly ContainerCounters[], windowSeconds: number): string[] => {
  const byKey = new Map(latest.map((c) => [c.identity.containerId, c]));
  const limited = inventory.containers.filter((c) => c.limit !== undefined);
  const lines = [`CPU-limited containers on this node: ${limited.length} (probe window ${windowSeconds} s)`];
  for (const container of limited) {
    const key = containerKeyOf(container.identity.containerId);
    const limit = container.limit === undefined ? '' : `limit ${millicoresOf(container.limit)}m`;
    lines.push(`  ${containerLabel(container)}  ${limit}  ${probeSays(byKey.get(key))}  [named by ${container.naming}]`);
    byKey.delete(key);
  }
  for (const counters of byKey.values()) {
    const id = counters.identity;
    const name = id.namespace === '' || id.namespace === undefined ? `pod ${id.podUid ?? '?'} container ${id.containerId}` : `${id.namespace}/${id.pod}/${id.container}`;
    const limitM = Math.round(((counters.bandwidth.quotaNs ?? 0) / counters.bandwidth.periodNs) * 1000);
    lines.push(`  ${name}  limit ${limitM}m  ${probeSays(counters)}  [seen by the probe, gone from the cgroup filesystem]`);
  }
  for (const cgroup of inventory.unrecognized) {
    lines.push(`  ${cgroup.cgroupPath}  limit ${millicoresOf(cgroup.limit)}m  [a CPU-limited cgroup in kubepods of no known container layout]`);
  }
  const unnamed = limited.filter((c) => c.naming === 'cgroup').length;
  for (const failure of inventory.namingFailures) {
    lines.push(`naming: ${failure.error}`);
  }
  if (unnamed > 0) {
    lines.push(`naming: ${unnamed} of ${limited.length} named by cgroup path and container id (asked ${inventory.namingAsked}; pass --kubeconfig, and --node if the node's registered name is not this hostname, or --kubelet-url)`);
  }
  return lines;
};
