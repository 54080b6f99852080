/**
 * Pods as the API server (or the kubelet's pod list) describes them, reduced to what names a
 * container cgroup: uid, name, namespace, node, owner references, start time, and each container's
 * runtime id (`status.containerStatuses[].containerID`, also of init and ephemeral containers).
 * Pure: a PodList document in, typed records out; a document of another shape is a clear error.
 *
 * @module
 */
import { type ContainerRuntime, parseStatusContainerId } from '../../shared/pxl/cgroup-identity.ts';

export interface NamedContainerStatus {
  readonly name: string;
  readonly containerId: string;
  readonly runtime: ContainerRuntime;
}

export interface NamedPod {
  readonly uid: string;
  readonly name: string;
  readonly namespace: string;
  readonly node: string;
  readonly owners: readonly { readonly kind: string; readonly name: string; readonly uid: string }[];
  /** `status.startTime` (when the kubelet acknowledged the pod), or '' before it has one. */
  readonly startTime: string;
  readonly containers: readonly NamedContainerStatus[];
}

/** A pod list that is not a Kubernetes PodList. */
export class PodListError extends Error {
  override readonly name = 'PodListError';
}

const record = (value: unknown): Record<string, unknown> => (typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {});
const text = (value: unknown): string => (typeof value === 'string' ? value : '');
const list = (value: unknown): unknown[] => (Array.isArray(value) ? (value as unknown[]) : []);

const statusesOf = (status: Record<string, unknown>): NamedContainerStatus[] =>
  ['initContainerStatuses', 'containerStatuses', 'ephemeralContainerStatuses'].flatMap((field) =>
    list(status[field]).flatMap((entry) => {
      const parsed = parseStatusContainerId(text(record(entry)['containerID']));
      // A container not started yet has no containerID: it has no cgroup to name either.
      return parsed === undefined ? [] : [{ name: text(record(entry)['name']), ...parsed }];
    }),
  );

/** The pods of a PodList document (`kind: PodList`, or the kubelet's `/pods`, which omits nothing we read). */
export const podsOfList = (document: unknown): NamedPod[] => {
  const doc = record(document);
  if (!Array.isArray(doc['items']) || (doc['kind'] !== undefined && doc['kind'] !== 'PodList')) {
    throw new PodListError(`expected a PodList with items, got ${typeof document === 'object' && document !== null ? `kind ${JSON.stringify(doc['kind'] ?? null)}` : typeof document}`);
  }
  return list(doc['items']).flatMap((item) => {
    const metadata = record(record(item)['metadata']);
    const uid = text(metadata['uid']);
    if (uid === '') {
      return [];
    }
    const status = record(record(item)['status']);
    return [
      {
        uid,
        name: text(metadata['name']),
        namespace: text(metadata['namespace']),
        node: text(record(record(item)['spec'])['nodeName']),
        owners: list(metadata['ownerReferences']).map((ref) => ({ kind: text(record(ref)['kind']), name: text(record(ref)['name']), uid: text(record(ref)['uid']) })),
        startTime: text(status['startTime']),
        containers: statusesOf(status),
      },
    ];
  });
};
