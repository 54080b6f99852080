import { describe, expect, it } from 'vitest';
import { CpuLimitFormatError, millicoresOf, parseCpuMax, parseV1CpuLimit } from '../../../dev/node/cpu-limit.ts';

// Formats as the kernel prints them: cgroup v1 cpu.cfs_quota_us is -1 without a limit
// (Documentation/scheduler/sched-bwc.rst); v2 cpu.max is "$MAX $PERIOD", "max" for none
// (Documentation/admin-guide/cgroup-v2.rst, "cpu.max").
describe('CPU limit files', () => {
  it('reads v1 quota and period', () => {
    expect(parseV1CpuLimit('20000\n', '100000\n')).toEqual({ quotaUs: 20000, periodUs: 100000 });
    expect(parseV1CpuLimit('-1\n', '100000\n')).toBeUndefined();
  });

  it('reads v2 cpu.max', () => {
    expect(parseCpuMax('10000 100000\n')).toEqual({ quotaUs: 10000, periodUs: 100000 });
    expect(parseCpuMax('max 100000\n')).toBeUndefined();
  });

  it.each([
    () => parseV1CpuLimit('abc', '100000'),
    () => parseV1CpuLimit('1000', '0'),
    () => parseCpuMax('10000'),
    () => parseCpuMax('10000 100000 7'),
    () => parseCpuMax('max nope'),
  ])('rejects text the kernel does not write (%#)', (parse) => {
    expect(parse).toThrow(CpuLimitFormatError);
  });

  it('says the limit in millicores as a pod spec would', () => {
    expect(millicoresOf({ quotaUs: 10000, periodUs: 100000 })).toBe(100);
    expect(millicoresOf({ quotaUs: 150000, periodUs: 100000 })).toBe(1500);
  });
});
