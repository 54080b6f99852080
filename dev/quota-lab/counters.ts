/**
 * Maps a lab run onto the analysis input: `cpu.stat` readings become CfsSamples, `cpuacct.usage`
 * deltas stand in for process_stats CPU time, the cgroup's settings become the bandwidth.
 */
import type { CfsSample, ContainerCounters } from '../../shared/analysis/index.ts';
import type { CgroupReading } from './cgroup-v1.ts';
import type { LabContainerRun } from './run.ts';

export const toSample = (r: CgroupReading): CfsSample => ({
  atMs: r.atMs,
  nrPeriods: r.nrPeriods,
  nrThrottled: r.nrThrottled,
  throttledTimeNs: r.throttledTimeNs,
  ...(r.nrBursts === undefined ? {} : { nrBursts: r.nrBursts }),
  ...(r.burstTimeNs === undefined ? {} : { burstTimeNs: r.burstTimeNs }),
});

/**
 * The analysis input for readings `from..to` (inclusive indexes) of a container run.
 * `startedAtMs` marks the workload start (for start-up recognition).
 */
export const labCounters = (
  run: LabContainerRun,
  options: { readonly from?: number; readonly to?: number; readonly startedAtMs?: number; readonly withCpu?: boolean } = {},
): ContainerCounters => {
  const readings = run.readings.slice(options.from ?? 0, (options.to ?? run.readings.length - 1) + 1);
  const first = readings[0];
  const last = readings[readings.length - 1];
  if (first === undefined || last === undefined || readings.length < 2) {
    throw new Error(`need at least 2 readings, got ${readings.length}`);
  }
  const spec = run.spec;
  return {
    identity: { namespace: 'lab', pod: run.pod, container: spec.name },
    window: { startMs: first.atMs, endMs: last.atMs },
    samples: readings.map(toSample),
    bandwidth: {
      quotaNs: spec.quotaUs === null ? null : spec.quotaUs * 1000,
      periodNs: (spec.periodUs ?? 100_000) * 1000,
      ...(spec.burstUs === undefined ? {} : { burstNs: spec.burstUs * 1000 }),
    },
    ...(options.withCpu === false ? {} : { cpuUsedNs: last.usageNs - first.usageNs }),
    ...(options.startedAtMs === undefined ? {} : { startedAtMs: options.startedAtMs }),
  };
};
