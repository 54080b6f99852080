/**
 * Kernel data for a simulated day of the twin, at known times: recorded lab scenarios (the demo's
 * recordings, real probes on a real kernel) placed on the twin's simulated time axis.
 *
 * - A throttle episode of a pod is the throttle recording's rows of that pod, moved so its first
 *   row is at the chosen time. Later copies of one pod continue its counters (each CFS counter and
 *   the process CPU times grow by what the earlier copies counted), as a living cgroup's would:
 *   the container ran (and was throttled) for the recording's seconds, and was idle otherwise.
 * - A birth is the birth recording's pod, moved likewise, under a new pod uid, pod name and
 *   container ids (so every birth is another pod, as a new replica is).
 *
 * The local Vizier replays the result (`--replay <dir> --replay-follow-clock`).
 *
 * @module
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ContainerTruth, Recording } from '../lab/scenarios.ts';
import { deploymentOf } from '../vizier/pxl/backend.ts';

const COUNTERS = ['nr_periods', 'nr_throttled', 'throttled_time_ns', 'nr_bursts', 'burst_time_ns'] as const;
const CPU_TIMES = ['cpuUtimeNs', 'cpuKtimeNs'] as const;

const field = (line: string, name: string): string | undefined => new RegExp(`(?:^| )${name}:(\\S*)`).exec(line)?.[1];

const concerns = (text: string, uid: string): boolean => text.includes(uid) || text.includes(uid.replaceAll('-', '_'));

/** The clock offset that puts a recording's first printf at `at`. */
const offsetPlacing = (printfs: readonly string[], at: Date): string => {
  const first = printfs.map((line) => BigInt(field(line, 'time_') ?? '0')).reduce((a, b) => (b < a ? b : a));
  return (BigInt(at.getTime()) * 1_000_000n - first).toString();
};

/** A workload of a recording: its namespace and Deployment (the owner its pod's controllers set). */
export interface RecordedWorkload {
  readonly namespace: string;
  readonly deployment: string;
}

/** The pod of `workload` in `recording` (one pod per workload), or an error naming the workloads it has. */
export const podOfWorkload = (recording: Recording, workload: RecordedWorkload): { readonly uid: string; readonly name: string } => {
  const nameOf = (c: ContainerTruth): string => `${c.namespace}/${deploymentOf(c.owner) || c.pod}`;
  const found = recording.containers.filter((c) => nameOf(c) === `${workload.namespace}/${workload.deployment}`);
  const uids = new Set(found.map((c) => c.podUid));
  const [first] = found;
  if (uids.size !== 1 || first === undefined) {
    throw new Error(`the ${recording.script} recording has ${uids.size === 0 ? 'no pod' : `${uids.size} pods`} of ${workload.namespace}/${workload.deployment} (it has ${[...new Set(recording.containers.map(nameOf))].join(', ')})`);
  }
  return { uid: first.podUid, name: first.pod };
};

/** Throttle episodes of a workload: the recording's rows of its pod, once at each of `at` (in order). */
export const throttleEpisodes = (recording: Recording, workload: RecordedWorkload, at: readonly Date[]): Recording[] => {
  const { uid } = podOfWorkload(recording, workload);
  const pod = `${workload.namespace}/${workload.deployment}`;
  const printfs = recording.printfs.filter((line) => concerns(line, uid));
  const stats = recording.processStats.filter((s) => concerns(s.cgroupPath, uid));
  if (printfs.length === 0) {
    throw new Error(`the throttle recording has no probe rows of ${pod}`);
  }
  // What one episode counts, per cgroup (counters) and per process (CPU times): the last values.
  const counted = new Map<string, Map<string, bigint>>();
  for (const line of printfs) {
    const id = field(line, 'cgroup_id') ?? '';
    const values = counted.get(id) ?? new Map<string, bigint>();
    for (const name of COUNTERS) {
      const value = BigInt(field(line, name) ?? '0');
      values.set(name, value > (values.get(name) ?? 0n) ? value : (values.get(name) ?? 0n));
    }
    counted.set(id, values);
  }
  const used = new Map<string, Map<string, bigint>>();
  for (const sample of stats) {
    const pid = String(sample.stats['pid']);
    const values = used.get(pid) ?? new Map<string, bigint>();
    for (const name of CPU_TIMES) {
      const value = BigInt(sample.stats[name] ?? 0);
      values.set(name, value > (values.get(name) ?? 0n) ? value : (values.get(name) ?? 0n));
    }
    used.set(pid, values);
  }
  const sorted = [...at].sort((a, b) => a.getTime() - b.getTime());
  return sorted.map((time, n) => ({
    ...recording,
    clockOffsetNs: offsetPlacing(printfs, time),
    containers: recording.containers.filter((c) => c.podUid === uid),
    cpuStatSamples: recording.cpuStatSamples.filter((s) => concerns(s.cgroupPath, uid)),
    printfs: printfs.map((line) => {
      const before = counted.get(field(line, 'cgroup_id') ?? '');
      return COUNTERS.reduce((text, name) => text.replace(new RegExp(`( ${name}):(\\d+)`), (_m, key: string, value: string) => `${key}:${BigInt(value) + BigInt(n) * (before?.get(name) ?? 0n)}`), line);
    }),
    processStats: stats.map((sample) => {
      const before = used.get(String(sample.stats['pid']));
      const moved = { ...sample.stats };
      for (const name of CPU_TIMES) {
        moved[name] = (BigInt(sample.stats[name] ?? 0) + BigInt(n) * (before?.get(name) ?? 0n)).toString();
      }
      return { ...sample, stats: moved };
    }),
  }));
};

