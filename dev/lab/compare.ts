/**
 * Reading a {@link Recording}: its printfs as typed rows, attributed to the lab's containers, and the
 * throttle probe's counters checked against cpu.stat samples that bracket each row in time. Pure, so
 * fixtures can be checked without a kernel.
 */
import { parseContainerCgroupNames } from '../../shared/pxl/cgroup-identity.ts';
import { birthEventName } from '../../shared/pxl/birth-events.ts';
import { type Row, rowParser } from './bpftrace-output.ts';
import type { ContainerTruth, CpuStatJson, Recording } from './scenarios.ts';

/** The recording's printfs parsed by the program's column rules (time_ as wall-clock ns). */
export const recordingRows = (recording: Recording): Row[] => {
  const parse = rowParser({ format: recording.format, columns: recording.columns }, BigInt(recording.clockOffsetNs));
  return recording.printfs.map(parse);
};

const str = (row: Row, column: string): string => {
  const value = row[column];
  return typeof value === 'string' ? value : '';
};

const int = (row: Row, column: string): bigint => {
  const value = row[column];
  return typeof value === 'bigint' ? value : 0n;
};

/** The lab container a row's cgroup names identify (by container key), if any. */
export const containerOfNames = (containers: readonly ContainerTruth[], cgroup: string, parent: string): ContainerTruth | undefined => {
  const identity = parseContainerCgroupNames(cgroup, parent);
  if (identity === undefined) {
    return undefined;
  }
  return containers.find((c) => c.podUid === identity.podUid && c.containerId.startsWith(identity.containerKey));
};

export const COUNTERS = [
  ['nr_periods', 'nrPeriods'],
  ['nr_throttled', 'nrThrottled'],
  ['throttled_time_ns', 'throttledTimeNs'],
  ['nr_bursts', 'nrBursts'],
  ['burst_time_ns', 'burstTimeNs'],
] as const;

export interface BracketCheck {
  readonly container: string;
  readonly rowMonoNs: bigint;
  /** Monotonic gap between the end of the sample before the row and the start of the one after. */
  readonly bracketNs: bigint;
  /** Counters outside [before, after]: empty when the probe agrees with cpu.stat. */
  readonly mismatches: readonly string[];
  /** For each counter, after - before: how far cpu.stat moved within the bracket. */
  readonly spread: Readonly<Record<string, bigint>>;
}

/**
 * Checks every throttle row of a lab container against the cpu.stat samples of its cgroup read just
 * before and just after the row's time (samples and rows share CLOCK_MONOTONIC). A row outside the
 * recorded samples is checked against cpuStatBefore / cpuStatAfter.
 */
export const checkThrottleRows = (recording: Recording): BracketCheck[] => {
  const offset = BigInt(recording.clockOffsetNs);
  const checks: BracketCheck[] = [];
  for (const row of recordingRows(recording)) {
    const container = containerOfNames(recording.containers, str(row, 'container_cgroup'), str(row, 'pod_cgroup'));
    if (container === undefined) {
      continue;
    }
    const t = int(row, 'time_') - offset;
    const samples = recording.cpuStatSamples.filter((s) => s.cgroupPath === container.cgroupPath);
    const before = samples.filter((s) => BigInt(s.endNs) <= t).at(-1);
    const after = samples.find((s) => BigInt(s.startNs) >= t);
    // Lab cgroups are new: before the first sample every counter is at least 0.
    const low: CpuStatJson | null = before?.stat ?? null;
    const high: CpuStatJson | null = after?.stat ?? container.cpuStatAfter;
    const mismatches: string[] = [];
    const spread: Record<string, bigint> = {};
    for (const [column, key] of COUNTERS) {
      const value = int(row, column);
      const lo = low === null ? 0n : BigInt(low[key]);
      const hi = high === null ? value : BigInt(high[key]);
      spread[column] = hi - lo;
      if (value < lo || value > hi) {
        mismatches.push(`${column}=${value} not in [${lo}, ${hi}]`);
      }
    }
    checks.push({
      container: `${container.pod}/${container.container}`,
      rowMonoNs: t,
      bracketNs: before !== undefined && after !== undefined ? BigInt(after.startNs) - BigInt(before.endNs) : -1n,
      mismatches,
      spread,
    });
  }
  return checks;
};

