/**
 * Input types for throttle analysis: the kernel's CFS bandwidth counters of one container over one
 * observation window, and the arithmetic that turns cumulative counters into window deltas.
 *
 * Units are fixed and carried in the field names: every duration is in nanoseconds (`...Ns`), every
 * wall-clock instant in milliseconds since the Unix epoch (`...Ms`). The kernel keeps
 * `cfs_bandwidth.{quota,period,burst}` in nanoseconds and cgroup v1 files show microseconds
 * (`cpu.cfs_quota_us`), so adapters multiply file values by 1000; cgroup v2 `throttled_usec` and
 * `burst_usec` likewise.
 *
 * @module
 */

/** Who a container is, as far as the caller knows. Only `container` and `pod` are required. */
export interface ContainerIdentity {
  readonly cluster?: string;
  readonly namespace?: string;
  readonly pod: string;
  readonly podUid?: string;
  readonly container: string;
  /** Runtime id of this container instance; a new id means the container restarted. */
  readonly containerId?: string;
  readonly node?: string;
  /** The controller that owns the pod (e.g. `{ kind: 'Deployment', name: 'web' }`). */
  readonly owner?: { readonly kind: string; readonly name: string };
}

/**
 * One reading of a cgroup's cumulative CFS counters (`cpu.stat`, or the same fields of
 * `task_group->cfs_bandwidth` read with eBPF) at one instant.
 */
export interface CfsSample {
  /** When the sample was taken (ms since the Unix epoch). */
  readonly atMs: number;
  /** `nr_periods`: enforcement periods that elapsed while the group had runnable work. */
  readonly nrPeriods: number;
  /** `nr_throttled`: periods in which the group ran out of quota and was throttled. */
  readonly nrThrottled: number;
  /** `throttled_time` (ns): summed over the group's per-CPU run queues, so it can exceed wall time. */
  readonly throttledTimeNs: number;
  /** `nr_bursts` (kernel >= 5.14); absent when the kernel or probe does not report it. */
  readonly nrBursts?: number;
  /** `burst_time` (ns): CPU time used beyond the quota thanks to the burst allowance. */
  readonly burstTimeNs?: number;
}

/** The container's CFS bandwidth settings during the window. */
export interface CfsBandwidth {
  /** Quota per period (ns); `null` when unlimited (`-1` in v1, `max` in v2, RUNTIME_INF in the kernel). */
  readonly quotaNs: number | null;
  /** Enforcement period (ns); 100 ms by default. */
  readonly periodNs: number;
  /** Burst allowance (ns, `cpu.cfs_burst_us` / `cpu.max.burst`); absent or 0 when none. */
  readonly burstNs?: number;
}

/** Everything known about one container over one window. */
export interface ContainerCounters {
  readonly identity: ContainerIdentity;
  /** The observation window (ms since the Unix epoch); `endMs > startMs`. */
  readonly window: { readonly startMs: number; readonly endMs: number };
  /**
   * Cumulative counter samples, at least two (the first and last of the window), in any order.
   * More samples let counter resets be located and the throttled periods be placed in time.
   */
  readonly samples: readonly CfsSample[];
  readonly bandwidth: CfsBandwidth;
  /**
   * CPU time the container used over the window (ns), e.g. summed `process_stats` CPU time deltas.
   * Absent when it was not measured: the analysis then works from kernel bounds and says so.
   */
  readonly cpuUsedNs?: number;
  /** When the container started (ms since the Unix epoch), if known; used to recognise start-up bursts. */
  readonly startedAtMs?: number;
}

/** Window totals of the CFS counters, with counter resets accounted for. */
export interface CfsDelta {
  readonly periods: number;
  readonly throttledPeriods: number;
  readonly throttledTimeNs: number;
  /** Absent when any sample lacks `nrBursts`. */
  readonly bursts?: number;
  /** Absent when any sample lacks `burstTimeNs`. */
  readonly burstTimeNs?: number;
  /** Number of counter resets seen (a counter went backwards: new cgroup, e.g. container restart). */
  readonly resets: number;
  /** When throttled periods were first and last seen to grow (sample instants), if they grew at all. */
  readonly throttledFirstSeenMs?: number;
  readonly throttledLastSeenMs?: number;
}

/** Thrown when counters cannot describe a window (too few samples, negative values). */
export class CountersError extends Error {
  override readonly name = 'CountersError';
}

const increase = (previous: number, current: number): { value: number; reset: boolean } =>
  current >= previous ? { value: current - previous, reset: false } : { value: current, reset: true };

const checkSample = (sample: CfsSample, index: number): void => {
  const fields: [string, number | undefined][] = [
    ['nrPeriods', sample.nrPeriods],
    ['nrThrottled', sample.nrThrottled],
    ['throttledTimeNs', sample.throttledTimeNs],
    ['nrBursts', sample.nrBursts],
    ['burstTimeNs', sample.burstTimeNs],
  ];
  for (const [name, value] of fields) {
    if (value !== undefined && (!Number.isFinite(value) || value < 0)) {
      throw new CountersError(`sample ${index}: ${name} must be a finite non-negative number, got ${value}`);
    }
  }
  if (!Number.isFinite(sample.atMs)) {
    throw new CountersError(`sample ${index}: atMs must be a finite number`);
  }
};

