/**
 * Pod birth certificates: the kernel cascade that brought each container of a pod to life, assembled
 * from birth events (cgroup creation and attachment, limit files written, namespaces, mounts,
 * pivot_root, execs, runtime syscalls) as a probe reports them.
 *
 * Attribution never uses a time window: an event belongs to a container when it concerns the
 * container's cgroup (by path) or when its pid was attached to that cgroup, or descends from such a
 * pid (fork events, in time order). A field whose event kind the probe did not capture is absent,
 * never empty or zero; a captured kind with no events is an empty list.
 *
 * @module
 */

import { parseKubeCgroup, type KubeCgroup, type QosClass } from './cgroup-path.ts';
import { namespacesFromFlags, type NamespaceName } from './namespaces.ts';

interface EventBase {
  /** Probe clock (ns, e.g. bpftrace `nsecs`, monotonic); only differences matter. */
  readonly timeNs: number;
  /** Thread-group id of the task that caused the event. */
  readonly pid: number;
  readonly comm?: string;
  /** The task's cgroup path when the event fired, when the probe reports it. */
  readonly cgroupPath?: string;
}

/** One event of a container's birth. `kind` says which fields follow. */
export type BirthEvent = EventBase &
  (
    | { readonly kind: 'cgroup_mkdir'; readonly path: string; readonly hierarchy?: string }
    | { readonly kind: 'cgroup_attach'; readonly path: string; readonly targetPid: number }
    | { readonly kind: 'cgroup_write'; readonly path: string; readonly file: string; readonly value: string }
    | { readonly kind: 'fork'; readonly childPid: number }
    | { readonly kind: 'unshare'; readonly flags: number }
    | { readonly kind: 'clone'; readonly flags: number }
    | { readonly kind: 'setns'; readonly nstype: number }
    | { readonly kind: 'mount'; readonly target: string; readonly source?: string; readonly fstype?: string; readonly flags?: number }
    | { readonly kind: 'pivot_root'; readonly newRoot?: string; readonly putOld?: string }
    | {
        readonly kind: 'exec';
        readonly filename: string;
        readonly argv?: readonly string[];
        /** Set when the probe itself identified this exec as the container's entrypoint. */
        readonly entrypoint?: boolean;
      }
    | {
        readonly kind: 'syscall';
        /** Absent when the probe only counts syscalls without naming them. */
        readonly name?: string;
        readonly count?: number;
      }
  );

export type BirthEventKind = BirthEvent['kind'];

/** What a probe run delivered: its events and which kinds it captured at all. */
export interface BirthCapture {
  readonly events: readonly BirthEvent[];
  readonly covered: readonly BirthEventKind[];
}

/** Names the caller knows (from Pixie metadata or the lab that made the containers). */
export interface BirthNames {
  readonly pods?: Readonly<Record<string, { readonly namespace?: string; readonly name: string }>>;
  readonly containers?: Readonly<Record<string, { readonly name: string; readonly sandbox?: boolean }>>;
}

/** One step of a container's timeline. */
export interface TimelineStep {
  readonly kind: BirthEventKind;
  readonly atNs: number;
  /** (atNs - first step's atNs) / 1e6. */
  readonly sinceFirstMs: number;
  /** (atNs - previous step's atNs) / 1e6; 0 for the first step. */
  readonly sincePreviousMs: number;
  readonly pid: number;
  readonly comm?: string;
  readonly summary: string;
}

