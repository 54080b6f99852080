/**
 * Container and pod identity from cgroup names, for both layouts a kubelet makes:
 * - v1 / cgroupfs driver: `/kubepods[/<qos>]/pod<uid>/<container-id>`
 * - v2 / systemd driver: `/kubepods.slice[/kubepods-<qos>.slice]/kubepods[-<qos>]-pod<uid_with_underscores>.slice/<runtime>-<container-id>.scope`
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

export interface PodCgroup {
  readonly layout: CgroupLayout;
  readonly qos: QosClass;
  readonly podUid: string;
}

export interface ContainerCgroup extends PodCgroup {
  /** The container id as the cgroup name holds it (without runtime prefix or `.scope`). */
  readonly containerId: string;
  readonly containerKey: string;
}

const UID = '[0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12}';
const POD_V1 = new RegExp(`^pod(${UID})$`);
// `.slice` may be cut short by the probe's 63-byte strings.
const POD_SYSTEMD = new RegExp(`^kubepods(?:-(burstable|besteffort))?-pod(${UID})(?:\\.(?:s(?:l(?:i(?:c(?:e)?)?)?)?)?)?$`);
const CONTAINER_SYSTEMD = /^(?:cri-containerd|crio|docker)-([0-9a-f]+)(?:\.[a-z]*)?$/;
const CONTAINER_V1 = /^([0-9a-f]+)$/;

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
  const base = parent?.replace(/^kubepods-/, '').replace(/\.slice$/, '');
  return base === 'burstable' || base === 'besteffort' ? base : 'guaranteed';
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
  const match = (pod.layout === 'systemd' ? CONTAINER_SYSTEMD : CONTAINER_V1).exec(cgroup) ?? CONTAINER_SYSTEMD.exec(cgroup);
  if (match?.[1] === undefined || match[1].length < CONTAINER_KEY_LENGTH) {
    return undefined;
  }
  return { ...pod, containerId: match[1], containerKey: containerKeyOf(match[1]) };
};

/** Identity of a full container cgroup path of either layout, or undefined if it is not one. */
export const parseContainerCgroupPath = (path: string): ContainerCgroup | undefined => {
  const parts = path.split('/').filter((part) => part !== '');
  if (parts[0] !== 'kubepods' && parts[0] !== 'kubepods.slice') {
    return undefined;
  }
  const container = parts.at(-1);
  const podName = parts.at(-2);
  if (container === undefined || podName === undefined) {
    return undefined;
  }
  const identity = parseContainerCgroupNames(container, podName);
  if (identity === undefined) {
    return undefined;
  }
  const pod = parsePodCgroupName(podName, parts.length === 4 ? parts[1] : undefined);
  return pod === undefined ? undefined : { ...identity, qos: pod.qos };
};

/** The cgroup path a kubelet gives a container, for the lab and tests. */
export const containerCgroupPath = (layout: CgroupLayout, qos: QosClass, podUid: string, containerId: string): string => {
  if (layout === 'cgroupfs') {
    return qos === 'guaranteed' ? `/kubepods/pod${podUid}/${containerId}` : `/kubepods/${qos}/pod${podUid}/${containerId}`;
  }
  const uid = podUid.replaceAll('-', '_');
  const podSlice = qos === 'guaranteed' ? `kubepods-pod${uid}.slice` : `kubepods-${qos}-pod${uid}.slice`;
  const qosPart = qos === 'guaranteed' ? '' : `/kubepods-${qos}.slice`;
  return `/kubepods.slice${qosPart}/${podSlice}/cri-containerd-${containerId}.scope`;
};

/** The pod-level part of {@link containerCgroupPath}. */
export const podCgroupPath = (layout: CgroupLayout, qos: QosClass, podUid: string): string =>
  containerCgroupPath(layout, qos, podUid, 'x').split('/').slice(0, -1).join('/');