/**
 * When each container of a birth recording's pod (the sandbox too) shows its first event, in ms
 * after the recording's first event (what {@link births} places at its chosen time), earliest first.
 */
export const containerFirstEventsMs = (recording: Recording): number[] => {
  const times = recording.printfs.map((line) => BigInt(field(line, 'time_') ?? '0'));
  const start = times.reduce((a, b) => (b < a ? b : a));
  return recording.containers
    .flatMap((c) => {
      const own = times.filter((_t, i) => (recording.printfs[i] ?? '').includes(c.containerId.slice(0, 32)));
      return own.length === 0 ? [] : [Number(own.reduce((a, b) => (b < a ? b : a)) - start) / 1e6];
    })
    .sort((a, b) => a - b);
};

/** One pod born at a known time: its name and uid as the kernel data has them. */
export interface DayBirth {
  readonly at: Date;
  readonly pod: string;
  readonly podUid: string;
  readonly namespace: string;
}

/** How far apart the cgroup ids and pids of two copies of a birth are (recorded ones are below it; 15 copies stay under the kernel's pid_max of 4194304). */
const COPY_ID_STRIDE = 100_000n;

const hex = (n: number, digits: number): string => n.toString(16).padStart(digits, '0').slice(-digits);

/**
 * The birth recording's pod born again at each of `at`, the n-th as a new pod: uid, pod name
 * (ReplicaSet name kept) and container ids of its own.
 */
export const births = (recording: Recording, at: readonly Date[]): { readonly recordings: Recording[]; readonly births: DayBirth[] } => {
  const pods = [...new Map(recording.containers.map((c) => [c.podUid, c])).values()];
  const [model] = pods;
  if (model === undefined || pods.length !== 1) {
    throw new Error(`the birth recording should hold one pod, it holds ${pods.length}`);
  }
  const uidTail = model.podUid.slice(-12);
  const name = model.pod;
  const stem = name.slice(0, name.lastIndexOf('-') + 1);
  const recordings: Recording[] = [];
  const born: DayBirth[] = [];
  at.forEach((time, n) => {
    const tail = `d${hex(n + 1, 11)}`;
    const podName = `${stem}d${(n + 1).toString(36).padStart(4, '0')}`;
    const rename = (text: string): string => {
      let out = text.replaceAll(uidTail, tail).replaceAll(name, podName);
      for (const c of recording.containers) {
        out = out.replaceAll(c.containerId.slice(0, 12), `${hex(n + 1, 4)}${c.containerId.slice(4, 12)}`);
      }
      return out;
    };
    const renamed = JSON.parse(rename(JSON.stringify({ printfs: recording.printfs, containers: recording.containers }))) as { printfs: string[]; containers: ContainerTruth[] };
    // A node never reuses a cgroup id (kernfs ids only grow) and seldom a pid within minutes: each
    // copy gets its own, or a run that reads two copies at once (a births run reads back before
    // its window) would see one cascade's events attributed to the other.
    const shift = BigInt(n + 1) * COPY_ID_STRIDE;
    const recordedPids = new Set(renamed.printfs.map((line) => field(line, 'pid') ?? ''));
    const printfs = renamed.printfs.map((line) =>
      line
        .replace(/( cgroup_id):(\d+)/, (_m, key: string, id: string) => `${key}:${BigInt(id) + shift}`)
        .replace(/( pid):(\d+)/, (_m, key: string, pid: string) => `${key}:${BigInt(pid) + shift}`)
        .replace(/( value):(\d+)(?= |$)/, (m, key: string, value: string) => (recordedPids.has(value) ? `${key}:${BigInt(value) + shift}` : m)),
    );
    const ids = (list: ContainerTruth['cgroupIds']) => list.map((g) => ({ ...g, id: g.id + Number(shift) }));
    const containers = renamed.containers.map((c) => ({ ...c, pid: c.pid + Number(shift), cgroupIds: ids(c.cgroupIds), podCgroupIds: ids(c.podCgroupIds) }));
    recordings.push({ ...recording, printfs, containers, clockOffsetNs: offsetPlacing(recording.printfs, time) });
    born.push({ at: time, pod: podName, podUid: model.podUid.replace(uidTail, tail), namespace: model.namespace });
  });
  return { recordings, births: born };
};

/** Writes recordings as the local Vizier's `--replay <dir>` reads them. */
export const writeDay = (dir: string, recordings: readonly Recording[]): void => {
  mkdirSync(dir, { recursive: true });
  recordings.forEach((recording, i) => {
    writeFileSync(path.join(dir, `${String(i).padStart(4, '0')}-${recording.script}.json`), `${JSON.stringify(recording)}\n`);
  });
};