export interface CgroupCreated {
  readonly path: string;
  readonly hierarchy?: string;
  readonly atNs: number;
}
export interface LimitWritten {
  readonly path: string;
  readonly file: string;
  readonly value: string;
  readonly atNs: number;
}
export interface NamespaceCreated {
  readonly namespace: NamespaceName;
  readonly via: 'unshare' | 'clone';
  readonly pid: number;
  readonly atNs: number;
}
export interface NamespaceJoined {
  /** `any` when setns was called with nstype 0 (the kind comes from the fd, which the probe did not see). */
  readonly namespace: NamespaceName | 'any';
  readonly pid: number;
  readonly atNs: number;
}
export interface MountSeen {
  readonly target: string;
  readonly source?: string;
  readonly fstype?: string;
  readonly pid: number;
  readonly atNs: number;
}
export interface PivotRootSeen {
  readonly newRoot?: string;
  readonly pid: number;
  readonly atNs: number;
}
export interface ExecSeen {
  readonly filename: string;
  readonly argv?: readonly string[];
  readonly pid: number;
  readonly atNs: number;
}

/** The birth of one container. Optional fields are absent when their events were not captured. */
export interface ContainerBirth {
  readonly containerId: string;
  readonly name?: string;
  /** The pod sandbox (pause) container. */
  readonly sandbox: boolean;
  readonly firstEventNs: number;
  readonly timeline: readonly TimelineStep[];
  /** First cgroup created for the container to the exec of its entrypoint (ms); absent if either is missing. */
  readonly cgroupToEntrypointMs?: number;
  readonly entrypoint?: ExecSeen;
  readonly cgroupsCreated?: readonly CgroupCreated[];
  readonly limitsWritten?: readonly LimitWritten[];
  readonly namespacesCreated?: readonly NamespaceCreated[];
  readonly namespacesJoined?: readonly NamespaceJoined[];
  readonly mounts?: readonly MountSeen[];
  readonly pivotRoots?: readonly PivotRootSeen[];
  readonly execs?: readonly ExecSeen[];
  /**
   * Syscalls made on the container's behalf before its entrypoint ran: the total, and the counts by
   * name when every counted event was named.
   */
  readonly runtimeSyscalls?: { readonly total: number; readonly byName?: Readonly<Record<string, number>> };
}

/** The birth of one pod: its cgroup, its sandbox and its containers in birth order. */
export interface PodBirthCertificate {
  readonly podUid: string;
  readonly namespace?: string;
  readonly pod?: string;
  readonly qos: QosClass;
  /** The pod-level cgroups created (one per v1 hierarchy); absent if cgroup_mkdir was not captured. */
  readonly podCgroupsCreated?: readonly CgroupCreated[];
  /** Limit files written on the pod-level cgroup (the pod's own CPU limit, ...); absent if cgroup_write was not captured. */
  readonly podLimitsWritten?: readonly LimitWritten[];
  readonly sandbox?: ContainerBirth;
  readonly containers: readonly ContainerBirth[];
  /** First event of the pod to the last container's entrypoint exec (ms), when both were seen. */
  readonly firstEventToLastEntrypointMs?: number;
}

/** Files of resource controllers that set a limit or weight (not `cgroup.procs`, not device rules). */
const LIMIT_FILE = /^(cpu|cpuset|memory|pids|io|blkio|hugetlb|rdma|misc)\./;

/** Executables that belong to the container runtime rather than to the workload. */
const RUNTIME_BINARIES = /^(runc|crun|runsc|conmon|containerd-shim.*|exe|runc:\[.*\])$/;
const basename = (path: string): string => path.slice(path.lastIndexOf('/') + 1);

const durationMs = (fromNs: number, toNs: number): number => (toNs - fromNs) / 1e6;

const summarize = (e: BirthEvent): string => {
  switch (e.kind) {
    case 'cgroup_mkdir':
      return `mkdir cgroup ${e.path}${e.hierarchy === undefined ? '' : ` (hierarchy ${e.hierarchy})`}`;
    case 'cgroup_attach':
      return `attach pid ${e.targetPid} to ${e.path}`;
    case 'cgroup_write':
      return `write ${e.file} = ${e.value}`;
    case 'fork':
      return `fork child ${e.childPid}`;
    case 'unshare':
      return `unshare ${namespacesFromFlags(e.flags).join(',') || 'no namespaces'}`;
    case 'clone':
      return `clone${namespacesFromFlags(e.flags).length > 0 ? ` new ${namespacesFromFlags(e.flags).join(',')}` : ''}`;
    case 'setns':
      return `setns ${namespacesFromFlags(e.nstype).join(',') || 'any'}`;
    case 'mount':
      return `mount ${e.source ?? '?'} on ${e.target}${e.fstype === undefined ? '' : ` type ${e.fstype}`}`;
    case 'pivot_root':
      return `pivot_root${e.newRoot === undefined ? '' : ` ${e.newRoot}`}`;
    case 'exec':
      return `exec ${e.filename}`;
    case 'syscall':
      return `syscall ${e.name ?? '(any)'}${e.count === undefined ? '' : ` x${e.count}`}`;
  }
};

