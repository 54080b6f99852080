/**
 * Runs a lab "pod": one cgroup per container under a run cgroup, each with its CFS quota, each
 * running workload processes; samples every container's counters while they run, and cleans up
 * every cgroup and process it made, also on failure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { checkCgroupV1, LabCgroup, LabCgroupError, type CgroupReading } from './cgroup-v1.ts';
import type { UnitReport, WorkloadSpec } from './workload-spec.ts';

const WORKLOAD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'workload.ts');

export interface LabContainerSpec {
  readonly name: string;
  /** CFS quota per period (µs); `null` for no limit. */
  readonly quotaUs: number | null;
  readonly periodUs?: number;
  readonly burstUs?: number;
  /** One workload process per entry (parallelism = number of busy processes). */
  readonly processes: readonly WorkloadSpec[];
}

export interface LabPodSpec {
  readonly name: string;
  readonly containers: readonly LabContainerSpec[];
}

export interface LabContainerRun {
  readonly pod: string;
  readonly spec: LabContainerSpec;
  readonly cgroup: string;
  /** Counter readings from just before `go` to after the last process exited. */
  readonly readings: readonly CgroupReading[];
  /** Timed units reported by each process. */
  readonly units: readonly (readonly UnitReport[])[];
}

export interface LabPodRun {
  /** When the workloads were told to start (ms since epoch). */
  readonly goMs: number;
  readonly endMs: number;
  readonly containers: readonly LabContainerRun[];
}

let runs = 0;

const waitLine = (child: ChildProcess, what: string, timeoutMs: number, match: (line: string) => boolean): Promise<string> =>
  new Promise((resolve, reject) => {
    if (child.stdout === null) {
      reject(new LabCgroupError('workload has no stdout'));
      return;
    }
    const lines = createInterface({ input: child.stdout });
    const timer = setTimeout(() => {
      lines.close();
      reject(new LabCgroupError(`workload pid ${child.pid ?? '?'} did not print ${what} within ${timeoutMs} ms`));
    }, timeoutMs);
    const onExit = (code: number | null): void => {
      clearTimeout(timer);
      reject(new LabCgroupError(`workload pid ${child.pid ?? '?'} exited (${code ?? 'signal'}) before printing ${what}`));
    };
    child.once('exit', onExit);
    lines.on('line', (line) => {
      if (match(line)) {
        clearTimeout(timer);
        child.off('exit', onExit);
        lines.close();
        resolve(line);
      }
    });
  });

/** Runs one pod to completion; `sampleEveryMs` is the counter sampling interval. */
export const runLabPod = async (pod: LabPodSpec, options: { readonly sampleEveryMs?: number } = {}): Promise<LabPodRun> => {
  await checkCgroupV1();
  const sampleEveryMs = options.sampleEveryMs ?? 100;
  const runRoot = new LabCgroup(`kg-analysis-${process.pid}-${++runs}`);
  const podGroup = new LabCgroup(`${runRoot.relative}/${pod.name}`);
  const members = pod.containers.map((spec) => ({
    spec,
    group: new LabCgroup(`${podGroup.relative}/${spec.name}`),
    children: [] as ChildProcess[],
    readings: [] as CgroupReading[],
  }));
  const children: ChildProcess[] = [];
  const stderr: string[] = [];
  try {
    await runRoot.create();
    // The machine is shared: weigh the run like a pod with a large CPU request, so contention from
    // unrelated processes does not hide the quota's effect during these few seconds.
    await runRoot.setShares(262_144);
    await podGroup.create();
    for (const m of members) {
      await m.group.create();
      await m.group.setBandwidth({ quotaUs: m.spec.quotaUs, periodUs: m.spec.periodUs ?? 100_000, burstUs: m.spec.burstUs ?? 0 });
      const [cpuProcs = '', acctProcs = ''] = m.group.procsFiles();
      for (const w of m.spec.processes) {
        // The shell joins the cgroups first and then becomes node, so nothing runs outside them.
        const child = spawn(
          'sh',
          ['-c', 'echo $$ > "$1" && echo $$ > "$2" && shift 2 && exec "$@"', 'sh', cpuProcs, acctProcs, process.execPath, WORKLOAD, JSON.stringify(w)],
          { stdio: ['pipe', 'pipe', 'pipe'] },
        );
        child.stderr.on('data', (d: Buffer) => stderr.push(d.toString()));
        children.push(child);
        m.children.push(child);
      }
    }
    await Promise.all(children.map((child) => waitLine(child, 'ready', 30_000, (l) => l === 'ready')));
    // Let a few periods pass so the processes' start-up CPU does not eat the quota of the first
    // period of the window.
    await new Promise((r) => setTimeout(r, 300));
    for (const m of members) {
      m.readings.push(await m.group.read());
    }
    const goMs = Date.now();
    const reports = members.map((m) =>
      Promise.all(
        m.children.map((child) =>
          waitLine(child, 'its report', 120_000, (l) => l.startsWith('{')).then((l) => (JSON.parse(l) as { units: UnitReport[] }).units),
        ),
      ),
    );
    const exited = Promise.all(
      children.map((child) =>
        child.exitCode !== null
          ? Promise.resolve()
          : new Promise<void>((resolve) => {
              child.once('exit', () => {
                resolve();
              });
            }),
      ),
    );
    for (const child of children) {
      child.stdin?.end('go\n');
    }
    const state = { done: false };
    void exited.then(() => {
      state.done = true;
    });
    while (!state.done) {
      await new Promise((r) => setTimeout(r, sampleEveryMs));
      for (const m of members) {
        m.readings.push(await m.group.read());
      }
    }
    const units = await Promise.all(reports);
    for (const m of members) {
      m.readings.push(await m.group.read());
    }
    const failed = children.find((c) => c.exitCode !== 0);
    if (failed !== undefined) {
      throw new LabCgroupError(`workload pid ${failed.pid ?? '?'} exited with ${failed.exitCode ?? 'a signal'}: ${stderr.join('').slice(0, 500)}`);
    }
    return {
      goMs,
      endMs: Date.now(),
      containers: members.map((m, i) => ({ pod: pod.name, spec: m.spec, cgroup: m.group.relative, readings: m.readings, units: units[i] ?? [] })),
    };
  } finally {
    for (const child of children) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await new Promise((r) => child.once('exit', r));
      }
    }
    for (const g of [...members.map((m) => m.group), podGroup, runRoot]) {
      await g.remove();
    }
  }
};
