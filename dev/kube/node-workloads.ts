/**
 * Workloads for the local node (dev/kube/node.ts): Deployments whose pods run the lab's burner
 * from the node's local image, and reads of what the kubelet made of them (the pods of a
 * Deployment, a container's cgroup, the OCI spec containerd wrote).
 *
 * @module
 */
import type { AppsV1Api, CoreV1Api, V1Deployment, V1Pod } from '@kubernetes/client-node';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Workload } from '../lab/lab.ts';
import { workloadArgs } from '../lab/lab.ts';

export interface NodeDeploymentSpec {
  readonly namespace: string;
  readonly name: string;
  /** The node's image ({@link LocalNode.image}). */
  readonly image: string;
  readonly container: string;
  readonly workload: Workload;
  readonly cpuLimitMillicores: number;
  readonly cpuRequestMillicores?: number;
  readonly replicas?: number;
  readonly annotations?: Readonly<Record<string, string>>;
  /** Seconds a new pod must be ready before the rollout counts it available (and removes an old one). */
  readonly minReadySeconds?: number;
  /**
   * A second container after the first, with a CPU request and NO CPU limit. A pod in which a
   * container has no CPU limit gets no CFS quota on its pod cgroup (the kubelet's
   * ResourceConfigForPod), so the first container's own quota is the only one that throttles it.
   */
  readonly unlimitedSidecar?: { readonly name: string; readonly workload: Workload; readonly cpuRequestMillicores: number };
}

/** The Deployment object: burstable pods (request below limit), image never pulled, no cluster DNS. Pure. */
export const nodeDeployment = (spec: NodeDeploymentSpec): V1Deployment => {
  const labels = { app: spec.name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: spec.name, namespace: spec.namespace, labels, annotations: { ...spec.annotations } },
    spec: {
      replicas: spec.replicas ?? 1,
      ...(spec.minReadySeconds === undefined ? {} : { minReadySeconds: spec.minReadySeconds }),
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          dnsPolicy: 'Default',
          enableServiceLinks: false,
          automountServiceAccountToken: false,
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name: spec.container,
              image: spec.image,
              imagePullPolicy: 'Never',
              command: workloadArgs(spec.workload),
              resources: {
                requests: { cpu: `${spec.cpuRequestMillicores ?? Math.min(50, spec.cpuLimitMillicores)}m` },
                limits: { cpu: `${spec.cpuLimitMillicores}m` },
              },
            },
            ...(spec.unlimitedSidecar === undefined
              ? []
              : [
                  {
                    name: spec.unlimitedSidecar.name,
                    image: spec.image,
                    imagePullPolicy: 'Never',
                    command: workloadArgs(spec.unlimitedSidecar.workload),
                    resources: { requests: { cpu: `${spec.unlimitedSidecar.cpuRequestMillicores}m` } },
                  },
                ]),
          ],
        },
      },
    },
  };
};

/** Polls `read` until `done` holds for its value; throws with `what` and the last value at the deadline. */
export const pollUntil = async <T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number, describe: (value: T) => string = (v) => JSON.stringify(v)): Promise<T> => {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) {
      return value;
    }
    if (Date.now() > until) {
      throw new Error(`${what}: not reached in ${timeoutMs} ms (last: ${describe(value)})`);
    }
    await sleep(250);
  }
};

/** The pods of a Deployment (by its selector). */
export const podsOf = async (core: CoreV1Api, namespace: string, deployment: string): Promise<V1Pod[]> =>
  (await core.listNamespacedPod({ namespace, labelSelector: `app=${deployment}` })).items;

const running = (pod: V1Pod): boolean => pod.status?.phase === 'Running' && pod.metadata?.deletionTimestamp === undefined && (pod.status.containerStatuses ?? []).every((c) => c.state?.running !== undefined);

/** Waits until the Deployment's rollout is complete and returns its running pods. */
export const waitRolledOut = async (apps: AppsV1Api, core: CoreV1Api, namespace: string, name: string, timeoutMs = 90_000): Promise<V1Pod[]> => {
  await pollUntil(
    `rollout of ${namespace}/${name}`,
    () => apps.readNamespacedDeployment({ namespace, name }),
    (d) => {
      const wanted = d.spec?.replicas ?? 1;
      const s = d.status;
      return (s?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 1) && s?.updatedReplicas === wanted && s.availableReplicas === wanted && (s.replicas ?? 0) === wanted;
    },
    timeoutMs,
    (d) => JSON.stringify(d.status ?? {}),
  );
  return pollUntil(`running pods of ${namespace}/${name}`, () => podsOf(core, namespace, name), (pods) => pods.length > 0 && pods.every(running), timeoutMs, (pods) => pods.map((p) => `${p.metadata?.name}:${p.status?.phase}`).join(','));
};

/** The containerd id of a pod's container (`containerd://<id>` in its status). */
export const containerIdOf = (pod: V1Pod, container: string): string => {
  const status = pod.status?.containerStatuses?.find((c) => c.name === container);
  const match = /^containerd:\/\/([0-9a-f]{64})$/.exec(status?.containerID ?? '');
  if (match?.[1] === undefined) {
    throw new Error(`pod ${pod.metadata?.name} has no containerd id for ${container} yet (${status?.containerID ?? 'no status'})`);
  }
  return match[1];
};