/** The cgroup an event concerns by itself (its path argument), if it is a kubelet cgroup. */
const targetCgroup = (e: BirthEvent): KubeCgroup | null =>
  e.kind === 'cgroup_mkdir' || e.kind === 'cgroup_attach' || e.kind === 'cgroup_write' ? parseKubeCgroup(e.path) : null;

interface PodAcc {
  readonly podUid: string;
  readonly qos: QosClass;
  readonly podCgroups: CgroupCreated[];
  readonly podLimits: LimitWritten[];
  firstNs: number;
  readonly containers: Map<string, { readonly id: string; readonly events: BirthEvent[] }>;
}

/** Thrown for events that cannot be ordered (non-finite times or pids). */
export class BirthEventsError extends Error {
  override readonly name = 'BirthEventsError';
}

/**
 * Assembles one certificate per pod seen in the capture. Events unrelated to any kubelet pod
 * cgroup (the rest of the machine) are ignored.
 */
export const birthCertificates = (capture: BirthCapture, names: BirthNames = {}): PodBirthCertificate[] => {
  capture.events.forEach((e, i) => {
    if (!Number.isFinite(e.timeNs) || !Number.isInteger(e.pid)) {
      throw new BirthEventsError(`event ${i} (${e.kind}) has a non-finite time or a non-integer pid`);
    }
  });
  const covered = new Set(capture.covered);
  // Stable sort by time: the input order breaks ties.
  const events = capture.events.map((e, i) => ({ e, i })).sort((a, b) => a.e.timeNs - b.e.timeNs || a.i - b.i).map(({ e }) => e);
  const pods = new Map<string, PodAcc>();
  const pidOwner = new Map<number, { pod: string; container: string }>();

  const podOf = (c: KubeCgroup, atNs: number): PodAcc => {
    let pod = pods.get(c.podUid);
    if (pod === undefined) {
      pod = { podUid: c.podUid, qos: c.qos, podCgroups: [], podLimits: [], firstNs: atNs, containers: new Map() };
      pods.set(c.podUid, pod);
    }
    return pod;
  };
  const record = (c: KubeCgroup & { containerId: string }, e: BirthEvent): void => {
    const pod = podOf(c, e.timeNs);
    let container = pod.containers.get(c.containerId);
    if (container === undefined) {
      container = { id: c.containerId, events: [] };
      pod.containers.set(c.containerId, container);
    }
    container.events.push(e);
  };

  for (const e of events) {
    const target = targetCgroup(e);
    if (target !== null && target.containerId === undefined) {
      const pod = podOf(target, e.timeNs);
      if (e.kind === 'cgroup_mkdir') {
        pod.podCgroups.push({ path: e.path, atNs: e.timeNs, ...(e.hierarchy === undefined ? {} : { hierarchy: e.hierarchy }) });
      } else if (e.kind === 'cgroup_write' && LIMIT_FILE.test(e.file)) {
        pod.podLimits.push({ path: e.path, file: e.file, value: e.value, atNs: e.timeNs });
      }
      continue;
    }
    let owner: KubeCgroup | null = target;
    if (owner === null && e.cgroupPath !== undefined) {
      const own = parseKubeCgroup(e.cgroupPath);
      owner = own?.containerId === undefined ? null : own;
    }
    if (owner === null) {
      const byPid = pidOwner.get(e.pid);
      if (byPid !== undefined) {
        owner = { podUid: byPid.pod, qos: pods.get(byPid.pod)?.qos ?? 'guaranteed', containerId: byPid.container };
      }
    }
    if (owner?.containerId === undefined) {
      continue;
    }
    const ownerWithId = { ...owner, containerId: owner.containerId };
    record(ownerWithId, e);
    if (e.kind === 'cgroup_attach' && target?.containerId !== undefined) {
      pidOwner.set(e.targetPid, { pod: target.podUid, container: target.containerId });
    }
    if (e.kind === 'fork') {
      pidOwner.set(e.childPid, { pod: ownerWithId.podUid, container: ownerWithId.containerId });
    }
  }

  return [...pods.values()]
    .sort((a, b) => a.firstNs - b.firstNs)
    .map((pod) => {
      const births = [...pod.containers.values()].map((c) => containerBirth(c.id, c.events, covered, names));
      births.sort((a, b) => a.firstEventNs - b.firstEventNs);
      const sandbox = births.find((b) => b.sandbox);
      const containers = births.filter((b) => !b.sandbox);
      const podName = names.pods?.[pod.podUid];
      const firstNs = Math.min(pod.firstNs, ...births.map((b) => b.firstEventNs));
      const entrypoints = births.flatMap((b) => (b.entrypoint === undefined ? [] : [b.entrypoint.atNs]));
      const lastEntry = entrypoints.length > 0 && entrypoints.length === births.length ? Math.max(...entrypoints) : undefined;
      return {
        podUid: pod.podUid,
        ...(podName?.namespace === undefined ? {} : { namespace: podName.namespace }),
        ...(podName === undefined ? {} : { pod: podName.name }),
        qos: pod.qos,
        ...(covered.has('cgroup_mkdir') ? { podCgroupsCreated: pod.podCgroups } : {}),
        ...(covered.has('cgroup_write') ? { podLimitsWritten: pod.podLimits } : {}),
        ...(sandbox === undefined ? {} : { sandbox }),
        containers,
        ...(lastEntry === undefined ? {} : { firstEventToLastEntrypointMs: durationMs(firstNs, lastEntry) }),
      };
    });
};

