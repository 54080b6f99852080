/**
 * From the `pod_birth` script's result table to `pod.birth` findings (pure).
 *
 * The script attributes every row in the kernel (by cgroup, and by the pids attached to it and
 * their children) and names the pod from Pixie's metadata; each row carries the pod uid and the
 * container key (first 32 hex digits of the container id; empty for the pod's own cgroup). Rows
 * are turned into analysis events on canonical cgroup paths built from those two, so the
 * analysis groups them exactly as the kernel attributed them.
 *
 * @module
 */
import { type BirthCapture, type BirthEvent, birthCertificates, type BirthNames, type ContainerBirth as AnalysisContainer } from '../analysis/index.ts';
import { stableId } from '../findings/codec.ts';
import { FINDING_SCHEMA_VERSION } from '../findings/schema.ts';
import type { BirthFinding, ContainerBirth, KernelSource } from '../findings/types.ts';
import type { CollectedTable } from '../pixie/collect.ts';
import type { BirthScriptName } from '../pxl/scripts.ts';
import { DataType } from '../pixie/types.ts';
import { TableShapeError, typedColumn } from './throttle-table.ts';

/**
 * Event kinds each birth probe captures. `pod_birth` captures every kind the analysis knows but
 * `fork`; the always-on `pod_birth_lite` leaves out the two that need a program on every write or
 * every syscall of the node (cgroup limit writes, the runtime's syscall count).
 */
export const BIRTH_PROBE_CAPTURES = {
  pod_birth: ['cgroup_mkdir', 'cgroup_attach', 'cgroup_write', 'unshare', 'clone', 'setns', 'mount', 'pivot_root', 'exec', 'syscall'],
  pod_birth_lite: ['cgroup_mkdir', 'cgroup_attach', 'unshare', 'clone', 'setns', 'mount', 'pivot_root', 'exec'],
} as const satisfies Record<BirthScriptName, BirthCapture['covered']>;

interface Row {
  readonly timeNs: bigint;
  readonly namespace: string;
  readonly pod: string;
  readonly podUid: string;
  readonly node: string;
  readonly containerKey: string;
  readonly event: string;
  readonly pid: number;
  readonly comm: string;
  readonly hierarchy: string;
  readonly flags: number;
  readonly detail: string;
  readonly value: string;
  /** Absent when the probe does not count syscalls (no such column). */
  readonly syscalls?: number;
}

const rowsOf = (table: CollectedTable): Row[] => {
  const get = (name: string, types: readonly number[]) =>
    typedColumn(table, name, types) as unknown as { get(row: number): bigint | string; number?(row: number): number };
  const INT = [DataType.INT64, DataType.TIME64NS];
  const STR = [DataType.STRING];
  const cols = {
    time: get('time_', [DataType.TIME64NS, DataType.INT64]),
    namespace: get('namespace', STR),
    pod: get('pod', STR),
    podUid: get('pod_uid', STR),
    node: get('node', STR),
    containerKey: get('container_key', STR),
    event: get('event', STR),
    pid: get('pid', INT),
    comm: get('comm', STR),
    hierarchy: get('hierarchy', [...INT, ...STR]),
    flags: get('flags', INT),
    detail: get('detail', STR),
    value: get('value', STR),
    syscalls: table.meta.columns.some((c) => c.name === 'syscalls') ? get('syscalls', INT) : undefined,
  };
  const num = (c: { get(row: number): bigint | string }, row: number): number => Number(c.get(row));
  return Array.from({ length: table.rows }, (_, row) => ({
    timeNs: BigInt(cols.time.get(row)),
    namespace: String(cols.namespace.get(row)),
    pod: String(cols.pod.get(row)),
    podUid: String(cols.podUid.get(row)),
    node: String(cols.node.get(row)),
    containerKey: String(cols.containerKey.get(row)),
    event: String(cols.event.get(row)),
    pid: num(cols.pid, row),
    comm: String(cols.comm.get(row)),
    hierarchy: String(cols.hierarchy.get(row)),
    flags: num(cols.flags, row),
    detail: String(cols.detail.get(row)),
    value: String(cols.value.get(row)),
    ...(cols.syscalls === undefined ? {} : { syscalls: num(cols.syscalls, row) }),
  }));
};

/** The canonical cgroupfs path of a pod (empty key) or container cgroup. */
const pathOf = (podUid: string, containerKey: string): string =>
  containerKey === '' ? `/kubepods/pod${podUid}` : `/kubepods/pod${podUid}/${containerKey}`;