/** A birth event row with the lab container (or lab pod) it belongs to. */
export interface AttributedEvent {
  readonly row: Row;
  /** The lab container, when the row's cgroup (or, for mkdir/attach rows, its named twin) is one. */
  /** The event's name (the program prints its code). */
  readonly event: string;
  readonly container: ContainerTruth | undefined;
  /** The lab container whose cgroup has the row's (hierarchy, cgroup_id), by the lab's own ids. */
  readonly containerById: ContainerTruth | undefined;
  /** True when the row's (hierarchy, cgroup_id) is a lab pod cgroup or one of its kubepods parents. */
  readonly podLevel: boolean;
  /** The cgroup name and parent name the row carries or was resolved to ('' when unknown). */
  readonly cgroup: string;
  readonly parentCgroup: string;
}

/**
 * Attributes each birth row as the birth scripts do: rows that carry cgroup names keep them; mkdir
 * and attach rows take the names of a named row with the same (hierarchy, cgroup_id), or (for the
 * other cgroup v1 hierarchies, as pod_birth_lite.pxl does) of the named rows of the pid an attach
 * row attached.
 */
export const attributeBirthRows = (recording: Recording): AttributedEvent[] => {
  const rows = recordingRows(recording);
  const names = new Map<string, { cgroup: string; parent: string }>();
  const byPid = new Map<bigint, { cgroup: string; parent: string }>();
  for (const row of rows) {
    if (str(row, 'cgroup') !== '') {
      const name = { cgroup: str(row, 'cgroup'), parent: str(row, 'parent_cgroup') };
      names.set(`${int(row, 'hierarchy')}:${int(row, 'cgroup_id')}`, name);
      byPid.set(int(row, 'pid'), name);
      // pod_birth_lite's pid events also carry their cgroup's parent id: the pod-level cgroup. A
      // row naming that cgroup itself wins (set above, in any order).
      const parentKey = 'parent_cgroup_id' in row && int(row, 'parent_cgroup_id') !== 0n ? `${int(row, 'hierarchy')}:${int(row, 'parent_cgroup_id')}` : undefined;
      if (parentKey !== undefined && !names.has(parentKey)) {
        names.set(parentKey, { cgroup: str(row, 'parent_cgroup'), parent: '' });
      }
    }
  }
  for (const row of rows) {
    const key = `${int(row, 'hierarchy')}:${int(row, 'cgroup_id')}`;
    const name = byPid.get(int(row, 'pid'));
    if (birthEventName(int(row, 'event_code')) === 'cgroup_attach' && name !== undefined && !names.has(key)) {
      names.set(key, name);
    }
  }
  return rows.map((row) => {
    const named = str(row, 'cgroup') !== '' ? { cgroup: str(row, 'cgroup'), parent: str(row, 'parent_cgroup') } : names.get(`${int(row, 'hierarchy')}:${int(row, 'cgroup_id')}`);
    const cgroup = named?.cgroup ?? '';
    const parentCgroup = named?.parent ?? '';
    const hierarchy = Number(int(row, 'hierarchy'));
    const id = Number(int(row, 'cgroup_id'));
    const hasId = (ids: readonly { hierarchy: number; id: number }[]): boolean => ids.some((x) => x.hierarchy === hierarchy && x.id === id);
    return {
      row,
      event: birthEventName(int(row, 'event_code')),
      container: containerOfNames(recording.containers, cgroup, parentCgroup),
      containerById: recording.containers.find((c) => hasId(c.cgroupIds)),
      podLevel: recording.containers.some((c) => hasId(c.podCgroupIds)),
      cgroup,
      parentCgroup,
    };
  });
};

/** Counters of one throttle row or one cpu.stat read, as bigints. */
export interface ThrottleCounters {
  readonly nrPeriods: bigint;
  readonly nrThrottled: bigint;
  readonly throttledTimeNs: bigint;
  readonly nrBursts: bigint;
  readonly burstTimeNs: bigint;
}

