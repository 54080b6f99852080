/**
 * Recognises the cgroups the kubelet creates for pods and containers, in both layouts a node can use:
 *
 * - cgroupfs driver (cgroup v1, or v2 without systemd): `/kubepods[/burstable|/besteffort]/pod<uid>[/<container-id>]`
 * - systemd driver (GKE's COS, cgroup v2): `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid_with_underscores>.slice[/cri-containerd-<container-id>.scope]`
 *
 * @module
 */

/** Quality-of-service class as encoded in the cgroup path. */
export type QosClass = 'guaranteed' | 'burstable' | 'besteffort';

/** What a kubelet cgroup path says. `containerId` is absent for the pod's own cgroup. */
export interface KubeCgroup {
  readonly podUid: string;
  readonly qos: QosClass;
  readonly containerId?: string;
}

const CGROUPFS = /^\/?(?:.*\/)?kubepods(?:\/(burstable|besteffort))?\/pod([0-9a-fA-F-]{8,})(?:\/([^/]+))?\/?$/;
const SYSTEMD_POD = /^kubepods(?:-(burstable|besteffort))?-pod([0-9a-fA-F_]{8,})\.slice$/;
const SYSTEMD_CONTAINER = /^(?:cri-containerd|crio|docker|containerd)-([0-9a-fA-F]+)\.scope$/;

const qosOf = (raw: string | undefined): QosClass => (raw === 'burstable' || raw === 'besteffort' ? raw : 'guaranteed');

/** Parses a cgroup path; returns `null` for paths that are not a kubelet pod or container cgroup. */
export const parseKubeCgroup = (path: string): KubeCgroup | null => {
  const plain = CGROUPFS.exec(path);
  if (plain !== null) {
    const [, qos, uid = '', container] = plain;
    return { podUid: uid.toLowerCase(), qos: qosOf(qos), ...(container === undefined ? {} : { containerId: container }) };
  }
  const parts = path.split('/').filter((p) => p !== '');
  for (const [i, part] of parts.entries()) {
    const pod = SYSTEMD_POD.exec(part);
    if (pod === null) {
      continue;
    }
    const [, qos, uid = ''] = pod;
    const podCgroup = { podUid: uid.replaceAll('_', '-').toLowerCase(), qos: qosOf(qos) };
    const rest = parts.slice(i + 1);
    if (rest.length === 0) {
      return podCgroup;
    }
    const container = rest.length === 1 && rest[0] !== undefined ? SYSTEMD_CONTAINER.exec(rest[0]) : null;
    const id = container?.[1];
    return id === undefined ? null : { ...podCgroup, containerId: id };
  }
  return null;
};
