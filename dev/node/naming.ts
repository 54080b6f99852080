/**
 * Names for the containers of this host (pure): the pod (namespace, name, owners, node) by the pod
 * uid of the cgroup, and the container's name by its runtime id from the pod's container statuses.
 * Sources are asked in order (API server, the kubelet's pod list, the kernel lab's registry); a
 * container no source knows keeps its cgroup path and id as its name, and is never dropped.
 *
 * @module
 */
import type { HostContainer } from './containers.ts';
import { millicoresOf } from './cpu-limit.ts';
import type { NamedPod } from './pods.ts';

export const NAMING_SOURCES = ['api-server', 'kubelet', 'lab'] as const;
export type NamingSource = (typeof NAMING_SOURCES)[number];

/** The pods one source knows. */
export interface PodSource {
  readonly source: NamingSource;
  readonly pods: readonly NamedPod[];
}

export interface NamedHostContainer extends HostContainer {
  /** Which source named the pod; `cgroup` when none knew it. */
  readonly naming: NamingSource | 'cgroup';
  readonly pod: NamedPod | undefined;
  /** The container's name in its pod, or '' when unknown (a sandbox, or a status not written yet). */
  readonly containerName: string;
}

/** Names each container from the first source that knows its pod. */
export const nameContainers = (containers: readonly HostContainer[], sources: readonly PodSource[]): NamedHostContainer[] => {
  const pods = new Map<string, { source: NamingSource; pod: NamedPod }>();
  for (const { source, pods: known } of sources) {
    for (const pod of known) {
      if (!pods.has(pod.uid)) {
        pods.set(pod.uid, { source, pod });
      }
    }
  }
  return containers.map((container) => {
    const found = pods.get(container.identity.podUid);
    const status = found?.pod.containers.find((c) => c.containerId === container.identity.containerId);
    return { ...container, naming: found?.source ?? 'cgroup', pod: found?.pod, containerName: status?.name ?? '' };
  });
};

/** `namespace/pod/container` when named, else the cgroup path (the id is in it). */
export const containerLabel = (container: NamedHostContainer): string => {
  if (container.pod === undefined) {
    return container.cgroupPath;
  }
  const name = container.containerName === '' ? `<${container.identity.containerId.slice(0, 12)}>` : container.containerName;
  return `${container.pod.namespace}/${container.pod.name}/${name}`;
};

/** One line per CPU-limited container, for people: label, short id, limit. */
export const limitedContainerLines = (containers: readonly NamedHostContainer[]): string[] =>
  containers.flatMap((c) =>
    c.limit === undefined ? [] : [`${containerLabel(c)}  id ${c.identity.containerId.slice(0, 12)}  limit ${millicoresOf(c.limit)}m (${c.limit.quotaUs}/${c.limit.periodUs} µs)  named by ${c.naming}`],
  );