/** Per lab container of a throttle recording: what the probe saw and what the lab measured. */
export interface ThrottleSummary {
  readonly truth: ContainerTruth;
  readonly quotaUs: number | undefined;
  readonly periodUs: number | undefined;
  /** The probe's first and last rows for the container (undefined: no row, e.g. no limit). */
  readonly probeFirst: ThrottleCounters | undefined;
  readonly probeLast: ThrottleCounters | undefined;
  readonly probeRows: number;
  readonly cpuStatBefore: ThrottleCounters | undefined;
  readonly cpuStatAfter: ThrottleCounters | undefined;
  /** CPU time the container's processes used while sampled (process_stats view: per pid max - min, summed). */
  readonly sampledCpuTimeNs: bigint;
}

const countersOfRow = (row: Row): ThrottleCounters => ({
  nrPeriods: int(row, 'nr_periods'),
  nrThrottled: int(row, 'nr_throttled'),
  throttledTimeNs: int(row, 'throttled_time_ns'),
  nrBursts: int(row, 'nr_bursts'),
  burstTimeNs: int(row, 'burst_time_ns'),
});

const countersOfJson = (stat: CpuStatJson | null): ThrottleCounters | undefined =>
  stat === null
    ? undefined
    : {
        nrPeriods: BigInt(stat.nrPeriods),
        nrThrottled: BigInt(stat.nrThrottled),
        throttledTimeNs: BigInt(stat.throttledTimeNs),
        nrBursts: BigInt(stat.nrBursts),
        burstTimeNs: BigInt(stat.burstTimeNs),
      };

/** One summary per app container of a throttle recording (what the analysis helper consumes). */
export const summarizeThrottle = (recording: Recording): ThrottleSummary[] => {
  const rows = recordingRows(recording);
  return recording.containers
    .filter((c) => !c.sandbox)
    .map((truth) => {
      const own = rows.filter((r) => containerOfNames([truth], str(r, 'container_cgroup'), str(r, 'pod_cgroup')) !== undefined);
      const cpu = (truth.ociConfig['linux'] as { resources?: { cpu?: { quota?: number; period?: number } } }).resources?.cpu;
      const perPid = new Map<string, bigint[]>();
      for (const sample of recording.processStats.filter((s) => s.cgroupPath === truth.cgroupPath)) {
        const key = `${String(sample.stats['pid'])}:${String(sample.stats['startTimeTicks'])}`;
        const cpuNs = BigInt(sample.stats['cpuUtimeNs'] ?? 0) + BigInt(sample.stats['cpuKtimeNs'] ?? 0);
        perPid.set(key, [...(perPid.get(key) ?? []), cpuNs]);
      }
      let sampledCpuTimeNs = 0n;
      for (const values of perPid.values()) {
        sampledCpuTimeNs += values.reduce((a, b) => (b > a ? b : a)) - values.reduce((a, b) => (b < a ? b : a));
      }
      const first = own[0];
      const last = own.at(-1);
      return {
        truth,
        quotaUs: cpu?.quota,
        periodUs: cpu?.quota === undefined ? undefined : cpu.period,
        probeFirst: first === undefined ? undefined : countersOfRow(first),
        probeLast: last === undefined ? undefined : countersOfRow(last),
        probeRows: own.length,
        cpuStatBefore: countersOfJson(truth.cpuStatBefore),
        cpuStatAfter: countersOfJson(truth.cpuStatAfter),
        sampledCpuTimeNs,
      };
    });
};

/**
 * The app containers of a throttle recording that have a CPU limit, and of those the ones the
 * kernel throttled while the lab watched (their cpu.stat nr_throttled grew): what a throttle
 * finding per throttled container is checked against, from the kernel's counters, not the analysis.
 */
export const kernelThrottled = (recording: Recording): { readonly limited: readonly ContainerTruth[]; readonly throttled: readonly ContainerTruth[] } => {
  const limited = summarizeThrottle(recording).filter((s) => s.quotaUs !== undefined && s.quotaUs > 0);
  return {
    limited: limited.map((s) => s.truth),
    throttled: limited.filter((s) => s.cpuStatAfter !== undefined && s.cpuStatBefore !== undefined && s.cpuStatAfter.nrThrottled > s.cpuStatBefore.nrThrottled).map((s) => s.truth),
  };
};