const onlyIf = <K extends string, T>(covered: boolean, key: K, value: T): { [P in K]?: T } =>
  (covered ? { [key]: value } : {}) as { [P in K]?: T };

const containerBirth = (
  id: string,
  events: readonly BirthEvent[],
  covered: ReadonlySet<BirthEventKind>,
  names: BirthNames,
): ContainerBirth => {
  const firstNs = events[0]?.timeNs ?? 0;
  const timeline: TimelineStep[] = events.map((e, i) => ({
    kind: e.kind,
    atNs: e.timeNs,
    sinceFirstMs: durationMs(firstNs, e.timeNs),
    sincePreviousMs: durationMs(events[i - 1]?.timeNs ?? e.timeNs, e.timeNs),
    pid: e.pid,
    ...(e.comm === undefined ? {} : { comm: e.comm }),
    summary: summarize(e),
  }));
  const execs: ExecSeen[] = [];
  const mounts: MountSeen[] = [];
  const pivotRoots: PivotRootSeen[] = [];
  const cgroupsCreated: CgroupCreated[] = [];
  const limitsWritten: LimitWritten[] = [];
  const namespacesCreated: NamespaceCreated[] = [];
  const namespacesJoined: NamespaceJoined[] = [];
  for (const e of events) {
    switch (e.kind) {
      case 'exec':
        execs.push({ filename: e.filename, pid: e.pid, atNs: e.timeNs, ...(e.argv === undefined ? {} : { argv: e.argv }) });
        break;
      case 'mount':
        mounts.push({
          target: e.target,
          pid: e.pid,
          atNs: e.timeNs,
          ...(e.source === undefined ? {} : { source: e.source }),
          ...(e.fstype === undefined ? {} : { fstype: e.fstype }),
        });
        break;
      case 'pivot_root':
        pivotRoots.push({ pid: e.pid, atNs: e.timeNs, ...(e.newRoot === undefined ? {} : { newRoot: e.newRoot }) });
        break;
      case 'cgroup_mkdir':
        cgroupsCreated.push({ path: e.path, atNs: e.timeNs, ...(e.hierarchy === undefined ? {} : { hierarchy: e.hierarchy }) });
        break;
      case 'cgroup_write':
        if (LIMIT_FILE.test(e.file)) {
          limitsWritten.push({ path: e.path, file: e.file, value: e.value, atNs: e.timeNs });
        }
        break;
      case 'unshare':
      case 'clone':
        for (const namespace of namespacesFromFlags(e.flags)) {
          namespacesCreated.push({ namespace, via: e.kind, pid: e.pid, atNs: e.timeNs });
        }
        break;
      case 'setns': {
        const kinds = namespacesFromFlags(e.nstype);
        for (const namespace of kinds.length > 0 ? kinds : (['any'] as const)) {
          namespacesJoined.push({ namespace, pid: e.pid, atNs: e.timeNs });
        }
        break;
      }
      case 'cgroup_attach':
      case 'fork':
      case 'syscall':
        break;
    }
  }
  // The entrypoint is the exec the probe flagged as such; else the first exec after the last
  // pivot_root (the container's own root); else the first exec of something not the runtime.
  const lastPivot = pivotRoots.at(-1)?.atNs;
  const flagged = events.find((e) => e.kind === 'exec' && e.entrypoint === true);
  const entrypoint =
    flagged !== undefined
      ? execs.find((x) => x.atNs === flagged.timeNs && x.pid === flagged.pid)
      : lastPivot !== undefined
        ? execs.find((x) => x.atNs >= lastPivot)
        : execs.find((x) => !RUNTIME_BINARIES.test(basename(x.filename)));
  const firstCgroup = cgroupsCreated[0];
  const known = names.containers?.[id];
  const sandbox = known?.sandbox ?? (entrypoint !== undefined && basename(entrypoint.filename) === 'pause');
  let runtimeSyscalls: ContainerBirth['runtimeSyscalls'];
  if (covered.has('syscall')) {
    const byName: Record<string, number> = {};
    let total = 0;
    let allNamed = true;
    for (const e of events) {
      if (e.kind === 'syscall' && (entrypoint === undefined || e.timeNs <= entrypoint.atNs)) {
        const n = e.count ?? 1;
        if (e.name === undefined) {
          allNamed = false;
        } else {
          byName[e.name] = (byName[e.name] ?? 0) + n;
        }
        total += n;
      }
    }
    runtimeSyscalls = allNamed ? { total, byName } : { total };
  }
  return {
    containerId: id,
    ...(known === undefined ? {} : { name: known.name }),
    sandbox,
    firstEventNs: firstNs,
    timeline,
    ...(entrypoint === undefined ? {} : { entrypoint }),
    ...(entrypoint !== undefined && firstCgroup !== undefined ? { cgroupToEntrypointMs: durationMs(firstCgroup.atNs, entrypoint.atNs) } : {}),
    ...onlyIf(covered.has('cgroup_mkdir'), 'cgroupsCreated', cgroupsCreated),
    ...onlyIf(covered.has('cgroup_write'), 'limitsWritten', limitsWritten),
    ...onlyIf(covered.has('unshare') || covered.has('clone'), 'namespacesCreated', namespacesCreated),
    ...onlyIf(covered.has('setns'), 'namespacesJoined', namespacesJoined),
    ...onlyIf(covered.has('mount'), 'mounts', mounts),
    ...onlyIf(covered.has('pivot_root'), 'pivotRoots', pivotRoots),
    ...onlyIf(covered.has('exec'), 'execs', execs),
    ...(runtimeSyscalls === undefined ? {} : { runtimeSyscalls }),
  };
};
