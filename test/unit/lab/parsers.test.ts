import { describe, expect, it } from 'vitest';
import { parseCpuStat } from '../../../dev/lab/cpu-stat.ts';
import { parseProcessStats, toProcessStatsRow } from '../../../dev/lab/proc-stat.ts';

describe('parseCpuStat', () => {
  it('reads cgroup v1 cpu.stat', () => {
    expect(parseCpuStat('nr_periods 23\nnr_throttled 17\nthrottled_time 968525870\nnr_bursts 0\nburst_time 0\n')).toEqual({
      nrPeriods: 23n,
      nrThrottled: 17n,
      throttledTimeNs: 968_525_870n,
      nrBursts: 0n,
      burstTimeNs: 0n,
    });
  });

  it('reads cgroup v2 cpu.stat (usec converted to ns)', () => {
    const v2 = 'usage_usec 100\nuser_usec 60\nsystem_usec 40\nnr_periods 5\nnr_throttled 2\nthrottled_usec 1500\nnr_bursts 1\nburst_usec 7\n';
    expect(parseCpuStat(v2)).toEqual({ nrPeriods: 5n, nrThrottled: 2n, throttledTimeNs: 1_500_000n, nrBursts: 1n, burstTimeNs: 7_000n });
  });

  it('rejects text without nr_periods', () => {
    expect(() => parseCpuStat('usage_usec 1\n')).toThrow(/nr_periods/);
  });
});

describe('parseProcessStats', () => {
  it('reads the process_stats columns, with a comm holding spaces and parentheses', () => {
    const fields = Array.from({ length: 50 }, (_v, i) => String(i + 3));
    const stat = `1234 (my (odd) proc) ${fields.join(' ')}`;
    const io = 'rchar: 11\nwchar: 22\nsyscr: 3\nsyscw: 4\nread_bytes: 4096\nwrite_bytes: 8192\ncancelled_write_bytes: 0\n';
    expect(parseProcessStats(stat, io)).toEqual({
      pid: 1234,
      comm: 'my (odd) proc',
      minorFaults: 10n,
      majorFaults: 12n,
      cpuUtimeNs: 14n * 10_000_000n,
      cpuKtimeNs: 15n * 10_000_000n,
      numThreads: 20n,
      startTimeTicks: 22n,
      vsizeBytes: 23n,
      rssBytes: 24n * 4096n,
      rcharBytes: 11n,
      wcharBytes: 22n,
      readBytes: 4096n,
      writeBytes: 8192n,
    });
  });
});

describe('toProcessStatsRow', () => {
  it('uses Pixie column names and renders the upid as asid:pid:start', () => {
    const fields = Array.from({ length: 50 }, (_v, i) => String(i + 3));
    const stats = parseProcessStats(`77 (burner) ${fields.join(' ')}`, 'rchar: 1\nwchar: 2\nread_bytes: 3\nwrite_bytes: 4\n');
    expect(toProcessStatsRow(stats, 5n, 9)).toMatchObject({ time_: 5n, upid: '9:77:22', cpu_utime_ns: 140_000_000n, rss_bytes: 24n * 4096n, write_bytes: 4n });
  });
});
