/**
 * `flock /tmp/kg-lab.lock node test/bench/node-pod-quota.ts [replicas] [windows]`: where the kernel
 * counts the throttling of the closed loop's workload (dev/demo/node-loop.ts) on the real node, with
 * and without a CFS quota on the pod cgroup. Two Deployments of `replicas` pods each run side by
 * side: `single` pods have one container with a limit (the kubelet writes the same quota on the pod
 * cgroup), `sidecar` pods add the loop's idle sidecar without a CPU limit (no pod quota). Each pod's
 * period timers start at their own time, so the pods sample different phases. Prints, per pod and
 * 5 s window, the throttled periods and the wait share (throttled time / (periods x period), the
 * analysis' `waitShare`) of the app container's cpu.stat and of the pod cgroup's; then a Markdown
 * table for docs/benchmarks.md. Root; runs a kubelet.
 */
import { AppsV1Api, CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LOOP_LIMIT_MILLICORES, LOOP_REQUEST_MILLICORES, LOOP_SIDECAR, LOOP_WORKLOAD } from '../../dev/demo/node-loop.ts';
import { startLocalNode } from '../../dev/kube/node.ts';
import { containerIdOf, nodeDeployment, waitRolledOut } from '../../dev/kube/node-workloads.ts';
import { hierarchyOf, readCpuStat } from '../../dev/lab/cgroupfs.ts';
import type { CpuStat } from '../../dev/lab/cpu-stat.ts';
import { DEFAULT_THROTTLE_CONFIG } from '../../shared/analysis/index.ts';

const replicas = Number(process.argv[2] ?? '4');
const windows = Number(process.argv[3] ?? '6');
if (!Number.isInteger(replicas) || replicas < 1 || !Number.isInteger(windows) || windows < 1) {
  throw new Error('usage: node test/bench/node-pod-quota.ts [replicas >= 1] [windows >= 1]');
}
const NAMESPACE = 'quota-split';
const WINDOW_MS = 5_000;
const PERIOD_NS = 100_000_000;
const SHAPES = ['single', 'sidecar'] as const;
type Shape = (typeof SHAPES)[number];

interface Watched {
  readonly shape: Shape;
  readonly pod: string;
  readonly podCgroup: string;
  readonly containerCgroup: string;
}

/** Wait share and throttled periods between two reads of one cpu.stat. */
const share = (from: CpuStat, to: CpuStat): { throttled: number; periods: number; waitShare: number } => {
  const periods = Number(to.nrPeriods - from.nrPeriods);
  return { throttled: Number(to.nrThrottled - from.nrThrottled), periods, waitShare: periods === 0 ? 0 : Number(to.throttledTimeNs - from.throttledTimeNs) / (periods * PERIOD_NS) };
};

const node = await startLocalNode({});
try {
  const config = new KubeConfig();
  config.loadFromFile(node.kube.kubeconfigPath);
  const core = config.makeApiClient(CoreV1Api);
  const apps = config.makeApiClient(AppsV1Api);
  await core.createNamespace({ body: { metadata: { name: NAMESPACE } } });
  for (const shape of SHAPES) {
    const deployment = nodeDeployment({
      namespace: NAMESPACE,
      name: shape,
      image: node.image,
      container: 'app',
      workload: LOOP_WORKLOAD,
      cpuLimitMillicores: LOOP_LIMIT_MILLICORES,
      cpuRequestMillicores: LOOP_REQUEST_MILLICORES,
      replicas,
      ...(shape === 'sidecar' ? { unlimitedSidecar: LOOP_SIDECAR } : {}),
    });
    await apps.createNamespacedDeployment({ namespace: NAMESPACE, body: deployment });
  }
  const watched: Watched[] = [];
  for (const shape of SHAPES) {
    const pods: V1Pod[] = await waitRolledOut(apps, core, NAMESPACE, shape, 180_000);
    for (const pod of pods) {
      const podCgroup = `/kubepods/burstable/pod${pod.metadata?.uid ?? ''}`;
      watched.push({ shape, pod: pod.metadata?.name ?? '', podCgroup, containerCgroup: `${podCgroup}/${containerIdOf(pod, 'app')}` });
    }
  }
  const cpu = await hierarchyOf('cpu');
  for (const w of watched) {
    const quota = (await readFile(path.join(cpu, w.podCgroup, 'cpu.cfs_quota_us'), 'utf8')).trim();
    process.stderr.write(`${w.shape} ${w.pod}: pod cgroup cpu.cfs_quota_us ${quota}\n`);
  }
  const read = async (): Promise<{ container: CpuStat; pod: CpuStat }[]> =>
    Promise.all(watched.map(async (w) => ({ container: await readCpuStat(w.containerCgroup), pod: await readCpuStat(w.podCgroup) })));
  // Skip the first window: the pods' start-up.
  await sleep(WINDOW_MS);
  let previous = await read();
  const shares = watched.map(() => ({ container: [] as number[], pod: [] as number[], belowMin: 0 }));
  for (let window = 1; window <= windows; window += 1) {
    await sleep(WINDOW_MS);
    const current = await read();
    watched.forEach((w, i) => {
      const before = previous[i];
      const after = current[i];
      const s = shares[i];
      if (before === undefined || after === undefined || s === undefined) {
        return;
      }
      const container = share(before.container, after.container);
      const pod = share(before.pod, after.pod);
      s.container.push(container.waitShare);
      s.pod.push(pod.waitShare);
      s.belowMin += container.waitShare < DEFAULT_THROTTLE_CONFIG.minWaitShare ? 1 : 0;
      process.stderr.write(
        `${JSON.stringify({ window, shape: w.shape, pod: w.pod, container, podCgroup: pod })}\n`,
      );
    });
    previous = current;
  }
  const range = (values: number[]): string => `${(Math.min(...values) * 100).toFixed(0)}-${(Math.max(...values) * 100).toFixed(0)}%`;
  console.log(`| pods | pod quota | app container's wait share, per 5 s window | pod cgroup's wait share | windows under minWaitShare (${DEFAULT_THROTTLE_CONFIG.minWaitShare * 100}%) |`);
  console.log('| --- | --- | --- | --- | --- |');
  watched.forEach((w, i) => {
    const s = shares[i];
    if (s !== undefined) {
      console.log(`| ${w.shape} ${w.pod.slice(-5)} | ${w.shape === 'single' ? `${LOOP_LIMIT_MILLICORES}m` : 'none'} | ${range(s.container)} | ${w.shape === 'single' ? range(s.pod) : '-'} | ${s.belowMin} of ${s.container.length} |`);
    }
  });
} finally {
  await node.stop();
}
