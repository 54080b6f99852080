/**
 * Seeds the local API server with the objects the kernel data refers to. No controllers run
 * there, so the demo creates the Deployment -> ReplicaSet -> Pod chain with owner references the
 * way the deployment and replicaset controllers would, with the pod names the lab ran, so the
 * remediator resolves each finding to the workload that owns it.
 *
 * @module
 */
import { AppsV1Api, CoreV1Api, KubeConfig, type V1Container } from '@kubernetes/client-node';
import type { DemoWorkload } from './workloads.ts';

/** API clients for one kubeconfig. */
export interface SeedClients {
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
}

export const seedClients = (kubeconfigPath: string): SeedClients => {
  const config = new KubeConfig();
  config.loadFromFile(kubeconfigPath);
  return { core: config.makeApiClient(CoreV1Api), apps: config.makeApiClient(AppsV1Api) };
};

export interface WorkloadObjects {
  readonly namespace: string;
  readonly deployment: string;
  readonly replicaSet: string;
  readonly pods: readonly string[];
  readonly container: string;
  readonly cpuLimitMillicores: number;
  readonly annotations: Readonly<Record<string, string>>;
  /** Who creates it: the field manager that owns the CPU limit afterwards. */
  readonly fieldManager: string;
}

/** The objects of a demo workload: its Deployment and ReplicaSet, and the pods the lab ran for it. */
export const objectsOf = (workload: DemoWorkload, extraPods: readonly DemoWorkload[] = []): WorkloadObjects => ({
  namespace: workload.namespace,
  deployment: workload.deployment,
  replicaSet: workload.pod.owner?.name ?? `${workload.deployment}-rs`,
  pods: [workload.pod.name, ...extraPods.filter((w) => w.deployment === workload.deployment && w.namespace === workload.namespace).map((w) => w.pod.name)],
  container: workload.container,
  cpuLimitMillicores: workload.cpuLimitMillicores,
  annotations: workload.annotations,
  fieldManager: workload.fieldManager,
});

const isConflict = (error: unknown): boolean => (error as { code?: unknown } | null)?.code === 409;

/** Creates the namespace unless it exists (k8s/examples defines `shop` and `batch`). */
export const ensureNamespace = async (clients: SeedClients, name: string, labels: Readonly<Record<string, string>> = {}): Promise<void> => {
  try {
    await clients.core.createNamespace({ body: { metadata: { name, labels: { ...labels } } } });
  } catch (error) {
    if (!isConflict(error)) {
      throw error;
    }
  }
};

/** Creates the Deployment, its ReplicaSet and its pods, owned as the controllers would own them. */
export const createWorkload = async (clients: SeedClients, objects: WorkloadObjects): Promise<void> => {
  const { namespace, fieldManager } = objects;
  const labels = { app: objects.deployment };
  const container: V1Container = {
    name: objects.container,
    image: 'busybox:1.37',
    resources: { requests: { cpu: `${Math.min(50, objects.cpuLimitMillicores)}m` }, limits: { cpu: `${objects.cpuLimitMillicores}m` } },
  };
  const deployment = await clients.apps.createNamespacedDeployment({
    namespace,
    fieldManager,
    body: {
      metadata: { name: objects.deployment, labels, annotations: { ...objects.annotations } },
      spec: { replicas: objects.pods.length, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [container] } } },
    },
  });
  const ownerOf = (kind: string, object: { metadata?: { name?: string; uid?: string } }) => ({
    apiVersion: 'apps/v1',
    kind,
    name: object.metadata?.name ?? '',
    uid: object.metadata?.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  });
  const hash = objects.replicaSet.slice(objects.deployment.length + 1);
  const rsLabels = { ...labels, 'pod-template-hash': hash };
  const replicaSet = await clients.apps.createNamespacedReplicaSet({
    namespace,
    fieldManager: 'kube-controller-manager',
    body: {
      metadata: { name: objects.replicaSet, labels: rsLabels, ownerReferences: [ownerOf('Deployment', deployment)] },
      spec: { replicas: objects.pods.length, selector: { matchLabels: rsLabels }, template: { metadata: { labels: rsLabels }, spec: { containers: [container] } } },
    },
  });
  for (const pod of objects.pods) {
    await clients.core.createNamespacedPod({
      namespace,
      fieldManager: 'kube-controller-manager',
      body: { metadata: { name: pod, labels: rsLabels, ownerReferences: [ownerOf('ReplicaSet', replicaSet)] }, spec: { containers: [container] } },
    });
  }
};

/** The CPU limit of a Deployment's container, as the API server has it now. */
export const cpuLimitOf = async (clients: SeedClients, namespace: string, deployment: string, container: string): Promise<string | undefined> => {
  const object = await clients.apps.readNamespacedDeployment({ namespace, name: deployment });
  return object.spec?.template.spec?.containers.find((c) => c.name === container)?.resources?.limits?.['cpu'];
};
