/**
 * Container and pod identity from cgroup names, for both layouts a kubelet makes:
 * - v1 / cgroupfs driver: `/kubepods[/<qos>]/pod<uid>/<container-id>` (CRI-O: `crio-<container-id>`)
 * - v2 / systemd driver: `/kubepods.slice[/kubepods-<qos>.slice]/kubepods[-<qos>]-pod<uid_with_underscores>.slice/<runtime>-<container-id>.scope`
 *   with `<runtime>` one of `cri-containerd`, `crio`, `docker`.
 * The kubepods root may sit below another cgroup (a kubelet in a container: `/docker/<id>/kubepods`,
 * kind's `/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-<qos>.slice/...`, where systemd
 * prefixes every nested slice name with its parents').
 *
 * The probes print kernfs names cut at bpftrace's 64-byte strings, so a container is keyed by the
 * first {@link CONTAINER_KEY_LENGTH} hex digits of its id (the same rule the PxL scripts use); a pod
 * uid always fits whole. Pure: no I/O.
 *
 * @module
 */

/** Hex digits of a container id used as its key (128 bits): a prefix every probe string holds whole. */
export const CONTAINER_KEY_LENGTH = 32;

export const CGROUP_LAYOUTS = ['cgroupfs', 'systemd'] as const;
export type CgroupLayout = (typeof CGROUP_LAYOUTS)[number];

export const QOS_CLASSES = ['guaranteed', 'burstable', 'besteffort'] as const;
export type QosClass = (typeof QOS_CLASSES)[number];

/** Container runtimes, spelled as the scheme of a pod's `status.containerStatuses[].containerID`. */
export const CONTAINER_RUNTIMES = ['containerd', 'cri-o', 'docker'] as const;
export type ContainerRuntime = (typeof CONTAINER_RUNTIMES)[number];

export interface PodCgroup {
  readonly layout: CgroupLayout;
  readonly qos: QosClass;
  readonly podUid: string;
}

export interface ContainerCgroup extends PodCgroup {
  /** The container id as the cgroup name holds it (without runtime prefix or `.scope`). */
  readonly containerId: string;
  readonly containerKey: string;
  /** The runtime, when the cgroup name says it (a bare v1 id does not: containerd and Docker both use them). */
  readonly runtime?: ContainerRuntime;
}

const UID = '[0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12}';
const POD_V1 = new RegExp(`^pod(${UID})$`);
// systemd prefixes a nested slice with its parents' names (`kubelet-kubepods-...` under kind's
// kubelet.slice); `.slice` may be cut short by the probe's 63-byte strings.
const POD_SYSTEMD = new RegExp(`^(?:[a-z0-9_]+-)*kubepods(?:-(burstable|besteffort))?-pod(${UID})(?:\\.(?:s(?:l(?:i(?:c(?:e)?)?)?)?)?)?$`);
// The prefix each runtime gives a container's cgroup (CRI-O also without `.scope` under cgroupfs).
const RUNTIME_PREFIX: Readonly<Record<string, ContainerRuntime>> = { 'cri-containerd': 'containerd', crio: 'cri-o', docker: 'docker' };
const CONTAINER_PREFIXED = /^(cri-containerd|crio|docker)-([0-9a-f]+)(?:\.[a-z]*)?$/;
const CONTAINER_BARE = /^([0-9a-f]+)$/;
const QOS_V1 = /^(burstable|besteffort)$/;
const QOS_SYSTEMD = /^(?:[a-z0-9_]+-)*kubepods-(burstable|besteffort)\.slice$/;

/** The key of a container id: its first {@link CONTAINER_KEY_LENGTH} hex digits. */
export const containerKeyOf = (containerId: string): string => containerId.slice(0, CONTAINER_KEY_LENGTH);

/** Identity of a pod-level cgroup name (`pod<uid>` or `kubepods[-qos]-pod<uid_>.slice`), or undefined. */
export const parsePodCgroupName = (name: string, qosFromParent?: string): PodCgroup | undefined => {
  const v1 = POD_V1.exec(name);
  if (v1?.[1] !== undefined) {
    return { layout: 'cgroupfs', qos: qosOf(qosFromParent), podUid: v1[1] };
  }
  const systemd = POD_SYSTEMD.exec(name);
  if (systemd?.[2] !== undefined) {
    const qos = systemd[1] === 'burstable' || systemd[1] === 'besteffort' ? systemd[1] : 'guaranteed';
    return { layout: 'systemd', qos, podUid: systemd[2].replaceAll('_', '-') };
  }
  return undefined;
};

const qosOf = (parent: string | undefined): QosClass => {
  const base = parent?.replace(/^(?:[a-z0-9_]+-)*kubepods-/, '').replace(/\.slice$/, '');
  return base === 'burstable' || base === 'besteffort' ? base : 'guaranteed';
};

/** The container id and runtime a container cgroup name holds, or undefined. */
const containerOfName = (name: string, layout: CgroupLayout): { containerId: string; runtime?: ContainerRuntime } | undefined => {
  const prefixed = CONTAINER_PREFIXED.exec(name);
  if (prefixed?.[2] !== undefined) {
    const runtime = RUNTIME_PREFIX[prefixed[1] ?? ''];
    return runtime === undefined ? undefined : { containerId: prefixed[2], runtime };
  }
  // A bare id is the cgroupfs form (containerd, Docker); under the systemd driver every runtime prefixes.
  const bare = layout === 'cgroupfs' ? CONTAINER_BARE.exec(name) : undefined;
  return bare?.[1] === undefined ? undefined : { containerId: bare[1] };
};

