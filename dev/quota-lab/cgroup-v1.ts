/**
 * Minimal cgroup v1 plumbing for the analysis lab: CPU-limited cgroups under
 * `/sys/fs/cgroup/{cpu,cpuacct}/kg-analysis-<run>/`, their counters, and their removal.
 * (The kernel-lab's `dev/lab` makes kubelet-shaped pods with runc; this runner only needs a cgroup
 * with a quota and its `cpu.stat`, so it stays small and has no container runtime in the way.)
 */
import { mkdir, readFile, rmdir, writeFile, access } from 'node:fs/promises';
import path from 'node:path';

const ROOT = '/sys/fs/cgroup';
const CONTROLLERS = ['cpu', 'cpuacct'] as const;

export class LabCgroupError extends Error {
  override readonly name = 'LabCgroupError';
}

/** The v1 cpu.stat counters plus cpuacct.usage, read at one instant. */
export interface CgroupReading {
  readonly atMs: number;
  readonly nrPeriods: number;
  readonly nrThrottled: number;
  readonly throttledTimeNs: number;
  readonly nrBursts?: number;
  readonly burstTimeNs?: number;
  readonly usageNs: number;
}

/** A cgroup (one directory per controller) addressed by its path under the hierarchy roots. */
export class LabCgroup {
  readonly relative: string;

  constructor(relative: string) {
    if (!/^[a-z0-9][a-z0-9/_-]*$/.test(relative) || relative.includes('..')) {
      throw new LabCgroupError(`unsafe cgroup path: ${relative}`);
    }
    this.relative = relative;
  }

  dir(controller: (typeof CONTROLLERS)[number]): string {
    return path.join(ROOT, controller, this.relative);
  }

  /** `cgroup.procs` files a process must join, one per controller. */
  procsFiles(): string[] {
    return CONTROLLERS.map((c) => path.join(this.dir(c), 'cgroup.procs'));
  }

  async create(): Promise<void> {
    for (const c of CONTROLLERS) {
      await mkdir(this.dir(c), { recursive: true });
    }
  }

  /** Sets the CFS bandwidth: quota and period in µs, burst in µs (0 = none). */
  async setBandwidth(b: { readonly quotaUs: number | null; readonly periodUs: number; readonly burstUs?: number }): Promise<void> {
    const cpu = this.dir('cpu');
    // Burst must not exceed the quota: clear it first, then period, quota, burst.
    await writeFile(path.join(cpu, 'cpu.cfs_burst_us'), '0');
    await writeFile(path.join(cpu, 'cpu.cfs_period_us'), String(b.periodUs));
    await writeFile(path.join(cpu, 'cpu.cfs_quota_us'), String(b.quotaUs ?? -1));
    if ((b.burstUs ?? 0) > 0) {
      await writeFile(path.join(cpu, 'cpu.cfs_burst_us'), String(b.burstUs));
    }
  }

  /** CPU weight against the rest of the machine (cpu.shares, 2..262144). */
  async setShares(shares: number): Promise<void> {
    await writeFile(path.join(this.dir('cpu'), 'cpu.shares'), String(shares));
  }

  async read(): Promise<CgroupReading> {
    const [stat, usage] = await Promise.all([
      readFile(path.join(this.dir('cpu'), 'cpu.stat'), 'utf8'),
      readFile(path.join(this.dir('cpuacct'), 'cpuacct.usage'), 'utf8'),
    ]);
    const atMs = Date.now();
    const fields = new Map(
      stat
        .trim()
        .split('\n')
        .map((line) => {
          const [key = '', value = ''] = line.split(' ');
          return [key, Number(value)] as const;
        }),
    );
    const need = (key: string): number => {
      const v = fields.get(key);
      if (v === undefined || !Number.isFinite(v)) {
        throw new LabCgroupError(`${this.dir('cpu')}/cpu.stat has no ${key}`);
      }
      return v;
    };
    const bursts = fields.get('nr_bursts');
    const burstTime = fields.get('burst_time');
    return {
      atMs,
      nrPeriods: need('nr_periods'),
      nrThrottled: need('nr_throttled'),
      throttledTimeNs: need('throttled_time'),
      ...(bursts === undefined ? {} : { nrBursts: bursts }),
      ...(burstTime === undefined ? {} : { burstTimeNs: burstTime }),
      usageNs: Number(usage.trim()),
    };
  }

  /** Removes the cgroup directories (deepest first is the caller's job); missing ones are fine. */
  async remove(): Promise<void> {
    for (const c of CONTROLLERS) {
      const dir = this.dir(c);
      try {
        await access(dir);
      } catch {
        continue;
      }
      // rmdir fails with EBUSY while exiting tasks linger for a moment: retry briefly.
      for (let attempt = 0; ; attempt++) {
        try {
          await rmdir(dir);
          break;
        } catch (error) {
          if (attempt >= 50) {
            throw new LabCgroupError(`cannot remove ${dir}`, { cause: error });
          }
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
    }
  }
}

/** Fails loudly when this host cannot run the lab (not root, no cgroup v1 cpu/cpuacct, no CFS bandwidth). */
export const checkCgroupV1 = async (): Promise<void> => {
  if (process.getuid?.() !== 0) {
    throw new LabCgroupError('the quota lab needs root (it creates cgroups)');
  }
  for (const file of ['cpu/cpu.cfs_quota_us', 'cpu/cpu.stat', 'cpuacct/cpuacct.usage']) {
    try {
      await access(path.join(ROOT, file));
    } catch (error) {
      throw new LabCgroupError(`cgroup v1 file ${path.join(ROOT, file)} is missing: this host cannot run the quota lab`, { cause: error });
    }
  }
};
