/**
 * Connecting to the cluster's API server.
 *
 * - GKE (production): an OAuth access token from google-auth-library, fetched per request from its
 *   cache (refreshed before expiry, never baked into a kubeconfig), and the cluster's endpoint and
 *   CA from the Container API, looked up once per instance and cached with a TTL. A configured DNS
 *   endpoint (`*.gke.goog`) is used as is, with system roots (its certificate is publicly trusted;
 *   setting the cluster CA there breaks verification).
 * - Local use and tests: a kubeconfig file.
 *
 * @module
 */
import { KubeConfig, type User } from '@kubernetes/client-node';
import type { GoogleAuth } from 'google-auth-library';

/** Name of our authenticator; deliberately not `gcp`, whose built-in handler shells out to gcloud. */
const AUTH_PROVIDER = 'kernel-gossip-google-auth';

export interface GkeCluster {
  readonly project: string;
  readonly location: string;
  readonly name: string;
  /** DNS endpoint (`gke-<id>.<region>.gke.goog`); when set, the Container API is not asked. */
  readonly dnsEndpoint?: string;
}

/** What the Container API says about where and how to reach a cluster. */
export interface ClusterEndpoint {
  readonly server: string;
  /** Base64 PEM of the cluster CA; absent for DNS endpoints (publicly trusted certificate). */
  readonly caData?: string;
}

/** The cluster lookup failed; keeps the HTTP status when there is one. */
export class ClusterLookupError extends Error {
  override readonly name = 'ClusterLookupError';
  readonly status: number | undefined;

  constructor(message: string, status: number | undefined, options?: ErrorOptions) {
    super(message, options);
    this.status = status;
  }
}

interface ContainerCluster {
  endpoint?: string;
  masterAuth?: { clusterCaCertificate?: string };
  privateClusterConfig?: { privateEndpoint?: string };
}

/** Looks up the cluster's public (or private) endpoint and CA with the Container API. */
export const lookupClusterEndpoint = async (
  auth: GoogleAuth,
  cluster: GkeCluster,
  options: { readonly usePrivateEndpoint?: boolean; readonly signal?: AbortSignal } = {},
): Promise<ClusterEndpoint> => {
  if (cluster.dnsEndpoint !== undefined) {
    return { server: `https://${cluster.dnsEndpoint}` };
  }
  const url = `https://container.googleapis.com/v1/projects/${encodeURIComponent(cluster.project)}/locations/${encodeURIComponent(
    cluster.location,
  )}/clusters/${encodeURIComponent(cluster.name)}`;
  let data: ContainerCluster;
  try {
    const response = await auth.request<ContainerCluster>({ url, method: 'GET', ...(options.signal ? { signal: options.signal } : {}) });
    data = response.data;
  } catch (error) {
    const status = (error as { status?: number; response?: { status?: number } }).response?.status ?? (error as { status?: number }).status;
    throw new ClusterLookupError(`looking up cluster ${cluster.location}/${cluster.name} failed`, status, { cause: error });
  }
  const host = options.usePrivateEndpoint ? data.privateClusterConfig?.privateEndpoint : data.endpoint;
  const caData = data.masterAuth?.clusterCaCertificate;
  if (host === undefined || host === '' || caData === undefined || caData === '') {
    throw new ClusterLookupError(`cluster ${cluster.location}/${cluster.name} has no ${options.usePrivateEndpoint ? 'private ' : ''}endpoint or CA`, undefined);
  }
  return { server: `https://${host}`, caData };
};

/** client-node's Authenticator interface (its package index does not export it), narrowed to what we use. */
interface Authenticator {
  isAuthProvider(user: User): boolean;
  applyAuthentication(user: User, opts: { headers?: Record<string, unknown> }): Promise<void>;
}

/** An authenticator that adds a fresh Google access token to every request. */
const googleAuthenticator = (auth: GoogleAuth): Authenticator => ({
  isAuthProvider: (user: User) => (user.authProvider as { name?: string } | undefined)?.name === AUTH_PROVIDER,
  applyAuthentication: async (_user, opts) => {
    const token = await auth.getAccessToken();
    if (token === null || token === undefined || token === '') {
      throw new Error('google-auth-library returned no access token');
    }
    opts.headers = { ...opts.headers, Authorization: `Bearer ${token}` };
  },
});

/** A KubeConfig for a GKE cluster, authenticated with Google tokens that refresh themselves. */
export const gkeKubeConfig = (auth: GoogleAuth, endpoint: ClusterEndpoint, clusterName: string): KubeConfig => {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromClusterAndUser(
    { name: clusterName, server: endpoint.server, skipTLSVerify: false, ...(endpoint.caData === undefined ? {} : { caData: endpoint.caData }) },
    { name: 'kernel-gossip', authProvider: { name: AUTH_PROVIDER, config: {} } },
  );
  kubeConfig.addAuthenticator(googleAuthenticator(auth));
  return kubeConfig;
};

/** A KubeConfig from a file (local API server, kind, a developer's cluster). */
export const fileKubeConfig = (path: string, context?: string): KubeConfig => {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(path);
  if (context !== undefined) {
    kubeConfig.setCurrentContext(context);
  }
  return kubeConfig;
};
