/**
 * The columns of Pixie's `process_stats` from `/proc/<pid>/stat` and `/proc/<pid>/io`, as its
 * sampler computes them (cpu times in ns from clock ticks, rss in bytes from pages). Pure parsing;
 * {@link readProcessStats} does the reads.
 */
import { readFile } from 'node:fs/promises';

/** USER_HZ on Linux x86_64 and arm64. */
export const CLOCK_TICKS_PER_SECOND = 100n;
const NS_PER_TICK = 1_000_000_000n / CLOCK_TICKS_PER_SECOND;
export const PAGE_SIZE_BYTES = 4096n;

export interface ProcessStats {
  readonly pid: number;
  /** Process start time in clock ticks since boot (the low half of Pixie's UPID). */
  readonly startTimeTicks: bigint;
  readonly comm: string;
  readonly majorFaults: bigint;
  readonly minorFaults: bigint;
  readonly cpuUtimeNs: bigint;
  readonly cpuKtimeNs: bigint;
  readonly numThreads: bigint;
  readonly vsizeBytes: bigint;
  readonly rssBytes: bigint;
  readonly rcharBytes: bigint;
  readonly wcharBytes: bigint;
  readonly readBytes: bigint;
  readonly writeBytes: bigint;
}

/** Parses `/proc/<pid>/stat` and `/proc/<pid>/io` text. The comm may hold spaces and parentheses. */
export const parseProcessStats = (statText: string, ioText: string): ProcessStats => {
  const open = statText.indexOf('(');
  const close = statText.lastIndexOf(')');
  if (open < 0 || close < open) {
    throw new Error(`not a /proc/<pid>/stat line: ${statText.slice(0, 120)}`);
  }
  const pid = Number(statText.slice(0, open).trim());
  const comm = statText.slice(open + 1, close);
  // Fields after the comm start at field 3 (state); index i here is field i + 3.
  const rest = statText.slice(close + 2).trim().split(/\s+/);
  const field = (n: number): bigint => BigInt(rest[n - 3] ?? '0');
  const io = new Map<string, bigint>();
  for (const line of ioText.split('\n')) {
    const [key, value] = line.split(':').map((part) => part.trim());
    if (key !== undefined && value !== undefined && /^\d+$/.test(value)) {
      io.set(key, BigInt(value));
    }
  }
  return {
    pid,
    comm,
    minorFaults: field(10),
    majorFaults: field(12),
    cpuUtimeNs: field(14) * NS_PER_TICK,
    cpuKtimeNs: field(15) * NS_PER_TICK,
    numThreads: field(20),
    startTimeTicks: field(22),
    vsizeBytes: field(23),
    rssBytes: field(24) * PAGE_SIZE_BYTES,
    rcharBytes: io.get('rchar') ?? 0n,
    wcharBytes: io.get('wchar') ?? 0n,
    readBytes: io.get('read_bytes') ?? 0n,
    writeBytes: io.get('write_bytes') ?? 0n,
  };
};

/** Reads the process_stats columns of one pid; undefined if the process is gone. */
export const readProcessStats = async (pid: number): Promise<ProcessStats | undefined> => {
  try {
    const [stat, io] = await Promise.all([readFile(`/proc/${pid}/stat`, 'utf8'), readFile(`/proc/${pid}/io`, 'utf8')]);
    return parseProcessStats(stat, io);
  } catch {
    return undefined;
  }
};

/** One row of Pixie's `process_stats` table (column names and units as Pixie's). */
export interface ProcessStatsRow {
  readonly time_: bigint;
  /** `asid:pid:start_time_ticks`, as `px.upid_to_string` renders a UPID. */
  readonly upid: string;
  readonly major_faults: bigint;
  readonly minor_faults: bigint;
  readonly cpu_utime_ns: bigint;
  readonly cpu_ktime_ns: bigint;
  readonly num_threads: bigint;
  readonly vsize_bytes: bigint;
  readonly rss_bytes: bigint;
  readonly rchar_bytes: bigint;
  readonly wchar_bytes: bigint;
  readonly read_bytes: bigint;
  readonly write_bytes: bigint;
}

/** A sample in Pixie's process_stats shape; `timeNs` is wall-clock ns, `asid` the agent id to use. */
export const toProcessStatsRow = (stats: ProcessStats, timeNs: bigint, asid: number): ProcessStatsRow => ({
  time_: timeNs,
  upid: `${asid}:${stats.pid}:${stats.startTimeTicks}`,
  major_faults: stats.majorFaults,
  minor_faults: stats.minorFaults,
  cpu_utime_ns: stats.cpuUtimeNs,
  cpu_ktime_ns: stats.cpuKtimeNs,
  num_threads: stats.numThreads,
  vsize_bytes: stats.vsizeBytes,
  rss_bytes: stats.rssBytes,
  rchar_bytes: stats.rcharBytes,
  wchar_bytes: stats.wcharBytes,
  read_bytes: stats.readBytes,
  write_bytes: stats.writeBytes,
});
