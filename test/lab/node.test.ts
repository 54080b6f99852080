/**
 * A real one-node cluster on this machine (dev/kube/node.ts): the kubelet and containerd built and
 * installed by dev/setup, the controllers rolling a Deployment out, the kubelet birthing its pod
 * through CRI in its kubepods cgroup, the kernel throttling it, and in-place resize rewriting its
 * quota. Every check reads what the API server, containerd or the kernel report, never what the test
 * asked for only. Root; run under `flock /tmp/kg-lab.lock` (the kubelet owns `kubepods`).
 */
import { AppsV1Api, CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hierarchyOf, readCpuStat } from '../../dev/lab/cgroupfs.ts';
import { POD_BRIDGE } from '../../dev/kube/containerd.ts';
import { kubectl } from '../../dev/kube/manifests.ts';
import { type LocalNode, startLocalNode } from '../../dev/kube/node.ts';
import { containerIdOf, nodeDeployment, pollUntil, waitRolledOut } from '../../dev/kube/node-workloads.ts';
import { isAlive } from '../support/process.ts';

const run = promisify(execFile);
const NAMESPACE = 'node-test';

const exists = (file: string): Promise<boolean> => access(file).then(() => true, () => false);

describe('a real one-node cluster: kubelet + containerd on this machine', () => {
  let node: LocalNode | undefined;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let pod: V1Pod;
  let cgroup = '';

  beforeAll(async () => {
    node = await startLocalNode();
    const config = new KubeConfig();
    config.loadFromFile(node.kube.kubeconfigPath);
    core = config.makeApiClient(CoreV1Api);
    apps = config.makeApiClient(AppsV1Api);
    await core.createNamespace({ body: { metadata: { name: NAMESPACE } } });
  }, 240_000);

  afterAll(async () => {
    await node?.stop();
  }, 120_000);

  it('registers the node Ready, with the kubelet version the set-up stamped and containerd as its runtime', async () => {
    const registered = await core.readNode({ name: node!.nodeName });
    expect(registered.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(registered.status?.nodeInfo?.kubeletVersion).toBe(node!.kube.version);
    expect(registered.status?.nodeInfo?.containerRuntimeVersion).toMatch(/^containerd:\/\/1\./);
  });

  it('rolls a Deployment out through a ReplicaSet; the kubelet births the pod through CRI under its CPU limit and the kernel throttles it', async () => {
    await apps.createNamespacedDeployment({
      namespace: NAMESPACE,
      body: nodeDeployment({ namespace: NAMESPACE, name: 'burn', image: node!.image, container: 'app', workload: { shape: 'steady', threads: 1, durationMs: 600_000 }, cpuLimitMillicores: 100 }),
    });
    const pods = await waitRolledOut(apps, core, NAMESPACE, 'burn');
    expect(pods).toHaveLength(1);
    pod = pods[0]!;
    const owner = pod.metadata?.ownerReferences?.[0];
    expect(owner?.kind).toBe('ReplicaSet');
    const replicaSet = await apps.readNamespacedReplicaSet({ namespace: NAMESPACE, name: owner!.name });
    expect(replicaSet.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Deployment', name: 'burn' });
    expect(pod.spec?.nodeName).toBe(node!.nodeName);
    expect(pod.status?.qosClass).toBe('Burstable');

    // What containerd handed runc: the OCI spec of the container, with the kubelet's cgroup parent.
    const id = containerIdOf(pod, 'app');
    const info = JSON.parse(await node!.ctr(['containers', 'info', id])) as { Spec: { linux: { cgroupsPath: string; resources: { cpu: { quota: number; period: number } } } } };
    cgroup = `/kubepods/burstable/pod${pod.metadata!.uid!}/${id}`;
    expect(info.Spec.linux.cgroupsPath).toBe(cgroup);
    expect(info.Spec.linux.resources.cpu).toMatchObject({ quota: 10_000, period: 100_000 });

    // What the kernel enforces: the limit files of that cgroup, and throttling in its cpu.stat.
    const cpu = await hierarchyOf('cpu');
    expect((await readFile(path.join(cpu, cgroup, 'cpu.cfs_quota_us'), 'utf8')).trim()).toBe('10000');
    const before = await readCpuStat(cgroup, cpu);
    await sleep(2_000);
    const after = await readCpuStat(cgroup, cpu);
    const periods = Number(after.nrPeriods - before.nrPeriods);
    const throttledRatio = Number(after.nrThrottled - before.nrThrottled) / periods;
    expect(periods).toBeGreaterThan(10);
    expect(throttledRatio).toBeGreaterThan(0.5);
  });

  it('resizes the running container in place (pods/resize): the kubelet rewrites its quota and reports the new limit', async () => {
    expect(cgroup).not.toBe('');
    const name = pod.metadata!.name!;
    await kubectl(node!.kube.kubeconfigPath, [
      'patch', 'pod', name, '-n', NAMESPACE, '--subresource', 'resize', '--type', 'merge',
      '-p', JSON.stringify({ spec: { containers: [{ name: 'app', resources: { limits: { cpu: '400m' } } }] } }),
    ]);
    const cpu = await hierarchyOf('cpu');
    await pollUntil('the resized quota', async () => (await readFile(path.join(cpu, cgroup, 'cpu.cfs_quota_us'), 'utf8')).trim(), (quota) => quota === '40000', 30_000);
    const resized = await pollUntil(
      'the resized limit in the pod status',
      () => core.readNamespacedPod({ namespace: NAMESPACE, name }),
      (p) => p.status?.containerStatuses?.[0]?.resources?.limits?.['cpu'] === '400m',
      30_000,
      (p) => JSON.stringify(p.status?.containerStatuses?.[0]?.resources ?? {}),
    );
    // Same container, same id: resized, not restarted.
    expect(containerIdOf(resized, 'app')).toBe(containerIdOf(pod, 'app'));
    expect(resized.status?.containerStatuses?.[0]?.restartCount).toBe(0);
  });

  it('stop deletes the pods through the kubelet and leaves no process, cgroup, bridge or folder behind', async () => {
    const { pids, containerdSocket } = node!;
    await node!.stop();
    for (const [name, pid] of Object.entries(pids)) {
      expect(isAlive(pid), `${name} (${pid}) still runs`).toBe(false);
    }
    const cpu = await hierarchyOf('cpu');
    expect(await exists(path.join(cpu, 'kubepods'))).toBe(false);
    expect(await exists(path.dirname(path.dirname(containerdSocket)))).toBe(false);
    const links = (await run('ip', ['-o', 'link', 'show'])).stdout;
    expect(links).not.toContain(`${POD_BRIDGE}:`);
    const shims = (await run('ps', ['-eo', 'args'])).stdout.split('\n').filter((line) => line.includes(containerdSocket));
    expect(shims).toEqual([]);
  });
});
