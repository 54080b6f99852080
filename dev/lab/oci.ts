/**
 * OCI runtime configs for lab containers, shaped like the ones a CRI runtime hands runc for a pod:
 * the sandbox owns the pod's network, IPC and UTS namespaces; app containers join them (by
 * /proc/<sandbox pid>/ns/* paths) and get their own pid and mount namespaces. Pure.
 */

export const NAMESPACE_TYPES = ['pid', 'network', 'ipc', 'uts', 'mount', 'cgroup', 'user'] as const;
export type NamespaceType = (typeof NAMESPACE_TYPES)[number];

export interface OciNamespace {
  readonly type: NamespaceType;
  readonly path?: string;
}

export interface OciContainerSpec {
  readonly rootfs: string;
  readonly args: readonly string[];
  readonly hostname: string;
  readonly cgroupsPath: string;
  /** CFS quota in µs per period; undefined for no CPU limit. */
  readonly cpuQuotaUs?: number;
  readonly cpuPeriodUs?: number;
  readonly cpuShares?: number;
  /** Pid of the pod's sandbox whose network, IPC and UTS namespaces this container joins. */
  readonly joinSandboxPid?: number;
}

/** The namespaces of a container: own pid + mount, pod-shared network/ipc/uts (created by the sandbox). */
export const containerNamespaces = (joinSandboxPid: number | undefined): OciNamespace[] => {
  const shared = (['network', 'ipc', 'uts'] as const).map((type): OciNamespace => {
    if (joinSandboxPid === undefined) {
      return { type };
    }
    const file = type === 'network' ? 'net' : type;
    return { type, path: `/proc/${joinSandboxPid}/ns/${file}` };
  });
  return [{ type: 'pid' }, ...shared, { type: 'mount' }];
};

const DEFAULT_CAPS = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

/** A complete config.json for runc. */
export const ociConfig = (spec: OciContainerSpec): Record<string, unknown> => {
  const cpu: Record<string, number> = {};
  if (spec.cpuQuotaUs !== undefined) {
    cpu['quota'] = spec.cpuQuotaUs;
    cpu['period'] = spec.cpuPeriodUs ?? 100_000;
  }
  if (spec.cpuShares !== undefined) {
    cpu['shares'] = spec.cpuShares;
  }
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: [...spec.args],
      env: ['PATH=/bin', 'HOME=/'],
      cwd: '/',
      capabilities: { bounding: DEFAULT_CAPS, effective: DEFAULT_CAPS, permitted: DEFAULT_CAPS, ambient: DEFAULT_CAPS },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: spec.rootfs, readonly: true },
    hostname: spec.hostname,
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777', 'size=16m'] },
    ],
    linux: {
      cgroupsPath: spec.cgroupsPath,
      resources: { devices: [{ allow: false, access: 'rwm' }], ...(Object.keys(cpu).length > 0 ? { cpu } : {}) },
      namespaces: containerNamespaces(spec.joinSandboxPid),
      maskedPaths: ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/sys/firmware'],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
};

/** Linux CLONE_NEW* flags by namespace type. */
export const CLONE_FLAGS: Readonly<Record<NamespaceType, number>> = {
  mount: 0x0002_0000,
  uts: 0x0400_0000,
  ipc: 0x0800_0000,
  user: 0x1000_0000,
  pid: 0x2000_0000,
  network: 0x4000_0000,
  cgroup: 0x0200_0000,
};

/** The namespace types set in a clone/unshare flags word. */
export const namespacesInFlags = (flags: bigint): NamespaceType[] =>
  NAMESPACE_TYPES.filter((type) => (flags & BigInt(CLONE_FLAGS[type])) !== 0n);
