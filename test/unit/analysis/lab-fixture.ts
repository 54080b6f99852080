/**
 * Turns a kernel-lab recording (test/fixtures/lab/*.json, real bpftrace output from a real kernel)
 * into the analysis inputs. Rows are attributed to containers by `(hierarchy, cgroup id)`, the way
 * production attributes them through Pixie's metadata; the recording's container list plays that
 * metadata. This is a test-side stand-in for the mapping layer that will live in shared/pxl.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { recordingRows } from '../../../dev/lab/compare.ts';
import type { ContainerTruth, Recording } from '../../../dev/lab/scenarios.ts';
import { birthEventName } from '../../../shared/pxl/birth-events.ts';
import type { BirthCapture, BirthEvent, BirthNames, CfsSample, ContainerCounters } from '../../../shared/analysis/index.ts';
import { oneCgroupSamples } from '../../../shared/analysis/index.ts';

export const loadRecording = async (name: string): Promise<Recording> =>
  JSON.parse(await readFile(path.resolve(import.meta.dirname, '../../fixtures/lab', `${name}.json`), 'utf8')) as Recording;

const str = (v: bigint | string | undefined): string => (v === undefined ? '' : String(v));
const num = (v: bigint | string | undefined): number => Number(v ?? Number.NaN);

const lookup = (recording: Recording) => {
  const containers = new Map<string, ContainerTruth>();
  const pods = new Map<string, ContainerTruth>();
  for (const c of recording.containers) {
    for (const id of c.cgroupIds) {
      containers.set(`${id.hierarchy}:${id.id}`, c);
    }
    for (const id of c.podCgroupIds) {
      pods.set(`${id.hierarchy}:${id.id}`, c);
    }
  }
  return { containers, pods };
};

/** The pod cgroup path: the container's cgroup path minus its last component. */
const podPath = (c: ContainerTruth): string => c.cgroupPath.slice(0, c.cgroupPath.lastIndexOf('/'));

/** The birth events of a pod_birth recording, on the probe's monotonic clock. */
export const birthCapture = (recording: Recording): BirthCapture => {
  const { containers, pods } = lookup(recording);
  const offset = BigInt(recording.clockOffsetNs);
  const events: BirthEvent[] = [];
  for (const row of recordingRows(recording)) {
    const key = `${str(row['hierarchy'])}:${str(row['cgroup_id'])}`;
    const container = containers.get(key);
    const podOnly = container === undefined ? pods.get(key) : undefined;
    // Only the pod's own cgroup counts as pod-level; its kubepods parents are not the pod's.
    // mkdir/attach rows carry the path in `detail`; write rows carry the directory name (truncated) in `cgroup`.
    const ownName = podOnly === undefined ? '' : podPath(podOnly).slice(podPath(podOnly).lastIndexOf('/') + 1);
    const isPodItself =
      podOnly !== undefined &&
      (str(row['detail']).startsWith(podPath(podOnly)) || (str(row['cgroup']) !== '' && ownName.startsWith(str(row['cgroup']))));
    const podCgroup = isPodItself ? podPath(podOnly) : undefined;
    const target = container?.cgroupPath ?? podCgroup;
    const base = {
      timeNs: Number((row['time_'] as bigint) - offset),
      pid: num(row['pid']),
      comm: str(row['comm']),
      ...(container === undefined ? {} : { cgroupPath: container.cgroupPath }),
    };
    const flags = num(row['flags']);
    const detail = str(row['detail']);
    const value = str(row['value']).trim();
    switch (birthEventName(row['event_code'] as bigint)) {
      case 'cgroup_mkdir':
        if (target !== undefined) {
          events.push({ ...base, kind: 'cgroup_mkdir', path: target, hierarchy: str(row['hierarchy']) });
        }
        break;
      case 'cgroup_attach':
        if (target !== undefined) {
          events.push({ ...base, kind: 'cgroup_attach', path: target, targetPid: base.pid });
        }
        break;
      case 'cgroup_write':
        if (target !== undefined) {
          events.push({ ...base, kind: 'cgroup_write', path: target, file: detail, value });
        }
        break;
      case 'unshare':
        events.push({ ...base, kind: 'unshare', flags });
        break;
      case 'clone':
      case 'clone3':
        events.push({ ...base, kind: 'clone', flags });
        break;
      case 'setns':
        events.push({ ...base, kind: 'setns', nstype: flags });
        break;
      case 'mount':
        events.push({ ...base, kind: 'mount', target: detail, flags, ...(value === '' ? {} : { fstype: value }) });
        break;
      case 'pivot_root':
        events.push({ ...base, kind: 'pivot_root', newRoot: detail });
        break;
      case 'exec':
        // An exec before the container's pivot_root (the runtime's own, e.g. runc init re-exec).
        events.push({ ...base, kind: 'exec', filename: detail });
        break;
      case 'entrypoint_exec':
        events.push({ ...base, kind: 'syscall', count: num(row['syscalls']) });
        events.push({ ...base, kind: 'exec', filename: detail, entrypoint: true });
        break;
      default:
        throw new Error(`unknown birth event code ${str(row['event_code'])}`);
    }
  }
  return {
    events,
    covered: ['cgroup_mkdir', 'cgroup_attach', 'cgroup_write', 'unshare', 'clone', 'setns', 'mount', 'pivot_root', 'exec', 'syscall'],
  };
};

