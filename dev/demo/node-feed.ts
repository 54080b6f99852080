/**
 * Live kernel data on a real one-node cluster (dev/kube/node.ts): the demo's workloads are real
 * Deployments that the controllers roll out and the kubelet births through containerd in its
 * `kubepods` cgroups, and the local Vizier runs in this process in live mode with pod, namespace,
 * owner and node names from the API server, as Pixie's metadata service names them. A kubelet owns
 * `kubepods` (it removes pod cgroups it has no pod for), so the kernel lab's hand-made runc pods
 * never run beside it.
 *
 * The throttled workloads run at 50m (a 5 ms quota per 100 ms period) instead of the recordings'
 * 100m: low enough that they stay throttled when this 2-core machine is shared (at load 20 the
 * `kubepods` group, weight 2048 beside each root task's 1024, gets about 0.18 cores, more than the
 * three quotas together), high enough that `cpu_throttle`'s 99 Hz profile probe, which samples a
 * cgroup only while it runs, catches each of them about 5 times a second (at 20m, 2 times: windows
 * without two samples broke the streaks). Requests are half the limit, so the pods are Burstable as
 * in the recordings.
 *
 * @module
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type LocalNode, startLocalNode } from '../kube/node.ts';
import { nodeDeployment, pollUntil, waitRolledOut } from '../kube/node-workloads.ts';
import { checkLabHost } from '../lab/host.ts';
import type { Workload } from '../lab/lab.ts';
import { podListers } from '../node/pod-sources.ts';
import { PxlEngine } from '../vizier/pxl/engine.ts';
import { liveBackend } from '../vizier/pxl/live.ts';
import { startVizier } from '../vizier/server.ts';
import { deployProbe, type KernelChoice, type KernelFeed, VIZIER_API_KEY, VIZIER_CLUSTER_ID, type VizierHandle } from './kernel.ts';
import { ensureNamespace, type SeedClients } from './seed.ts';
import { DEMO_BIRTHS, DEMO_WORKLOADS, type DemoWorkload, IDLE_SIDECAR, THROTTLE_DURATION_MS } from './workloads.ts';

/** The CPU limit of the demo's throttled workloads on the node (see the module comment). */
export const NODE_THROTTLED_LIMIT_MILLICORES = 50;
/** The pods run until the node stops them: long enough for any demo, `--keep` included. */
const RUN_FOR_MS = 24 * 3_600_000;
const ROLLOUT_TIMEOUT_MS = 180_000;

const iso = (ms: number): string => new Date(ms).toISOString();

/** A demo workload as it runs on the node: a burner shape without an end, and the node's limit. */
export const onNode = (workload: DemoWorkload): { readonly workload: Workload; readonly cpuLimitMillicores: number; readonly cpuRequestMillicores: number } => {
  const shape = workload.pod.containers[0]?.workload;
  if (shape === undefined || (shape.shape !== 'steady' && shape.shape !== 'bursty')) {
    throw new Error(`${workload.namespace}/${workload.deployment}: no burner shape the node can run`);
  }
  const throttled = workload.role !== 'healthy';
  const cpuLimitMillicores = throttled ? NODE_THROTTLED_LIMIT_MILLICORES : workload.cpuLimitMillicores;
  // Two busy threads in a throttled pod: when a loaded machine gives the pod little more than its
  // quota, both wait out the period, so the waiting stays well above the analysis' idle-inflated line.
  const threads = throttled ? Math.max(2, shape.threads) : shape.threads;
  return { workload: { ...shape, threads, durationMs: RUN_FOR_MS }, cpuLimitMillicores, cpuRequestMillicores: Math.ceil(cpuLimitMillicores / 2) };
};

/** The local Vizier in this process, live over the node: its pods named from the API server, as Pixie's metadata service names them. */
export const startNodeVizier = async (node: LocalNode, log: (name: string, line: string) => void): Promise<VizierHandle> => {
  const host = await checkLabHost();
  const backend = await liveBackend(
    { bpftrace: host.bpftrace, listers: podListers({ kubeconfig: node.kube.kubeconfigPath, node: node.nodeName }) },
    { log: (event) => { log('vizier', JSON.stringify(event)); } },
  );
  try {
    const running = await startVizier({
      dataset: new Map(),
      engine: new PxlEngine(backend),
      apiKeys: [VIZIER_API_KEY],
      clusters: [{ id: VIZIER_CLUSTER_ID, name: 'local-vizier-node', status: 'CS_HEALTHY', faults: {} }],
    });
    return {
      address: running.address,
      stop: async () => {
        await running.stop();
        await backend.close();
      },
    };
  } catch (error) {
    await backend.close();
    throw error;
  }
};

/** What a node feed adds to a kernel feed: the control plane it runs, and the demo's Deployments on it. */
export interface NodeFeed extends KernelFeed {
  startKube(): Promise<{ readonly kube: LocalNode['kube']; stop(): Promise<void> }>;
  seed(clients: SeedClients, progress: (message: string) => void): Promise<void>;
}

