/**
 * The real local kube-apiserver for integration tests, and typed clients to talk to it as any
 * identity. Start it in `beforeAll` with {@link startTestKube}; it fails (never skips) with the
 * command to build the binary when the binary is missing.
 *
 * No controllers run: {@link createOwnedPod} builds the Deployment -> ReplicaSet -> Pod chain with
 * owner references the way the controllers would.
 */
 
import {
  ApiException,
  AppsV1Api,
  AuthenticationV1Api,
  AuthorizationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  EventsV1Api,
  KubeConfig,
  RbacAuthorizationV1Api,
  type V1Deployment,
  type V1Pod,
  type V1ReplicaSet,
} from '@kubernetes/client-node';
import { readFile } from 'node:fs/promises';
import { type LocalKube, startLocalKube } from '../../dev/kube/local-kube.ts';
import { kubectl } from '../../dev/kube/manifests.ts';

export { kubectl };

/** The remediator's Kubernetes user, as bound in k8s/rbac (a Google service account's email on GKE). */
export const REMEDIATOR_USER = 'kernel-gossip-remediator@PROJECT_ID.iam.gserviceaccount.com';

/** Starts etcd + kube-apiserver for one test file; call `stop()` in `afterAll`. */
export const startTestKube = async (): Promise<LocalKube> => startLocalKube({ startTimeoutMs: 150_000 });

/** API clients that authenticate with one kubeconfig. */
export interface KubeClients {
  readonly config: KubeConfig;
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly events: EventsV1Api;
  readonly custom: CustomObjectsApi;
  readonly authn: AuthenticationV1Api;
  readonly authz: AuthorizationV1Api;
  readonly rbac: RbacAuthorizationV1Api;
}

/** Clients for the identity in `kubeconfigPath`. */
export const clientsFor = (kubeconfigPath: string): KubeClients => {
  const config = new KubeConfig();
  config.loadFromFile(kubeconfigPath);
  return {
    config,
    core: config.makeApiClient(CoreV1Api),
    apps: config.makeApiClient(AppsV1Api),
    events: config.makeApiClient(EventsV1Api),
    custom: config.makeApiClient(CustomObjectsApi),
    authn: config.makeApiClient(AuthenticationV1Api),
    authz: config.makeApiClient(AuthorizationV1Api),
    rbac: config.makeApiClient(RbacAuthorizationV1Api),
  };
};

/** The HTTP status a client call failed with, or 'ok' when it succeeded. */
export const statusOf = async (call: Promise<unknown>): Promise<number | 'ok'> => {
  try {
    await call;
    return 'ok';
  } catch (error) {
    if (error instanceof ApiException) {
      return error.code;
    }
    throw error;
  }
};

export interface OwnedPod {
  readonly deployment: V1Deployment;
  readonly replicaSet: V1ReplicaSet;
  readonly pod: V1Pod;
}

/**
 * Creates a Deployment, a ReplicaSet owned by it and one Pod owned by the ReplicaSet, with a CPU
 * limit on container `app`, as the deployment and replicaset controllers would have.
 */
export const createOwnedPod = async (clients: KubeClients, namespace: string, name: string, cpuLimit: string): Promise<OwnedPod> => {
  const labels = { app: name };
  const container = { name: 'app', image: 'busybox:1.37', resources: { requests: { cpu: '100m' }, limits: { cpu: cpuLimit } } };
  const deployment = await clients.apps.createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name, labels },
      spec: { replicas: 1, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [container] } } },
    },
  });
  const owner = (kind: string, object: { metadata?: { name?: string; uid?: string } }, apiVersion: string) => ({
    apiVersion,
    kind,
    name: object.metadata?.name ?? '',
    uid: object.metadata?.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  });
  const rsLabels = { ...labels, 'pod-template-hash': 'abc123' };
  const replicaSet = await clients.apps.createNamespacedReplicaSet({
    namespace,
    body: {
      metadata: { name: `${name}-abc123`, labels: rsLabels, ownerReferences: [owner('Deployment', deployment, 'apps/v1')] },
      spec: { replicas: 1, selector: { matchLabels: rsLabels }, template: { metadata: { labels: rsLabels }, spec: { containers: [container] } } },
    },
  });
  const pod = await clients.core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name: `${name}-abc123-x1y2z`, labels: rsLabels, ownerReferences: [owner('ReplicaSet', replicaSet, 'apps/v1')] },
      spec: { containers: [container] },
    },
  });
  return { deployment, replicaSet, pod };
};

/** One request as the API server's audit log recorded it (audit.k8s.io/v1 Event, level Metadata). */
export interface AuditedRequest {
  readonly user: string;
  readonly verb: string;
  readonly requestURI: string;
  readonly code: number | undefined;
}

/** Every completed request `user` made so far, read from the apiserver's own audit log. */
export const requestsBy = async (kube: LocalKube, user: string): Promise<AuditedRequest[]> => {
  const text = await readFile(kube.auditLogPath, 'utf8');
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { stage: string; user?: { username?: string }; verb: string; requestURI: string; responseStatus?: { code?: number } })
    .filter((event) => event.stage === 'ResponseComplete' && event.user?.username === user)
    .map((event) => ({ user, verb: event.verb, requestURI: event.requestURI, code: event.responseStatus?.code }));
};

/** The per-namespace permission that goes with opting in: the apply role bound to the remediator (k8s/examples). */
export const bindApplyRole = async (admin: KubeClients, namespace: string): Promise<void> => {
  await admin.rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name: 'kernel-gossip-remediator-apply' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'kernel-gossip-remediator-apply' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: REMEDIATOR_USER }],
    },
  });
};
