/**
 * The KubeConfig a function uses, from its cluster config: a kubeconfig file for local use, or
 * GKE with Google tokens (cluster endpoint from the Container API, cached for 10 minutes).
 *
 * @module
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { GoogleAuth } from 'google-auth-library';
import type { ClusterConfig } from './config.ts';
import { fileKubeConfig, gkeKubeConfig, lookupClusterEndpoint } from './connect.ts';

export const clusterKubeConfig = async (config: ClusterConfig, auth: GoogleAuth, project: string | undefined): Promise<KubeConfig> => {
  if (config.KUBECONFIG !== undefined) {
    return fileKubeConfig(config.KUBECONFIG);
  }
  const name = config.GKE_CLUSTER_NAME ?? 'gke';
  const endpoint = await lookupClusterEndpoint(
    auth,
    {
      project: project ?? (await auth.getProjectId()),
      location: config.GKE_CLUSTER_LOCATION ?? '',
      name,
      ...(config.GKE_ENDPOINT === undefined ? {} : { dnsEndpoint: config.GKE_ENDPOINT }),
    },
    { usePrivateEndpoint: config.GKE_USE_PRIVATE_ENDPOINT },
  );
  return gkeKubeConfig(auth, endpoint, name);
};