/**
 * Identity of a container from the names a probe prints: the container cgroup's name and its parent's
 * (the pod cgroup). Undefined when they are not a kubepods container (names may be cut at 63 bytes).
 */
export const parseContainerCgroupNames = (cgroup: string, parentCgroup: string): ContainerCgroup | undefined => {
  const pod = parsePodCgroupName(parentCgroup);
  if (pod === undefined) {
    return undefined;
  }
  const container = containerOfName(cgroup, pod.layout);
  if (container === undefined || container.containerId.length < CONTAINER_KEY_LENGTH) {
    return undefined;
  }
  return { ...pod, ...container, containerKey: containerKeyOf(container.containerId) };
};

/** Index of the kubepods root in a path's parts (`kubepods`, `kubepods.slice`, `<parents>-kubepods.slice`), or -1. */
const kubepodsRootIndex = (parts: readonly string[]): number =>
  parts.findIndex((part) => part === 'kubepods' || /^(?:[a-z0-9_]+-)*kubepods\.slice$/.test(part));

/**
 * Identity of a full container cgroup path of either layout, or undefined if it is not one: a
 * kubepods root, an optional QoS level of the same layout, the pod, and the container, nothing below.
 */
export const parseContainerCgroupPath = (path: string): ContainerCgroup | undefined => {
  const parts = path.split('/').filter((part) => part !== '');
  const root = kubepodsRootIndex(parts);
  const below = root < 0 ? [] : parts.slice(root + 1);
  if (below.length !== 2 && below.length !== 3) {
    return undefined;
  }
  const [podName, container] = below.slice(-2);
  const qosLevel = below.length === 3 ? below[0] : undefined;
  const identity = container === undefined || podName === undefined ? undefined : parseContainerCgroupNames(container, podName);
  if (identity === undefined) {
    return undefined;
  }
  if (qosLevel !== undefined && !(identity.layout === 'systemd' ? QOS_SYSTEMD : QOS_V1).test(qosLevel)) {
    return undefined;
  }
  const systemdRoot = parts[root] !== 'kubepods';
  if (systemdRoot !== (identity.layout === 'systemd')) {
    return undefined;
  }
  const pod = parsePodCgroupName(podName ?? '', qosLevel);
  // A systemd pod slice names its QoS itself; it must agree with the level it sits in.
  if (pod === undefined || (qosLevel !== undefined && pod.qos !== qosOf(qosLevel)) || (qosLevel === undefined && pod.qos !== 'guaranteed')) {
    return undefined;
  }
  return { ...identity, qos: pod.qos };
};

/**
 * Whether a cgroup path is a pod-level cgroup (or a QoS level or the kubepods root itself): a
 * cgroup the kubelet made that is no container, so a walker need not report it.
 */
export const isKubepodsLevel = (path: string): boolean => {
  const parts = path.split('/').filter((part) => part !== '');
  const root = kubepodsRootIndex(parts);
  if (root < 0) {
    return false;
  }
  const below = parts.slice(root + 1);
  const last = below.at(-1);
  if (last === undefined) {
    return true;
  }
  if (below.length === 1 && (QOS_V1.test(last) || QOS_SYSTEMD.test(last))) {
    return true;
  }
  return below.length <= 2 && parsePodCgroupName(last) !== undefined;
};

/**
 * The runtime and id of a pod's `status.containerStatuses[].containerID` (`containerd://<id>`,
 * `cri-o://<id>`, `docker://<id>`), or undefined for an empty or unknown one.
 */
export const parseStatusContainerId = (containerID: string): { readonly runtime: ContainerRuntime; readonly containerId: string } | undefined => {
  const match = /^([a-z-]+):\/\/([0-9a-f]+)$/.exec(containerID);
  const runtime = CONTAINER_RUNTIMES.find((r) => r === match?.[1]);
  return runtime === undefined || match?.[2] === undefined ? undefined : { runtime, containerId: match[2] };
};

const SYSTEMD_PREFIX: Readonly<Record<ContainerRuntime, string>> = { containerd: 'cri-containerd', 'cri-o': 'crio', docker: 'docker' };

/** The cgroup path a kubelet gives a container, for the lab and tests. */
export const containerCgroupPath = (layout: CgroupLayout, qos: QosClass, podUid: string, containerId: string, runtime: ContainerRuntime = 'containerd'): string => {
  if (layout === 'cgroupfs') {
    const name = runtime === 'cri-o' ? `crio-${containerId}` : containerId;
    return qos === 'guaranteed' ? `/kubepods/pod${podUid}/${name}` : `/kubepods/${qos}/pod${podUid}/${name}`;
  }
  const uid = podUid.replaceAll('-', '_');
  const podSlice = qos === 'guaranteed' ? `kubepods-pod${uid}.slice` : `kubepods-${qos}-pod${uid}.slice`;
  const qosPart = qos === 'guaranteed' ? '' : `/kubepods-${qos}.slice`;
  return `/kubepods.slice${qosPart}/${podSlice}/${SYSTEMD_PREFIX[runtime]}-${containerId}.scope`;
};

/** The pod-level part of {@link containerCgroupPath}. */
export const podCgroupPath = (layout: CgroupLayout, qos: QosClass, podUid: string): string =>
  containerCgroupPath(layout, qos, podUid, 'x').split('/').slice(0, -1).join('/');