/** Names as Pixie's metadata would give them. */
export const birthNames = (recording: Recording): BirthNames => ({
  pods: Object.fromEntries(recording.containers.map((c) => [c.podUid, { namespace: c.namespace, name: c.pod }])),
  containers: Object.fromEntries(recording.containers.map((c) => [c.containerId, { name: c.container, sandbox: c.sandbox }])),
});

/** Per app container of a cpu_throttle recording: its counters from the probe's rows. */
export const throttleCounters = (recording: Recording): Map<string, ContainerCounters> => {
  const { containers } = lookup(recording);
  const byContainer = new Map<ContainerTruth, { samples: CfsSample[]; quotaNs: number; periodNs: number; burstNs: number }>();
  for (const row of recordingRows(recording)) {
    // The throttle program prints the cgroup id of the cpu hierarchy.
    const container = [...containers.entries()].find(([key]) => key.endsWith(`:${str(row['cgroup_id'])}`))?.[1];
    if (container === undefined) {
      continue;
    }
    const entry = byContainer.get(container) ?? { samples: [], quotaNs: num(row['quota_ns']), periodNs: num(row['period_ns']), burstNs: num(row['burst_ns']) };
    entry.samples.push({
      atMs: Number((row['time_'] as bigint) / 1_000_000n),
      nrPeriods: num(row['nr_periods']),
      nrThrottled: num(row['nr_throttled']),
      throttledTimeNs: num(row['throttled_time_ns']),
      nrBursts: num(row['nr_bursts']),
      burstTimeNs: num(row['burst_time_ns']),
    });
    byContainer.set(container, entry);
  }
  const out = new Map<string, ContainerCounters>();
  for (const [c, e] of byContainer) {
    // process_stats CPU time as Pixie reports it: per process (pid + start time), the CPU rate between
    // its first and last sample, scaled to the counter window (the samples cover a shorter span).
    const perProcess = new Map<string, { atNs: number; cpuNs: number }[]>();
    for (const sample of recording.processStats.filter((p) => p.cgroupPath === c.cgroupPath)) {
      const key = `${String(sample.stats['pid'])}:${String(sample.stats['startTimeTicks'])}`;
      const cpuNs = Number(sample.stats['cpuUtimeNs'] ?? 0) + Number(sample.stats['cpuKtimeNs'] ?? 0);
      perProcess.set(key, [...(perProcess.get(key) ?? []), { atNs: Number(sample.monoNs), cpuNs }]);
    }
    const rates = [...perProcess.values()].flatMap((v) => {
      const a = v[0];
      const b = v.at(-1);
      return a !== undefined && b !== undefined && b.atNs > a.atNs ? [(b.cpuNs - a.cpuNs) / (b.atNs - a.atNs)] : [];
    });
    const first = e.samples[0];
    const last = e.samples.at(-1);
    if (first === undefined || last === undefined) {
      continue;
    }
    const cpuUsedNs = rates.length === 0 ? undefined : rates.reduce((sum, r) => sum + r, 0) * (last.atMs - first.atMs) * 1e6;
    out.set(c.container, {
      identity: { namespace: c.namespace, pod: c.pod, container: c.container, containerId: c.containerId, podUid: c.podUid },
      window: { startMs: first.atMs, endMs: last.atMs },
      samples: oneCgroupSamples(e.samples),
      bandwidth: { quotaNs: e.quotaNs, periodNs: e.periodNs, burstNs: e.burstNs },
      ...(cpuUsedNs === undefined ? {} : { cpuUsedNs }),
    });
  }
  return out;
};
