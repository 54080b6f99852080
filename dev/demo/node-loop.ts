/**
 * The loop closed through a real control plane and a real kubelet (dev/kube/node.ts): a throttled
 * Deployment runs on the node; Cloud Scheduler's call makes observe-throttle find it through the
 * live local Vizier (probes on this kernel, pods named from the API server); the finding reaches
 * remediate over Pub/Sub, which raises the limit with server-side apply (and, when asked, resizes
 * the running pod in place through `pods/resize`); the Deployment rolls out and the kubelet births
 * the new pod under the new limit (observe-births gives its birth certificate); the probe then sees
 * the throttling end. Run by test/bench/node-closed-loop.ts.
 *
 * Root, and under `flock /tmp/kg-lab.lock`: it runs a kubelet.
 *
 * @module
 */
import { AppsV1Api, CoreV1Api, KubeConfig, RbacAuthorizationV1Api, type V1Pod } from '@kubernetes/client-node';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_THROTTLE_CONFIG, throttleVerdict } from '../../shared/analysis/index.ts';
import type { BirthFinding, RemediationFinding, ThrottleFinding } from '../../shared/findings/types.ts';
import { runOverWindows } from '../../shared/observe/run.ts';
import { throttleCounters } from '../../shared/observe/throttle-table.ts';
import { createPixieClient } from '../../shared/pixie/client.ts';
import { embeddedScriptReader } from '../../shared/pxl/embedded.ts';
import { loadScript } from '../../shared/pxl/scripts.ts';
import { type LocalNode, startLocalNode } from '../kube/node.ts';
import { containerIdOf, nodeDeployment, pollUntil, waitRolledOut } from '../kube/node-workloads.ts';
import { hierarchyOf, readCpuStat } from '../lab/cgroupfs.ts';
import { checkLabHost } from '../lab/host.ts';
import { podListers } from '../node/pod-sources.ts';
import { liveBackend } from '../vizier/pxl/live.ts';
import { PxlEngine } from '../vizier/pxl/engine.ts';
import { startVizier } from '../vizier/server.ts';
import { schedulerCall, type FindingTail, tailFindings, waitFor } from './cycle.ts';
import { deployProbe, VIZIER_API_KEY, VIZIER_CLUSTER_ID } from './kernel.ts';
import { REMEDIATOR_USER, type Stack, startStack } from './stack.ts';

/** The namespace of the loop: opted in, in apply mode. */
export const LOOP_NAMESPACE = 'loop';
export const LOOP_DEPLOYMENT = 'cart';
/** Observe windows of the loop (three in a row make a streak the remediator acts on). */
export const WINDOW_MS = 5_000;
const PERIOD_US = 100_000;

/**
 * The workload: one thread that needs 30 ms of CPU every 100 ms (0.3 cores, a fixed demand however
 * busy the shared machine is), at 0.2 cores: throttled in nearly every period, and relieved within
 * one step of the remediator (x2 at most: 0.4 cores).
 */
export const LOOP_LIMIT_MILLICORES = 200;
const LOOP_WORKLOAD = { shape: 'duty', threads: 1, durationMs: 3_600_000, cpuMs: 30, everyMs: 100 } as const;

export type ReliefPath = 'rollout' | 'resize';

export interface ProbeReading {
  readonly pod: string;
  readonly containerId: string;
  readonly periods: number;
  readonly throttledRatio: number;
  readonly verdict: string;
}

export interface LoopResult {
  readonly path: ReliefPath;
  readonly throttle: ThrottleFinding;
  readonly remediation: RemediationFinding;
  /** The pod that was throttled, and the one that runs after relief (the same pod after a resize). */
  readonly before: { readonly pod: V1Pod; readonly cgroup: string; readonly kernelRatio: number; readonly probe: ProbeReading };
  readonly after: { readonly pod: V1Pod; readonly cgroup: string; readonly quotaUs: number; readonly kernelRatio: number; readonly probe: ProbeReading };
  /** The OCI spec containerd wrote for the relieved container. */
  readonly ociCpu: { readonly quota: number; readonly period: number; readonly cgroupsPath: string };
  /** The birth certificate of the new pod (rollout only). */
  readonly birth?: BirthFinding;
  readonly deploymentLimit: string | undefined;
  /** Milliseconds: workload throttled (first pod running) -> finding -> limit applied -> relief (new quota in force). */
  readonly timings: { readonly toFinding: number; readonly toApplied: number; readonly toRelief: number };
}

