/**
 * The local node's configuration files (dev/kube/containerd.ts, kubelet.ts, node-workloads.ts):
 * the settings ../shared/kernel-lab.md ("A real Kubernetes node on these machines") measured as
 * necessary are there. test/lab/node.test.ts runs them for real.
 */
import { describe, expect, it } from 'vitest';
import { cniConflist, containerdConfig, containerdPaths, POD_BRIDGE, POD_SUBNET } from '../../../dev/kube/containerd.ts';
import { kubeletConfig } from '../../../dev/kube/kubelet.ts';
import { nodeDeployment } from '../../../dev/kube/node-workloads.ts';

const paths = containerdPaths('/tmp/node "x"/containerd');

describe('containerd config', () => {
  const toml = containerdConfig(paths, { sandboxImage: 'kernel-gossip.local/lab:abc', cniBinDir: '/usr/lib/cni' });

  it('restricts oom_score_adj (root may not lower it on these machines) and uses the local sandbox image', () => {
    expect(toml).toMatch(/^ {2}restrict_oom_score_adj = true$/m);
    expect(toml).toMatch(/^ {2}sandbox_image = "kernel-gossip.local\/lab:abc"$/m);
  });

  it('keeps root, state, socket and CNI config in its own folder, escaped as TOML strings', () => {
    expect(toml).toContain('root = "/tmp/node \\"x\\"/containerd/root"');
    expect(toml).toContain('address = "/tmp/node \\"x\\"/containerd/containerd.sock"');
    expect(toml).toContain('conf_dir = "/tmp/node \\"x\\"/containerd/net.d"');
  });

  it('uses the cgroupfs driver like the kubelet, and no fixed stream port', () => {
    expect(toml).toMatch(/^ {2}SystemdCgroup = false$/m);
    expect(toml).toMatch(/^ {2}stream_server_port = "0"$/m);
  });

  it('gives pods a bridge with host-local addresses kept in its folder', () => {
    expect(cniConflist(paths)).toMatchObject({
      plugins: [{ type: 'bridge', bridge: POD_BRIDGE, ipam: { type: 'host-local', ranges: [[{ subnet: POD_SUBNET }]], dataDir: paths.cniDataDir } }],
    });
  });
});

describe('kubelet config', () => {
  const config = kubeletConfig({
    nodeName: 'n',
    dir: '/tmp/k',
    kubeconfigPath: '/tmp/k.kubeconfig',
    clientCaPath: '/tmp/ca.crt',
    containerdSocket: '/tmp/c.sock',
    port: 1,
    readOnlyPort: 2,
    healthzPort: 3,
  });

  it('has the measured settings: cgroupfs on cgroup v1, swap allowed, containerd as runtime', () => {
    expect(config).toMatchObject({ cgroupDriver: 'cgroupfs', failCgroupV1: false, failSwapOn: false, containerRuntimeEndpoint: 'unix:///tmp/c.sock' });
  });

  it('listens on 127.0.0.1 only and takes no anonymous requests', () => {
    expect(config).toMatchObject({ address: '127.0.0.1', healthzBindAddress: '127.0.0.1', authentication: { anonymous: { enabled: false } } });
  });

  it('never garbage-collects the imported image', () => {
    expect(config['imageGCHighThresholdPercent']).toBe(100);
  });
});

describe('node Deployments', () => {
  it('run the workload from the local image, never pulled, burstable under the limit', () => {
    const deployment = nodeDeployment({ namespace: 'ns', name: 'web', image: 'img', container: 'app', workload: { shape: 'steady', threads: 1, durationMs: 5000 }, cpuLimitMillicores: 100 });
    const container = deployment.spec?.template.spec?.containers[0];
    expect(container).toMatchObject({ image: 'img', imagePullPolicy: 'Never', command: ['/bin/burner', 'steady', '1', '5000'] });
    expect(container?.resources).toEqual({ requests: { cpu: '50m' }, limits: { cpu: '100m' } });
    expect(deployment.spec?.selector.matchLabels).toEqual(deployment.spec?.template.metadata?.labels);
    expect(deployment.spec?.template.spec?.dnsPolicy).toBe('Default');
    expect(deployment.spec?.template.spec?.containers).toHaveLength(1);
  });

  it('add an unlimited sidecar after the first container: a CPU request and no CPU limit, so the pod cgroup gets no quota', () => {
    const deployment = nodeDeployment({
      namespace: 'ns',
      name: 'web',
      image: 'img',
      container: 'app',
      workload: { shape: 'steady', threads: 1, durationMs: 5000 },
      cpuLimitMillicores: 100,
      unlimitedSidecar: { name: 'side', workload: { shape: 'idle', durationMs: 5000 }, cpuRequestMillicores: 10 },
    });
    const [app, side] = deployment.spec?.template.spec?.containers ?? [];
    expect(app?.name).toBe('app');
    expect(side).toEqual({ name: 'side', image: 'img', imagePullPolicy: 'Never', command: ['/bin/burner', 'idle', '5000'], resources: { requests: { cpu: '10m' } } });
  });
});