/** Nanoseconds as RFC 3339 with nanosecond precision (Pixie's time_ is wall-clock ns). */
export const isoNs = (ns: bigint): string => {
  const ms = ns / 1_000_000n;
  const rest = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return `${new Date(Number(ms)).toISOString().slice(0, 19)}.${rest}Z`;
};

/** Rows of `probe` to analysis events; a row of an unknown event kind is a contract error. */
export const birthCapture = (rows: readonly Row[], probe: BirthScriptName): BirthCapture => {
  const events: BirthEvent[] = [];
  for (const row of rows) {
    const path = pathOf(row.podUid, row.containerKey);
    const base = { timeNs: Number(row.timeNs), pid: row.pid, comm: row.comm, cgroupPath: path };
    const value = row.value.trim();
    switch (row.event) {
      case 'cgroup_mkdir':
        events.push({ ...base, kind: 'cgroup_mkdir', path, hierarchy: row.hierarchy });
        break;
      case 'cgroup_attach':
        events.push({ ...base, kind: 'cgroup_attach', path, targetPid: row.pid });
        break;
      case 'cgroup_write':
        events.push({ ...base, kind: 'cgroup_write', path, file: row.detail, value });
        break;
      case 'unshare':
        events.push({ ...base, kind: 'unshare', flags: row.flags });
        break;
      case 'clone':
      case 'clone3':
        events.push({ ...base, kind: 'clone', flags: row.flags });
        break;
      case 'setns':
        events.push({ ...base, kind: 'setns', nstype: row.flags });
        break;
      case 'mount':
        events.push({ ...base, kind: 'mount', target: row.detail, flags: row.flags, ...(value === '' ? {} : { fstype: value }) });
        break;
      case 'pivot_root':
        events.push({ ...base, kind: 'pivot_root', newRoot: row.detail });
        break;
      case 'exec':
        // An exec in a born cgroup before the process's pivot_root (runc's own re-exec, hooks).
        events.push({ ...base, kind: 'exec', filename: row.detail });
        break;
      case 'entrypoint_exec':
        if (row.syscalls !== undefined) {
          events.push({ ...base, kind: 'syscall', count: row.syscalls });
        }
        events.push({ ...base, kind: 'exec', filename: row.detail, entrypoint: true });
        break;
      default:
        throw new TableShapeError(`unknown birth event ${row.event.slice(0, 40)}`);
    }
  }
  return { events, covered: BIRTH_PROBE_CAPTURES[probe] };
};

const toContainer = (c: AnalysisContainer): ContainerBirth => {
  const first = BigInt(Math.round(c.firstEventNs));
  const entry = c.entrypoint;
  return {
    name: c.name ?? c.containerId,
    containerId: c.containerId,
    sandbox: c.sandbox,
    firstEventAt: isoNs(first),
    ...(entry === undefined ? {} : { entrypointExecAt: isoNs(BigInt(Math.round(entry.atNs))), entrypoint: entry.filename }),
    ...(c.cgroupToEntrypointMs === undefined ? {} : { timeToEntrypointNs: Math.round(c.cgroupToEntrypointMs * 1e6) }),
    cgroupsCreated: (c.cgroupsCreated ?? []).map((g) => g.path),
    limitWrites: (c.limitsWritten ?? []).map((w) => ({ file: w.file, value: w.value })),
    namespacesCreated: [...new Set((c.namespacesCreated ?? []).map((n) => n.namespace))],
    namespacesJoined: [...new Set((c.namespacesJoined ?? []).map((n) => n.namespace))],
    mounts: (c.mounts ?? []).map((m) => ({ source: m.source ?? '', target: m.target, fstype: m.fstype ?? '' })),
    ...(c.pivotRoots?.[0]?.newRoot === undefined ? {} : { pivotRoot: c.pivotRoots[0].newRoot }),
    execs: (c.execs ?? []).map((e) => e.filename),
    ...(c.runtimeSyscalls === undefined ? {} : { runtimeSyscalls: c.runtimeSyscalls.total }),
    syscalls: Object.entries(c.runtimeSyscalls?.byName ?? {}).map(([name, count]) => ({ name, count })),
    steps: c.timeline.map((step) => ({ offsetNs: Math.round(step.sinceFirstMs * 1e6), kind: step.kind, detail: step.summary, pid: step.pid })),
  };
};

export interface BirthFindingContext {
  /** The script whose table this is: what it captures decides what "none seen" means. */
  readonly probe: BirthScriptName;
  readonly cluster: string;
  readonly source: KernelSource;
  readonly producedAt: Date;
  readonly window: { readonly start: Date; readonly end: Date };
}