export interface LoopEnvironment {
  readonly node: LocalNode;
  readonly stack: Stack;
  readonly tail: FindingTail;
  readonly vizierAddress: string;
  stop(): Promise<void>;
}

/** Node, live Vizier over it, and the pipeline's stack on the node's control plane. */
export const startLoopEnvironment = async (options: { readonly logFile: string; readonly resizeInPlace: boolean }): Promise<LoopEnvironment> => {
  const log = createWriteStream(options.logFile, { flags: 'a' });
  const node = await startLocalNode({ output: (name, line) => log.write(`[${name}] ${line}\n`) });
  let stack: Stack | undefined;
  let tail: FindingTail | undefined;
  const stop = async (): Promise<void> => {
    await tail?.close().catch(() => undefined);
    await stack?.stop();
    await node.stop();
    await new Promise<void>((resolve) => log.end(resolve));
  };
  try {
    const host = await checkLabHost();
    let address = '';
    stack = await startStack({
      kernelMode: 'live',
      logFile: options.logFile,
      kube: node.kube,
      remediateEnv: { REMEDIATION_RESIZE_IN_PLACE: String(options.resizeInPlace) },
      startVizier: async () => {
        // Pods named from the API server, as Pixie's metadata service names them.
        const backend = await liveBackend(
          { bpftrace: host.bpftrace, listers: podListers({ kubeconfig: node.kube.kubeconfigPath, node: node.nodeName }) },
          { log: (event) => log.write(`[vizier] ${JSON.stringify(event)}\n`) },
        );
        const running = await startVizier({
          dataset: new Map(),
          engine: new PxlEngine(backend),
          apiKeys: [VIZIER_API_KEY],
          clusters: [{ id: VIZIER_CLUSTER_ID, name: 'local-vizier-node', status: 'CS_HEALTHY', faults: {} }],
        });
        address = running.address;
        return {
          address: running.address,
          stop: async () => {
            await running.stop();
            await backend.close();
          },
        };
      },
    });
    tail = await tailFindings(stack, 'kg-kernel-findings-loop-tail');
    await optIn(stack);
    const started = stack;
    const observe = async (name: 'observe-throttle' | 'observe-births', body: Record<string, unknown>): Promise<number> => {
      const response = await fetch(started.functions[name].url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      await response.arrayBuffer();
      return response.status;
    };
    await Promise.all([deployProbe(observe, 'observe-throttle'), deployProbe(observe, 'observe-births')]);
    return { node, stack, tail, vizierAddress: address, stop };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
};

/** The loop's namespace, opted in and in apply mode, with the remediator's apply permission bound. */
const optIn = async (stack: Stack): Promise<void> => {
  const config = new KubeConfig();
  config.loadFromFile(stack.kubeconfigs.admin);
  await config.makeApiClient(CoreV1Api).createNamespace({
    body: {
      metadata: {
        name: LOOP_NAMESPACE,
        labels: { 'kernel.gossip.io/remediation': 'enabled' },
        annotations: { 'kernel.gossip.io/remediation-mode': 'apply', 'kernel.gossip.io/cooldown': '1m' },
      },
    },
  });
  await config.makeApiClient(RbacAuthorizationV1Api).createNamespacedRoleBinding({
    namespace: LOOP_NAMESPACE,
    body: {
      metadata: { name: 'kernel-gossip-remediator-apply' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'kernel-gossip-remediator-apply' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: REMEDIATOR_USER }],
    },
  });
};

const iso = (ms: number): string => new Date(ms).toISOString();

/** The probe's view of one window: `cpu_throttle` through the Pixie client, verdicts per container. */
export const probeReadings = async (vizierAddress: string, end: number): Promise<ProbeReading[]> => {
  const pixie = createPixieClient({ clusterId: VIZIER_CLUSTER_ID, apiKey: VIZIER_API_KEY, address: vizierAddress, security: { kind: 'plaintext' } });
  try {
    const script = await loadScript('cpu_throttle', embeddedScriptReader);
    const window = { start: new Date(end - WINDOW_MS), end: new Date(end) };
    const [table] = await runOverWindows({ pixie, script, windows: [window], namespace: LOOP_NAMESPACE, deadline: new Date(Date.now() + 60_000) });
    if (table === undefined) {
      throw new Error('cpu_throttle returned no table');
    }
    return throttleCounters(table.table, window, 'local').map((counters) => {
      const verdict = throttleVerdict(counters);
      return {
        pod: counters.identity.pod,
        containerId: counters.identity.containerId ?? '',
        periods: verdict.measures.periods,
        throttledRatio: verdict.measures.throttledRatio ?? 0,
        verdict: verdict.kind,
      };
    });
  } finally {
    pixie.close();
  }
};

const cpuQuota = async (cgroup: string): Promise<number> => Number((await readFile(path.join(await hierarchyOf('cpu'), cgroup, 'cpu.cfs_quota_us'), 'utf8')).trim());

/** The kernel's throttled ratio of a cgroup over the next `ms` (cpu.stat before and after). */
const kernelRatio = async (cgroup: string, ms: number): Promise<number> => {
  const before = await readCpuStat(cgroup);
  await sleep(ms);
  const after = await readCpuStat(cgroup);
  const periods = Number(after.nrPeriods - before.nrPeriods);
  return periods === 0 ? 0 : Number(after.nrThrottled - before.nrThrottled) / periods;
};

const podCgroup = (pod: V1Pod): string => `/kubepods/burstable/pod${pod.metadata?.uid ?? ''}/${containerIdOf(pod, 'app')}`;

const readingOf = (readings: readonly ProbeReading[], pod: V1Pod): ProbeReading => {
  const id = containerIdOf(pod, 'app');
  const reading = readings.find((r) => id.startsWith(r.containerId) && r.containerId !== '') ?? readings.find((r) => r.pod === pod.metadata?.name);
  if (reading === undefined) {
    throw new Error(`the probe saw no container of pod ${pod.metadata?.name}: ${JSON.stringify(readings)}`);
  }
  return reading;
};

/** Runs the loop once on a started environment. */
export const runLoop = async (env: LoopEnvironment, reliefPath: ReliefPath, progress: (message: string) => void = () => undefined): Promise<LoopResult> => {
  const config = new KubeConfig();
  config.loadFromFile(env.stack.kubeconfigs.admin);
  const core = config.makeApiClient(CoreV1Api);
  const apps = config.makeApiClient(AppsV1Api);
  const deployment = nodeDeployment({
    namespace: LOOP_NAMESPACE,
    name: LOOP_DEPLOYMENT,
    image: env.node.image,
    container: 'app',
    workload: LOOP_WORKLOAD,
    cpuLimitMillicores: LOOP_LIMIT_MILLICORES,
    // The limit is the team's (kubectl's field), and they let kernel-gossip take it over.
    annotations: { 'kernel.gossip.io/take-ownership': 'cpu-limit' },
    // A resized pod stays a while after the rollout's new pod is ready, so the probe sees it relieved.
    ...(reliefPath === 'resize' ? { minReadySeconds: 30 } : {}),
  });
  await apps.createNamespacedDeployment({ namespace: LOOP_NAMESPACE, body: deployment, fieldManager: 'kubectl-client-side-apply' });
  const [first] = await waitRolledOut(apps, core, LOOP_NAMESPACE, LOOP_DEPLOYMENT);
  if (first === undefined) {
    throw new Error('the Deployment rolled out no pod');
  }
  const throttledFrom = Date.now();
  const firstCgroup = podCgroup(first);
  progress(`${LOOP_NAMESPACE}/${LOOP_DEPLOYMENT} runs as ${first.metadata?.name} at ${LOOP_LIMIT_MILLICORES}m; throttled for three windows`);
  // A little more than the three windows observe-throttle reads, so the first starts with the pod running.
  await sleep(2_000);
  const ratioBefore = await kernelRatio(firstCgroup, 3 * WINDOW_MS);
  const observedAt = Date.now();
  const call = await schedulerCall(env.stack, 'observe-throttle', { start: iso(observedAt - WINDOW_MS), end: iso(observedAt) });
  progress(`observe-throttle: ${String(call.body['containers'])} containers, ${String(call.body['findings'])} findings`);
  const throttle = await waitFor(
    'the throttle finding of the Deployment',
    () => Promise.resolve(env.tail.findings().find((f): f is ThrottleFinding => f.kind === 'cpu.throttle' && f.namespace === LOOP_NAMESPACE && f.workload.name === LOOP_DEPLOYMENT)),
    30_000,
  );
  const foundAt = Date.now();
  const probeBefore = readingOf(await probeReadings(env.vizierAddress, observedAt), first);
  const remediation = await waitFor(
    'the remediation result',
    () => Promise.resolve(env.tail.findings().find((f): f is RemediationFinding => f.kind === 'remediation.result' && f.remediation.findingId === throttle.id)),
    60_000,
  );
  const appliedAt = Date.now();
  if (remediation.remediation.outcome !== 'applied' || remediation.remediation.toLimitMillicores === undefined) {
    throw new Error(`remediate did not apply: ${remediation.remediation.outcome}: ${remediation.remediation.reason}`);
  }
  const quotaUs = (remediation.remediation.toLimitMillicores * PERIOD_US) / 1000;
  progress(`remediate: ${remediation.remediation.outcome} ${remediation.remediation.fromLimitMillicores}m -> ${remediation.remediation.toLimitMillicores}m, ${remediation.remediation.podsResized} pods resized`);

  let relieved: V1Pod;
  let relievedAt: number;
  let birth: BirthFinding | undefined;
  if (reliefPath === 'resize') {
    await pollUntil('the resized quota of the running pod', () => cpuQuota(firstCgroup), (q) => q === quotaUs, 30_000);
    relievedAt = Date.now();
    relieved = await core.readNamespacedPod({ namespace: LOOP_NAMESPACE, name: first.metadata?.name ?? '' });
  } else {
    const rolledOut = await waitRolledOut(apps, core, LOOP_NAMESPACE, LOOP_DEPLOYMENT, 120_000);
    const fresh = rolledOut.find((p) => p.metadata?.uid !== first.metadata?.uid);
    if (fresh === undefined) {
      throw new Error('the rollout made no new pod');
    }
    relieved = fresh;
    relievedAt = Date.now();
    // Let the birth probe's last lines reach the Vizier, then ask for the birth window.
    await sleep(1_500);
    const births = await schedulerCall(env.stack, 'observe-births', { start: iso(appliedAt - 2_000), end: iso(Date.now()) });
    progress(`observe-births: ${String(births.body['findings'])} findings`);
    birth = await waitFor(
      `the birth certificate of ${fresh.metadata?.name}`,
      () => Promise.resolve(env.tail.findings().find((f): f is BirthFinding => f.kind === 'pod.birth' && f.birth.podUid === fresh.metadata?.uid)),
      30_000,
    );
  }
  const relievedCgroup = podCgroup(relieved);
  const ratioAfter = await kernelRatio(relievedCgroup, WINDOW_MS);
  const probeAfter = readingOf(await probeReadings(env.vizierAddress, Date.now()), relieved);
  const info = JSON.parse(await env.node.ctr(['containers', 'info', containerIdOf(relieved, 'app')])) as { Spec: { linux: { cgroupsPath: string; resources: { cpu: { quota: number; period: number } } } } };
  const current = await apps.readNamespacedDeployment({ namespace: LOOP_NAMESPACE, name: LOOP_DEPLOYMENT });
  return {
    path: reliefPath,
    throttle,
    remediation,
    before: { pod: first, cgroup: firstCgroup, kernelRatio: ratioBefore, probe: probeBefore },
    after: { pod: relieved, cgroup: relievedCgroup, quotaUs: await cpuQuota(relievedCgroup), kernelRatio: ratioAfter, probe: probeAfter },
    ociCpu: { ...info.Spec.linux.resources.cpu, cgroupsPath: info.Spec.linux.cgroupsPath },
    ...(birth === undefined ? {} : { birth }),
    deploymentLimit: current.spec?.template.spec?.containers[0]?.resources?.limits?.['cpu'],
    timings: { toFinding: foundAt - throttledFrom, toApplied: appliedAt - throttledFrom, toRelief: relievedAt - throttledFrom },
  };
};

/** The analysis' target: a throttled ratio below it is "not throttled". */
export const TARGET_THROTTLED_RATIO = DEFAULT_THROTTLE_CONFIG.targetThrottledRatio;
