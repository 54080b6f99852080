/**
 * The local node's kubelet: the settings measured to work on these machines
 * (../shared/kernel-lab.md "A real Kubernetes node on these machines"): the cgroupfs driver on
 * cgroup v1, swap and cgroup v1 allowed, containerd's CRI socket, its own root and log folders,
 * listening only on 127.0.0.1, and image garbage collection and disk eviction out of the way (the
 * node's only image is imported, never pulled: collecting it would break every later pod).
 *
 * @module
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { NodeBinaries } from './binaries.ts';
import { type Child, spawnChild } from './child.ts';

export interface KubeletSettings {
  readonly nodeName: string;
  /** Folder for the kubelet's root, logs and config. */
  readonly dir: string;
  readonly kubeconfigPath: string;
  readonly clientCaPath: string;
  readonly containerdSocket: string;
  /** Port of the kubelet's API on 127.0.0.1. */
  readonly port: number;
  /** Port of the read-only API (`/pods`) on 127.0.0.1. */
  readonly readOnlyPort: number;
  readonly healthzPort: number;
}

/** The KubeletConfiguration (JSON, which the kubelet reads as YAML). Pure. */
export const kubeletConfig = (settings: KubeletSettings): Record<string, unknown> => ({
  kind: 'KubeletConfiguration',
  apiVersion: 'kubelet.config.k8s.io/v1beta1',
  address: '127.0.0.1',
  port: settings.port,
  readOnlyPort: settings.readOnlyPort,
  healthzBindAddress: '127.0.0.1',
  healthzPort: settings.healthzPort,
  authentication: { anonymous: { enabled: false }, webhook: { enabled: false }, x509: { clientCAFile: settings.clientCaPath } },
  authorization: { mode: 'AlwaysAllow' },
  cgroupDriver: 'cgroupfs',
  cgroupsPerQOS: true,
  failSwapOn: false,
  // cgroup v1 here; the kubelet refuses v1 unless told it may (KEP-4569).
  failCgroupV1: false,
  containerRuntimeEndpoint: `unix://${settings.containerdSocket}`,
  podLogsDir: path.join(settings.dir, 'pod-logs'),
  // No cluster DNS runs; pods use dnsPolicy Default.
  clusterDomain: 'cluster.local',
  makeIPTablesUtilChains: false,
  serializeImagePulls: false,
  imageGCHighThresholdPercent: 100,
  imageGCLowThresholdPercent: 99,
  evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '1%', 'imagefs.available': '1%', 'nodefs.inodesFree': '1%' },
  // Status often, so Ready and pod phases show within a second or two.
  nodeStatusUpdateFrequency: '2s',
  nodeStatusReportFrequency: '10s',
  syncFrequency: '10s',
  fileCheckFrequency: '10s',
  shutdownGracePeriod: '0s',
});

/** Writes the config and starts the kubelet. */
export const startKubelet = async (binaries: NodeBinaries, settings: KubeletSettings): Promise<Child> => {
  const configPath = path.join(settings.dir, 'kubelet-config.json');
  await writeFile(configPath, `${JSON.stringify(kubeletConfig(settings), null, 2)}\n`);
  return spawnChild('kubelet', binaries.kubelet, [
    `--config=${configPath}`,
    `--kubeconfig=${settings.kubeconfigPath}`,
    `--root-dir=${path.join(settings.dir, 'root')}`,
    `--cert-dir=${path.join(settings.dir, 'pki')}`,
    `--hostname-override=${settings.nodeName}`,
    // The sandbox has no default route, so the kubelet cannot pick a node address itself.
    '--node-ip=127.0.0.1',
    '--v=1',
  ]);
};