/**
 * Sums the increase of each cumulative counter across consecutive samples, the way Prometheus'
 * `increase()` does: when a counter goes backwards the cgroup was recreated (the container
 * restarted), so the new value counts from zero and is added whole. A reset is recognised when
 * `nr_periods` (or any counter) decreases.
 */
export const cfsDelta = (input: readonly CfsSample[]): CfsDelta => {
  if (input.length < 2) {
    throw new CountersError(`need at least 2 samples to form a window, got ${input.length}`);
  }
  input.forEach(checkSample);
  // Rows can arrive out of order (two CPUs emitting at once, merged tables): order them by time,
  // the input order breaking ties.
  const samples = input.map((sample, i) => ({ sample, i })).sort((a, b) => a.sample.atMs - b.sample.atMs || a.i - b.i).map(({ sample }) => sample);
  let periods = 0;
  let throttledPeriods = 0;
  let throttledTimeNs = 0;
  let bursts: number | undefined = 0;
  let burstTimeNs: number | undefined = 0;
  let resets = 0;
  let throttledFirstSeenMs: number | undefined;
  let throttledLastSeenMs: number | undefined;
  for (let i = 1; i < samples.length; i++) {
    const before = samples[i - 1];
    const after = samples[i];
    if (before === undefined || after === undefined) {
      continue;
    }
    // Any counter moving backwards means the whole cgroup is new: treat every counter as reset.
    const reset =
      after.nrPeriods < before.nrPeriods ||
      after.nrThrottled < before.nrThrottled ||
      after.throttledTimeNs < before.throttledTimeNs;
    if (reset) {
      resets++;
    }
    const step = (a: number, b: number): number => (reset ? b : increase(a, b).value);
    periods += step(before.nrPeriods, after.nrPeriods);
    const throttledStep = step(before.nrThrottled, after.nrThrottled);
    throttledPeriods += throttledStep;
    throttledTimeNs += step(before.throttledTimeNs, after.throttledTimeNs);
    if (throttledStep > 0) {
      throttledFirstSeenMs ??= before.atMs;
      throttledLastSeenMs = after.atMs;
    }
    if (bursts !== undefined && before.nrBursts !== undefined && after.nrBursts !== undefined) {
      bursts += step(before.nrBursts, after.nrBursts);
    } else {
      bursts = undefined;
    }
    if (burstTimeNs !== undefined && before.burstTimeNs !== undefined && after.burstTimeNs !== undefined) {
      burstTimeNs += step(before.burstTimeNs, after.burstTimeNs);
    } else {
      burstTimeNs = undefined;
    }
  }
  return {
    periods,
    throttledPeriods,
    throttledTimeNs,
    resets,
    ...(bursts === undefined ? {} : { bursts }),
    ...(burstTimeNs === undefined ? {} : { burstTimeNs }),
    ...(throttledFirstSeenMs === undefined ? {} : { throttledFirstSeenMs }),
    ...(throttledLastSeenMs === undefined ? {} : { throttledLastSeenMs }),
  };
};

/**
 * Samples of ONE cgroup instance (e.g. the probe's rows of one cgroup id), made safe for
 * {@link cfsDelta}: in time order, and each counter the largest value read so far. A cgroup's
 * counters only grow during its life, so a smaller value after a larger one is a read that raced
 * another CPU's (cpu_throttle.pxl: two CPUs can both emit a row of one container at once, with
 * their times and readings crossed), never a reset; duplicates then add nothing.
 */
export const oneCgroupSamples = (samples: readonly CfsSample[]): CfsSample[] => {
  const ordered = samples.map((sample, i) => ({ sample, i })).sort((a, b) => a.sample.atMs - b.sample.atMs || a.i - b.i);
  let high: CfsSample | undefined;
  const maxOf = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined || b === undefined ? b : Math.max(a, b));
  return ordered.map(({ sample }) => {
    const nrBursts = maxOf(high?.nrBursts, sample.nrBursts);
    const burstTimeNs = maxOf(high?.burstTimeNs, sample.burstTimeNs);
    high = {
      atMs: sample.atMs,
      nrPeriods: Math.max(high?.nrPeriods ?? 0, sample.nrPeriods),
      nrThrottled: Math.max(high?.nrThrottled ?? 0, sample.nrThrottled),
      throttledTimeNs: Math.max(high?.throttledTimeNs ?? 0, sample.throttledTimeNs),
      ...(nrBursts === undefined ? {} : { nrBursts }),
      ...(burstTimeNs === undefined ? {} : { burstTimeNs }),
    };
    return high;
  });
};

/** The CPU limit in cores (`quota / period`), or `null` when the container has no limit. */
export const limitCores = (bandwidth: CfsBandwidth): number | null =>
  bandwidth.quotaNs === null ? null : bandwidth.quotaNs / bandwidth.periodNs;
