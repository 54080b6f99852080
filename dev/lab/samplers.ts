/**
 * Periodic samplers on the lab's own clock (CLOCK_MONOTONIC, the clock of bpftrace's nsecs):
 * cpu.stat of chosen cgroups (often, to bracket each probe row tightly) and the process_stats
 * columns of their processes from /proc (every second, like Pixie's sampler).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { type CpuStat, parseCpuStat } from './cpu-stat.ts';
import { monotonicNs } from './clock.ts';
import { type ProcessStats, readProcessStats } from './proc-stat.ts';

export interface CpuStatSample {
  /** Monotonic ns just before the read started. */
  readonly startNs: bigint;
  /** Monotonic ns just after the read ended. */
  readonly endNs: bigint;
  readonly stat: CpuStat;
}

export interface ProcessStatsSample {
  readonly monoNs: bigint;
  readonly cgroupPath: string;
  readonly stats: ProcessStats;
}

/** The cgroups to sample at each tick (asked again every tick: containers come and go). */
export type CgroupPaths = () => readonly string[] | Promise<readonly string[]>;

export interface Sampler<T> {
  samples(): readonly T[];
  stop(): Promise<readonly T[]>;
}

const loop = (everyMs: number, tick: () => Promise<void>): (() => Promise<void>) => {
  const state = { stopped: false };
  const done = (async () => {
    while (!state.stopped) {
      await tick();
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();
  return async () => {
    state.stopped = true;
    await done;
  };
};

/** Samples cpu.stat of each cgroup path (relative to `cpuHierarchy`) every `everyMs`; missing cgroups are skipped. */
export const sampleCpuStat = (cpuHierarchy: string, cgroupPaths: CgroupPaths, everyMs = 20): Sampler<CpuStatSample & { readonly cgroupPath: string }> => {
  const out: (CpuStatSample & { cgroupPath: string })[] = [];
  const stop = loop(everyMs, async () => {
    for (const cgroupPath of await cgroupPaths()) {
      const startNs = monotonicNs();
      const text = await readFile(path.join(cpuHierarchy, cgroupPath, 'cpu.stat'), 'utf8').catch(() => undefined);
      const endNs = monotonicNs();
      if (text !== undefined) {
        out.push({ cgroupPath, startNs, endNs, stat: parseCpuStat(text) });
      }
    }
  });
  return {
    samples: () => out,
    stop: async () => {
      await stop();
      return out;
    },
  };
};

/** Samples the process_stats columns of every process in each cgroup every `everyMs` (Pixie: 1 s). */
export const sampleProcessStats = (cpuHierarchy: string, cgroupPaths: CgroupPaths, everyMs = 1000): Sampler<ProcessStatsSample> => {
  const out: ProcessStatsSample[] = [];
  const stop = loop(everyMs, async () => {
    for (const cgroupPath of await cgroupPaths()) {
      const procs = await readFile(path.join(cpuHierarchy, cgroupPath, 'cgroup.procs'), 'utf8').catch(() => '');
      for (const pid of procs.split('\n').filter((line) => line !== '')) {
        const monoNs = monotonicNs();
        const stats = await readProcessStats(Number(pid));
        if (stats !== undefined) {
          out.push({ monoNs, cgroupPath, stats });
        }
      }
    }
  });
  return {
    samples: () => out,
    stop: async () => {
      await stop();
      return out;
    },
  };
};
