/**
 * `node test/bench/probe-overhead.ts [rounds]`: what each kernel-gossip probe costs the workloads it
 * watches. Three fixed-work loads (pipe ping-pong between two processes: context-switch heavy;
 * getppid() in a loop: syscall heavy; an integer loop: CPU bound) run without a probe, with the
 * cpu_throttle, pod_birth_lite and pod_birth programs attached, and with a reference program (the
 * floor of any syscall tracepoint), interleaved in every round (the order
 * rotates per round) so drift of a shared machine hits all conditions alike. Reports the median CPU
 * time (user + system, which includes the BPF programs run in the load's context) and wall time of
 * each load, the overhead against no probe, and the BPF programs' own cost per event from the kernel's
 * BPF stats (kernel.bpf_stats_enabled is switched on for the run and restored after).
 * Needs root, bpftrace and gcc. Prints a Markdown table.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { cacheDir } from '../../dev/lab/assets.ts';
import { type RunningProbe, startProbe } from '../../dev/lab/bpftrace-runner.ts';
import { checkLabHost } from '../../dev/lab/host.ts';
import { loadRepoScript } from '../../dev/lab/scripts.ts';

const exec = promisify(execFile);

const LOADS = [
  { name: 'context switches (pipe ping-pong, 200k round trips)', args: ['pingpong', '200000'] },
  { name: 'syscalls (getppid x 3M)', args: ['syscalls', '3000000'] },
  { name: 'CPU bound (integer loop, 300M iterations)', args: ['cpu', '300000000'] },
] as const;

const CONDITIONS = ['none', 'cpu_throttle', 'pod_birth_lite', 'pod_birth', 'syscall_tracepoint_floor'] as const;

/**
 * Not a kernel-gossip probe: one empty program on a syscall nobody makes during the loads. Any
 * `syscalls:*` tracepoint puts every syscall of every task on the kernel's tracing slow path, so
 * this is the least any program that watches a syscall through a tracepoint can cost here.
 */
const SYSCALL_TRACEPOINT_FLOOR = 'tracepoint:syscalls:sys_enter_pivot_root\n{\n  printf("time_:%llu n:%d", nsecs, 0);\n}\n';
type Condition = (typeof CONDITIONS)[number];

const loadBinary = async (): Promise<string> => {
  const source = path.join(import.meta.dirname, 'probe-overhead-load.c');
  const hash = createHash('sha256').update(await readFile(source)).digest('hex').slice(0, 16);
  const out = path.join(cacheDir(), 'bench', `probe-overhead-load-${hash}`);
  const built = await access(out).then(() => true, () => false);
  if (!built) {
    await mkdir(path.dirname(out), { recursive: true });
    await exec('gcc', ['-O2', '-static', '-o', `${out}.tmp`, source]);
    await rename(`${out}.tmp`, out);
  }
  return out;
};

interface Sample {
  readonly wallNs: number;
  readonly cpuNs: number;
}

/**
 * Every load runs pinned to one CPU (its children inherit it): the ping-pong then measures context
 * switches, not cross-CPU wakeups out of idle states, which made its baseline bimodal (0.44 s or
 * 3.9 s of CPU for the same work, measured 2026-11-27).
 */
const LOAD_CPU = '1';

const runLoad = async (binary: string, args: readonly string[]): Promise<Sample> => {
  const { stdout } = await exec('taskset', ['-c', LOAD_CPU, binary, ...args]);
  const [wall, cpu] = stdout.trim().split(' ').map(Number);
  if (wall === undefined || cpu === undefined || Number.isNaN(wall) || Number.isNaN(cpu)) {
    throw new Error(`load printed ${stdout}`);
  }
  return { wallNs: wall, cpuNs: cpu };
};

