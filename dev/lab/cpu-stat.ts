/** `cpu.stat` of a cgroup (v1 names, and the v2 names that mean the same). Pure. */

export interface CpuStat {
  readonly nrPeriods: bigint;
  readonly nrThrottled: bigint;
  readonly throttledTimeNs: bigint;
  readonly nrBursts: bigint;
  readonly burstTimeNs: bigint;
}

/** Parses cpu.stat text. v2 reports times in usec (`throttled_usec`); they are converted to ns. */
export const parseCpuStat = (text: string): CpuStat => {
  const values = new Map<string, bigint>();
  for (const line of text.split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key !== undefined && value !== undefined && /^\d+$/.test(value)) {
      values.set(key, BigInt(value));
    }
  }
  const pick = (ns: string, usec: string): bigint => {
    const direct = values.get(ns);
    if (direct !== undefined) {
      return direct;
    }
    const micro = values.get(usec);
    return micro === undefined ? 0n : micro * 1000n;
  };
  const nrPeriods = values.get('nr_periods');
  if (nrPeriods === undefined) {
    throw new Error(`cpu.stat without nr_periods: ${text.slice(0, 200)}`);
  }
  return {
    nrPeriods,
    nrThrottled: values.get('nr_throttled') ?? 0n,
    throttledTimeNs: pick('throttled_time', 'throttled_usec'),
    nrBursts: values.get('nr_bursts') ?? 0n,
    burstTimeNs: pick('burst_time', 'burst_usec'),
  };
};