/**
 * How far before its window a births run reads. A container belongs to the window of its first
 * kernel event (its cgroup's mkdir), so each container birth is certified by exactly one run; the
 * run must see the first event of a cascade that began just before its window to know that the
 * cascade's later events are not a new birth. Two minutes is far more than a container's cascade
 * (cgroup mkdir to entrypoint exec: 0.2 s in the lab, seconds on a busy node); a window shorter
 * than that looks back one window.
 */
export const BIRTH_LOOKBACK_MAX_MS = 120_000;

/** The window a births run asks Pixie for: its own, extended back by the lookback. */
export const birthQueryWindow = (window: { readonly start: Date; readonly end: Date }): { start: Date; end: Date } => {
  const length = window.end.getTime() - window.start.getTime();
  return { start: new Date(window.start.getTime() - Math.min(length, BIRTH_LOOKBACK_MAX_MS)), end: window.end };
};

/**
 * One `pod.birth` finding per pod with a container (or sandbox) born in the window: the table may
 * reach back before the window (birthQueryWindow); a container whose first event lies before the
 * window was certified by the previous run and is left out. A cascade that crosses the window's
 * end is certified with the events up to the end (the next run leaves it out).
 */
export const birthFindings = (table: CollectedTable, context: BirthFindingContext): BirthFinding[] => {
  const rows = rowsOf(table);
  const identities = new Map<string, { namespace: string; pod: string; node: string }>();
  for (const row of rows) {
    if (row.podUid !== '' && !identities.has(row.podUid)) {
      const pod = row.pod.startsWith(`${row.namespace}/`) ? row.pod.slice(row.namespace.length + 1) : row.pod;
      identities.set(row.podUid, { namespace: row.namespace, pod, node: row.node });
    }
  }
  const names: BirthNames = { pods: Object.fromEntries([...identities].map(([uid, id]) => [uid, { namespace: id.namespace, name: id.pod }])) };
  const observedWindow = {
    start: context.window.start.toISOString(),
    end: context.window.end.toISOString(),
    seconds: (context.window.end.getTime() - context.window.start.getTime()) / 1000,
  };
  const capture = birthCapture(rows, context.probe);
  // As numbers, like the analysis's event times: both runs beside a boundary compare against the
  // same rounded value, so a container lands in exactly one of them.
  const windowStartNs = context.window.start.getTime() * 1e6;
  const windowEndNs = context.window.end.getTime() * 1e6;
  return birthCertificates(capture, names)
    .flatMap((certificate): BirthFinding[] => {
      const identity = identities.get(certificate.podUid);
      const namespace = identity?.namespace ?? certificate.namespace ?? '';
      const pod = identity?.pod ?? certificate.pod ?? certificate.podUid;
      const containers = [...(certificate.sandbox === undefined ? [] : [certificate.sandbox]), ...certificate.containers]
        .filter((c) => c.firstEventNs >= windowStartNs && c.firstEventNs < windowEndNs)
        .map(toContainer);
      if (containers.length === 0) {
        return [];
      }
      const slowest = Math.max(...containers.map((c) => c.timeToEntrypointNs ?? 0));
      // The sandbox (pause) is not one of the pod's containers to the people reading this.
      const sandboxBorn = containers.some((c) => c.sandbox);
      const apps = containers.filter((c) => !c.sandbox).length;
      const born = [...(apps > 0 ? [`${apps} container${apps === 1 ? '' : 's'}`] : []), ...(sandboxBorn ? [apps > 0 ? 'its sandbox' : 'the sandbox'] : [])].join(' and ');
      return [{
        schemaVersion: FINDING_SCHEMA_VERSION,
        kind: 'pod.birth',
        id: stableId('pod.birth', { cluster: context.cluster, namespace, podUid: certificate.podUid, containers: containers.map((c) => [c.containerId, c.firstEventAt]) }),
        cluster: context.cluster,
        namespace,
        workload: { kind: 'Pod', name: pod, container: '' },
        observedWindow,
        severity: 'info',
        source: context.source,
        producedAt: context.producedAt.toISOString(),
        summary: `${namespace}/${pod} born: ${born}${slowest > 0 ? `, slowest entrypoint after ${(slowest / 1e6).toFixed(1)} ms` : ''}`,
        birth: { pod, podUid: certificate.podUid, node: identity?.node ?? '', captured: capture.covered, containers },
      }];
    })
    .sort((a, b) => a.id.localeCompare(b.id));
};