/** Sum of run_time_ns and run_cnt over the BPF programs a process holds (needs kernel.bpf_stats_enabled). */
const bpfStats = async (pid: number): Promise<{ runTimeNs: number; runCount: number }> => {
  let runTimeNs = 0;
  let runCount = 0;
  for (const fd of await readdir(`/proc/${pid}/fdinfo`)) {
    const info = await readFile(`/proc/${pid}/fdinfo/${fd}`, 'utf8').catch(() => '');
    if (!info.includes('prog_type:')) {
      continue;
    }
    runTimeNs += Number(/run_time_ns:\s+(\d+)/.exec(info)?.[1] ?? 0);
    runCount += Number(/run_cnt:\s+(\d+)/.exec(info)?.[1] ?? 0);
  }
  return { runTimeNs, runCount };
};

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
};

const main = async (): Promise<void> => {
  const rounds = Number(process.argv[2] ?? '5');
  if (!Number.isInteger(rounds) || rounds < 1) {
    throw new Error('rounds must be a positive integer');
  }
  const host = await checkLabHost();
  const binary = await loadBinary();
  const programs: Record<Exclude<Condition, 'none'>, string> = {
    cpu_throttle: (await loadRepoScript('cpu_throttle')).program,
    pod_birth_lite: (await loadRepoScript('pod_birth_lite')).program,
    pod_birth: (await loadRepoScript('pod_birth')).program,
    syscall_tracepoint_floor: SYSCALL_TRACEPOINT_FLOOR,
  };
  const samples = new Map<string, Sample[]>();
  const perEvent = new Map<Condition, { runTimeNs: number; runCount: number }>();
  const statsFile = '/proc/sys/kernel/bpf_stats_enabled';
  const statsBefore = (await readFile(statsFile, 'utf8')).trim();
  await writeFile(statsFile, '1');
  try {
    for (let round = 0; round < rounds; round += 1) {
      const order = CONDITIONS.map((_c, i) => CONDITIONS[(i + round) % CONDITIONS.length] ?? 'none');
      for (const condition of order) {
        let probe: RunningProbe | undefined;
        if (condition !== 'none') {
          probe = await startProbe(programs[condition], { bpftrace: host.bpftrace });
        }
        try {
          const before = probe === undefined ? undefined : await bpfStats(probe.pid);
          for (const load of LOADS) {
            const key = `${condition}|${load.name}`;
            samples.set(key, [...(samples.get(key) ?? []), await runLoad(binary, load.args)]);
          }
          if (probe !== undefined && before !== undefined) {
            const after = await bpfStats(probe.pid);
            const total = perEvent.get(condition) ?? { runTimeNs: 0, runCount: 0 };
            perEvent.set(condition, {
              runTimeNs: total.runTimeNs + after.runTimeNs - before.runTimeNs,
              runCount: total.runCount + after.runCount - before.runCount,
            });
          }
        } finally {
          await probe?.stop();
        }
      }
    }
  } finally {
    await writeFile(statsFile, statsBefore);
  }
  const lines = [
    `| load | probe | CPU ms (median of ${rounds}) | CPU overhead | wall ms (median) | wall overhead |`,
    '| --- | --- | ---: | ---: | ---: | ---: |',
  ];
  for (const load of LOADS) {
    const base = samples.get(`none|${load.name}`) ?? [];
    const baseCpu = median(base.map((s) => s.cpuNs));
    const baseWall = median(base.map((s) => s.wallNs));
    for (const condition of CONDITIONS) {
      const own = samples.get(`${condition}|${load.name}`) ?? [];
      const cpu = median(own.map((s) => s.cpuNs));
      const wall = median(own.map((s) => s.wallNs));
      const pct = (value: number, baseline: number): string => (condition === 'none' ? '-' : `${(((value - baseline) / baseline) * 100).toFixed(1)}%`);
      lines.push(`| ${load.name} | ${condition} | ${(cpu / 1e6).toFixed(1)} | ${pct(cpu, baseCpu)} | ${(wall / 1e6).toFixed(1)} | ${pct(wall, baseWall)} |`);
    }
  }
  lines.push('', '| probe | BPF program runs during the loads (whole machine) | mean cost per run |', '| --- | ---: | ---: |');
  for (const [condition, stats] of perEvent) {
    lines.push(`| ${condition} | ${stats.runCount} | ${(stats.runTimeNs / Math.max(stats.runCount, 1)).toFixed(0)} ns |`);
  }
  console.log(lines.join('\n'));
};

await main();