/** The node's live feed: start the node, then the Vizier over it, then the demo's Deployments. */
export const nodeFeed = (choice: KernelChoice, log: (name: string, line: string) => void): NodeFeed => {
  let resolveNode: (node: LocalNode) => void = () => undefined;
  let rejectNode: (error: unknown) => void = () => undefined;
  const node = new Promise<LocalNode>((resolve, reject) => {
    resolveNode = resolve;
    rejectNode = reject;
  });
  // Awaited by the Vizier's start; a failure is reported by startKube, not as an unhandled rejection.
  node.catch(() => undefined);
  let clients: SeedClients | undefined;
  return {
    choice,
    startKube: async () => {
      try {
        const started = await startLocalNode({ output: log });
        resolveNode(started);
        return { kube: started.kube, stop: () => started.stop() };
      } catch (error) {
        rejectNode(error);
        throw error;
      }
    },
    startVizier: async () => startNodeVizier(await node, log),
    seed: async (seedClients, progress) => {
      const started = await node;
      clients = seedClients;
      for (const workload of DEMO_WORKLOADS) {
        await ensureNamespace(seedClients, workload.namespace);
        const run = onNode(workload);
        await seedClients.apps.createNamespacedDeployment({
          namespace: workload.namespace,
          fieldManager: workload.fieldManager,
          body: nodeDeployment({
            namespace: workload.namespace,
            name: workload.deployment,
            image: started.image,
            container: workload.container,
            workload: run.workload,
            cpuLimitMillicores: run.cpuLimitMillicores,
            cpuRequestMillicores: run.cpuRequestMillicores,
            annotations: workload.annotations,
            // No pod-level quota: the app's counters carry all of its throttling (workloads.ts IDLE_SIDECAR).
            unlimitedSidecar: { name: IDLE_SIDECAR.name, workload: { shape: 'idle', durationMs: RUN_FOR_MS }, cpuRequestMillicores: 10 },
          }),
        });
      }
      for (const workload of DEMO_WORKLOADS) {
        const [pod] = await waitRolledOut(seedClients.apps, seedClients.core, workload.namespace, workload.deployment, ROLLOUT_TIMEOUT_MS);
        progress(`  ${workload.namespace}/${workload.deployment}: pod ${pod?.metadata?.name ?? '?'} running on ${started.nodeName}`);
      }
    },
    produce: async (observe, progress) => {
      if (clients === undefined) {
        throw new Error('seed the node before producing kernel data');
      }
      progress("deploying the probes: Cloud Scheduler's first runs of observe-throttle and observe-births upsert the tracepoints (bpftrace starts)");
      await Promise.all([deployProbe(observe, 'observe-throttle'), deployProbe(observe, 'observe-births')]);
      progress(`the kubelet's pods run under their CPU limits for ${THROTTLE_DURATION_MS / 1000} s while the probes read their cgroups`);
      const started = Date.now();
      await sleep(THROTTLE_DURATION_MS);
      const ended = Date.now();
      const [birth] = DEMO_BIRTHS;
      if (birth === undefined) {
        throw new Error('the demo has no birth scenario');
      }
      progress(`a new ${birth.namespace}/${birth.deployment} replica: the Deployment scales to 2 and the kubelet births the pod (pod_birth probe attached)`);
      const { apps, core } = clients;
      const before = new Set((await core.listNamespacedPod({ namespace: birth.namespace, labelSelector: `app=${birth.deployment}` })).items.map((p) => p.metadata?.uid));
      const bornFrom = Date.now();
      const scale = await apps.readNamespacedDeploymentScale({ namespace: birth.namespace, name: birth.deployment });
      scale.spec = { replicas: (scale.spec?.replicas ?? 1) + 1 };
      await apps.replaceNamespacedDeploymentScale({ namespace: birth.namespace, name: birth.deployment, body: scale });
      await pollUntil(
        `the new ${birth.deployment} replica running`,
        async () => (await core.listNamespacedPod({ namespace: birth.namespace, labelSelector: `app=${birth.deployment}` })).items,
        (pods) => pods.some((p) => !before.has(p.metadata?.uid) && (p.status?.containerStatuses ?? []).some((c) => c.state?.running !== undefined)),
        ROLLOUT_TIMEOUT_MS,
        (pods) => pods.map((p) => `${p.metadata?.name}:${p.status?.phase}`).join(','),
      );
      // Let the probes' last lines reach the Vizier before the window closes.
      await sleep(1_500);
      const bornUntil = Date.now();
      const length = Math.floor((ended - started) / 3);
      return { throttle: { start: iso(ended - length), end: iso(ended) }, births: { start: iso(bornFrom - 200), end: iso(bornUntil) } };
    },
  };
};
