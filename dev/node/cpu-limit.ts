/**
 * A cgroup's CPU limit from its files, as the kernel prints them (pure):
 * - v1: `cpu.cfs_quota_us` (`-1` for none) and `cpu.cfs_period_us`
 * - v2: `cpu.max`, `<quota|max> <period>` (Documentation/admin-guide/cgroup-v2.rst, "cpu.max")
 *
 * @module
 */

/** A CFS bandwidth limit: `quotaUs` of CPU time per `periodUs`. */
export interface CpuLimit {
  readonly quotaUs: number;
  readonly periodUs: number;
}

/** A limit file whose text is not what the kernel writes. */
export class CpuLimitFormatError extends Error {
  override readonly name = 'CpuLimitFormatError';
}

const integer = (text: string, what: string): number => {
  if (!/^-?\d+$/.test(text)) {
    throw new CpuLimitFormatError(`${what}: expected an integer, got ${JSON.stringify(text.slice(0, 40))}`);
  }
  return Number(text);
};

const limitOf = (quotaUs: number, periodUs: number, what: string): CpuLimit | undefined => {
  if (periodUs <= 0) {
    throw new CpuLimitFormatError(`${what}: period ${periodUs} is not positive`);
  }
  return quotaUs < 0 ? undefined : { quotaUs, periodUs };
};

/** The limit of a v1 cgroup, or undefined when it has none (quota -1). */
export const parseV1CpuLimit = (quotaText: string, periodText: string): CpuLimit | undefined =>
  limitOf(integer(quotaText.trim(), 'cpu.cfs_quota_us'), integer(periodText.trim(), 'cpu.cfs_period_us'), 'cpu.cfs_quota_us');

/** The limit of a v2 cgroup from `cpu.max`, or undefined when it has none (`max`). */
export const parseCpuMax = (text: string): CpuLimit | undefined => {
  const [quota, period, ...rest] = text.trim().split(/\s+/);
  if (quota === undefined || period === undefined || rest.length > 0) {
    throw new CpuLimitFormatError(`cpu.max: expected "<quota|max> <period>", got ${JSON.stringify(text.slice(0, 40))}`);
  }
  const quotaUs = quota === 'max' ? -1 : integer(quota, 'cpu.max quota');
  return limitOf(quotaUs, integer(period, 'cpu.max period'), 'cpu.max');
};

/** The limit in millicores (what a pod spec's `limits.cpu` says), rounded. */
export const millicoresOf = (limit: CpuLimit): number => Math.round((limit.quotaUs / limit.periodUs) * 1000);
