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
import type { CpuStat } from '../lab/cpu-stat.ts';
import { checkLabHost } from '../lab/host.ts';
import { startNodeVizier } from './node-feed.ts';
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
 * The workload: one thread that needs 6 ms of CPU every 100 ms (0.06 cores) under a 50m limit (a
 * 5 ms quota per 100 ms period). Below its need the duty burner is always behind (it starts its
 * next tick at once, dropping the ones it missed), so it is runnable all the time and throttled in
 * every period in which the pod gets 5 ms of CPU: on this 2-core machine at load 20 the `kubepods`
 * group (weight 2048 beside each root task's 1024) still gets about 0.18 cores, far above 5 ms per
 * period, so the throttling does not depend on how busy the machine is. The remediator may at most
 * double a limit per step (100m, a 10 ms quota), which covers the 6 ms need with room to spare.
 * The request stays below the limit so the pod is Burstable (`kubepods/burstable/pod<uid>`).
 *
 * The pod also runs an idle sidecar with a CPU request and no CPU limit, so that the kernel charges
 * all of the throttling to the app container's own counters. When every container of a pod has a
 * CPU limit, the kubelet writes their sum as the pod cgroup's quota too (kubernetes v1.34
 * pkg/kubelet/cm/helpers_linux.go:134-198, ResourceConfigForPod: CPUQuota only if
 * cpuLimitsDeclared): with one container, the same 5 ms per 100 ms twice, each level with its own
 * period timer started at its own time. The thread then waits under whichever level ran out, and the
 * container's cpu.stat (and the probe, which reads the container's task group) counts only the part
 * spent under its own throttled run queue. Measured on this node (cgroup v1, Linux 6.18, load ~20,
 * test/bench/node-pod-quota.ts, docs/benchmarks.md): four identical pods started together counted
 * 14% to 64% of the container's active time as throttled at the container level, each pod in its own
 * range (the phase of its two timers), and the pod cgroup 7% to 73%; an unlucky phase leaves the
 * container's counters under the analysis' 10% wait share ("idle-inflated") in every window, which
 * is what the stop-22 CI run saw for 4 min. Without a pod quota (the sidecar has no limit) the container's
 * own counters showed 66% to 80% in every window: far from every verdict threshold.
 */
export const LOOP_LIMIT_MILLICORES = 50;
export const LOOP_REQUEST_MILLICORES = 20;
export const LOOP_WORKLOAD = { shape: 'duty', threads: 1, durationMs: 3_600_000, cpuMs: 6, everyMs: 100 } as const;
export const LOOP_SIDECAR = { name: 'sidecar', workload: { shape: 'idle', durationMs: 3_600_000 }, cpuRequestMillicores: 10 } as const;
/** Generous deadlines for conditions on kernel facts (a loaded 2-core machine is slow, never wrong). */
const THROTTLED_DEADLINE_MS = 120_000;
const FINDING_DEADLINE_MS = 240_000;
const RELIEF_DEADLINE_MS = 180_000;

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
  /** Before: the kernel's counts from the pod's start to the actionable finding, the probe's in the finding's window. */
  readonly before: { readonly pod: V1Pod; readonly cgroup: string; readonly kernel: KernelSpan; readonly probe: ProbeReading; readonly podQuotaUs: number };
  /** After: the first window in which the kernel and the probe both saw the throttling end. */
  readonly after: { readonly pod: V1Pod; readonly cgroup: string; readonly quotaUs: number; readonly kernel: KernelSpan; readonly probe: ProbeReading; readonly podQuotaUs: number };
  /** The OCI spec containerd wrote for the relieved container. */
  readonly ociCpu: { readonly quota: number; readonly period: number; readonly cgroupsPath: string };
  /** The birth certificate of the new pod (rollout only). */
  readonly birth?: BirthFinding;
  readonly deploymentLimit: string | undefined;
  /**
   * Milliseconds from the first throttled periods in the pod's cpu.stat to: the actionable finding
   * (its producedAt), the remediation result (limit applied, its producedAt), the new limit in force
   * (the resized quota read from the cgroup, or the exec of the rollout's new container as the birth
   * probe saw it), and the end of the first window the kernel and probe saw unthrottled.
   */
  readonly timings: { readonly toFinding: number; readonly toApplied: number; readonly toRelief: number; readonly toUnthrottled: number };
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
    await checkLabHost();
    let address = '';
    stack = await startStack({
      kernelMode: 'live',
      logFile: options.logFile,
      kube: node.kube,
      remediateEnv: { REMEDIATION_RESIZE_IN_PLACE: String(options.resizeInPlace) },
      startVizier: async () => {
        const running = await startNodeVizier(node, (name, line) => log.write(`[${name}] ${line}\n`));
        address = running.address;
        return running;
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

/** What the kernel counted for a cgroup between two reads of its cpu.stat. */
export interface KernelSpan {
  readonly periods: number;
  readonly throttled: number;
  /** throttled / periods (0 without periods). */
  readonly ratio: number;
  readonly ms: number;
}

interface StatAt {
  readonly stat: CpuStat;
  readonly at: number;
}

const statNow = async (cgroup: string): Promise<StatAt> => ({ stat: await readCpuStat(cgroup), at: Date.now() });

/** The kernel's counts between two reads (pure). */
export const kernelSpan = (from: StatAt, to: StatAt): KernelSpan => {
  const periods = Number(to.stat.nrPeriods - from.stat.nrPeriods);
  const throttled = Number(to.stat.nrThrottled - from.stat.nrThrottled);
  return { periods, throttled, ratio: periods === 0 ? 0 : throttled / periods, ms: to.at - from.at };
};

/** The pod cgroup (`cgroupfs` driver, Burstable) and the app container's cgroup under it. */
const podLevelCgroup = (pod: V1Pod): string => `/kubepods/burstable/pod${pod.metadata?.uid ?? ''}`;
const podCgroup = (pod: V1Pod): string => `${podLevelCgroup(pod)}/${containerIdOf(pod, 'app')}`;

const findReading = (readings: readonly ProbeReading[], pod: V1Pod): ProbeReading | undefined => {
  const id = containerIdOf(pod, 'app');
  return readings.find((r) => id.startsWith(r.containerId) && r.containerId !== '') ?? readings.find((r) => r.pod === pod.metadata?.name);
};

const throttleOf = (env: LoopEnvironment): ThrottleFinding[] =>
  env.tail.findings().filter((f): f is ThrottleFinding => f.kind === 'cpu.throttle' && f.namespace === LOOP_NAMESPACE && f.workload.name === LOOP_DEPLOYMENT);

/**
 * Cloud Scheduler's calls to observe-throttle, one per new window, until a finding recommends action
 * on the Deployment (three actionable windows in a row): whether a given window is actionable
 * depends on how much CPU the pod got, so the loop asks again rather than judging one window.
 */
const observeUntilActionable = async (env: LoopEnvironment, cgroup: string, progress: (message: string) => void): Promise<{ finding: ThrottleFinding; stat: StatAt }> => {
  const until = Date.now() + FINDING_DEADLINE_MS;
  // The pod's cpu.stat at the end of each window asked for: the rollout may remove the pod soon after.
  const stats: StatAt[] = [];
  for (;;) {
    const actionable = throttleOf(env).find((f) => f.throttle.actionRecommended);
    if (actionable !== undefined) {
      const end = Date.parse(actionable.observedWindow.end);
      const nearest = stats.reduce<StatAt | undefined>((best, s) => (best === undefined || Math.abs(s.at - end) < Math.abs(best.at - end) ? s : best), undefined);
      if (nearest !== undefined) {
        return { finding: actionable, stat: nearest };
      }
    }
    if (Date.now() > until) {
      const seen = throttleOf(env).map((f) => `${f.observedWindow.end}: ${f.throttle.verdict}, ${f.throttle.consecutiveWindows} windows`);
      throw new Error(`no actionable throttle finding for ${LOOP_NAMESPACE}/${LOOP_DEPLOYMENT} in ${FINDING_DEADLINE_MS} ms (findings: ${seen.join('; ') || 'none'})`);
    }
    const stat = await statNow(cgroup);
    const end = stat.at;
    stats.push(stat);
    const call = await schedulerCall(env.stack, 'observe-throttle', { start: iso(end - WINDOW_MS), end: iso(end) });
    progress(`observe-throttle ${iso(end)}: ${String(call.body['containers'])} containers, ${String(call.body['findings'])} findings`);
    // The next call covers the next window; meanwhile the tail receives what this one published.
    while (Date.now() < end + WINDOW_MS && !throttleOf(env).some((f) => f.throttle.actionRecommended)) {
      await sleep(250);
    }
  }
};

/** observe-births over the rollout, asked again until the new pod's birth certificate is on the topic. */
const observeBirthOf = async (env: LoopEnvironment, pod: V1Pod, from: number, progress: (message: string) => void): Promise<BirthFinding> => {
  const until = Date.now() + RELIEF_DEADLINE_MS;
  const uid = pod.metadata?.uid;
  for (;;) {
    const birth = env.tail.findings().find((f): f is BirthFinding => f.kind === 'pod.birth' && f.birth.podUid === uid);
    if (birth !== undefined) {
      return birth;
    }
    if (Date.now() > until) {
      throw new Error(`no birth certificate of ${pod.metadata?.name} (${uid}) in ${RELIEF_DEADLINE_MS} ms`);
    }
    const births = await schedulerCall(env.stack, 'observe-births', { start: iso(from), end: iso(Date.now()) });
    progress(`observe-births: ${String(births.body['findings'])} findings`);
    await sleep(WINDOW_MS);
  }
};

interface Relief {
  readonly kernel: KernelSpan;
  readonly probe: ProbeReading;
  /** End of the first window in which both saw the throttling end. */
  readonly at: number;
}

/**
 * Window after window on the relieved container, until the kernel's cpu.stat and the probe (through
 * the live Vizier) both count a throttled ratio below the analysis' target over the same window.
 */
const waitUnthrottled = async (env: LoopEnvironment, pod: V1Pod, cgroup: string): Promise<Relief> => {
  const until = Date.now() + RELIEF_DEADLINE_MS;
  let last = 'no window yet';
  for (;;) {
    const from = await statNow(cgroup);
    await sleep(WINDOW_MS);
    const to = await statNow(cgroup);
    // The probe reads cpu.stat on its own schedule: let its last sample of the window arrive.
    await sleep(1_500);
    const kernel = kernelSpan(from, to);
    const probe = findReading(await probeReadings(env.vizierAddress, to.at), pod);
    if (probe !== undefined && probe.periods > 0 && probe.throttledRatio < TARGET_THROTTLED_RATIO && kernel.periods > 0 && kernel.ratio < TARGET_THROTTLED_RATIO) {
      return { kernel, probe, at: to.at };
    }
    last = `kernel ${kernel.throttled}/${kernel.periods} periods throttled, probe ${probe === undefined ? 'no reading' : `${probe.throttledRatio.toFixed(3)} of ${probe.periods} periods (${probe.verdict})`}`;
    if (Date.now() > until) {
      throw new Error(`the throttling of ${pod.metadata?.name} did not end within ${RELIEF_DEADLINE_MS} ms (last window: ${last})`);
    }
  }
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
    cpuRequestMillicores: LOOP_REQUEST_MILLICORES,
    unlimitedSidecar: LOOP_SIDECAR,
    // The limit is the team's (kubectl's field), and they let kernel-gossip take it over.
    annotations: { 'kernel.gossip.io/take-ownership': 'cpu-limit' },
  });
  await apps.createNamespacedDeployment({ namespace: LOOP_NAMESPACE, body: deployment, fieldManager: 'kubectl-client-side-apply' });
  const [first] = await waitRolledOut(apps, core, LOOP_NAMESPACE, LOOP_DEPLOYMENT, RELIEF_DEADLINE_MS);
  if (first === undefined) {
    throw new Error('the Deployment rolled out no pod');
  }
  if (reliefPath === 'resize') {
    // The remediator's apply also changes the template, so a rollout follows the resize: the resized
    // pod stays until its successor has been ready this long, time enough to watch its relief. Set
    // after the first rollout, which would wait as long; not part of the template, so no rollout.
    const current = await apps.readNamespacedDeployment({ namespace: LOOP_NAMESPACE, name: LOOP_DEPLOYMENT });
    if (current.spec === undefined) {
      throw new Error('the Deployment has no spec');
    }
    current.spec.minReadySeconds = 300;
    await apps.replaceNamespacedDeployment({ namespace: LOOP_NAMESPACE, name: LOOP_DEPLOYMENT, body: current, fieldManager: 'kubectl-client-side-apply' });
  }
  const firstCgroup = podCgroup(first);
  // -1 (no quota) expected: see LOOP_SIDECAR. Read now, as the rollout may remove the pod later.
  const firstPodQuotaUs = await cpuQuota(podLevelCgroup(first));
  const born = await statNow(firstCgroup);
  // The kernel's own counters say when the throttling started.
  await pollUntil(
    `throttling of ${first.metadata?.name} in its cpu.stat`,
    () => statNow(firstCgroup),
    (s) => kernelSpan(born, s).throttled >= 3,
    THROTTLED_DEADLINE_MS,
    (s) => JSON.stringify(kernelSpan(born, s)),
  );
  const throttledFrom = Date.now();
  progress(`${LOOP_NAMESPACE}/${LOOP_DEPLOYMENT} runs as ${first.metadata?.name} at ${LOOP_LIMIT_MILLICORES}m, throttled (cpu.stat)`);
  const { finding: throttle, stat: atFinding } = await observeUntilActionable(env, firstCgroup, progress);
  const kernelBefore = kernelSpan(born, atFinding);
  // The probe's view of the throttled pod is the finding's own evidence (the pod may already be gone).
  const evidence = throttle.throttle.pods.find((p) => p.pod === first.metadata?.name);
  if (evidence === undefined) {
    throw new Error(`the finding names other pods than ${first.metadata?.name}: ${throttle.throttle.pods.map((p) => p.pod).join(', ')}`);
  }
  const probeBefore: ProbeReading = { pod: evidence.pod, containerId: '', periods: evidence.counters.periods, throttledRatio: evidence.throttledRatio, verdict: throttle.throttle.verdict };
  const remediation = await waitFor(
    'the remediation result',
    () => Promise.resolve(env.tail.findings().find((f): f is RemediationFinding => f.kind === 'remediation.result' && f.remediation.findingId === throttle.id)),
    120_000,
  );
  if (remediation.remediation.outcome !== 'applied' || remediation.remediation.toLimitMillicores === undefined) {
    throw new Error(`remediate did not apply: ${remediation.remediation.outcome}: ${remediation.remediation.reason}`);
  }
  const quotaUs = (remediation.remediation.toLimitMillicores * PERIOD_US) / 1000;
  progress(`remediate: ${remediation.remediation.outcome} ${remediation.remediation.fromLimitMillicores}m -> ${remediation.remediation.toLimitMillicores}m, ${remediation.remediation.podsResized} pods resized`);

  let relieved: V1Pod;
  let birth: BirthFinding | undefined;
  let relievedAt: number;
  if (reliefPath === 'resize') {
    await pollUntil('the resized quota of the running pod', () => cpuQuota(firstCgroup), (q) => q === quotaUs, RELIEF_DEADLINE_MS);
    relievedAt = Date.now();
    relieved = await pollUntil(
      'the resized limit in the pod status',
      () => core.readNamespacedPod({ namespace: LOOP_NAMESPACE, name: first.metadata?.name ?? '' }),
      (p) => p.status?.containerStatuses?.find((c) => c.name === 'app')?.resources?.limits?.['cpu'] === `${remediation.remediation.toLimitMillicores}m`,
      RELIEF_DEADLINE_MS,
      (p) => JSON.stringify(p.status?.containerStatuses?.map((c) => c.resources) ?? []),
    );
  } else {
    const rolledOut = await waitRolledOut(apps, core, LOOP_NAMESPACE, LOOP_DEPLOYMENT, RELIEF_DEADLINE_MS);
    const fresh = rolledOut.find((p) => p.metadata?.uid !== first.metadata?.uid);
    if (fresh === undefined) {
      throw new Error('the rollout made no new pod');
    }
    relieved = fresh;
    relievedAt = Date.now();
  }
  const relievedCgroup = podCgroup(relieved);
  if (reliefPath === 'rollout') {
    // From the end of the finding's window: the remediator acted after it, so the new pod was born after it.
    birth = await observeBirthOf(env, relieved, Date.parse(throttle.observedWindow.end), progress);
    // The new limit is in force from the exec of the new container's entrypoint (the probe's clock).
    const id = containerIdOf(relieved, 'app');
    const exec = birth.birth.containers.find((c) => !c.sandbox && c.containerId !== '' && id.startsWith(c.containerId))?.entrypointExecAt;
    relievedAt = exec === undefined ? Date.now() : Date.parse(exec);
  }
  const relief = await waitUnthrottled(env, relieved, relievedCgroup);
  progress(`relieved: kernel ${relief.kernel.throttled}/${relief.kernel.periods} periods throttled, probe ${relief.probe.throttledRatio.toFixed(3)}`);
  const info = JSON.parse(await env.node.ctr(['containers', 'info', containerIdOf(relieved, 'app')])) as { Spec: { linux: { cgroupsPath: string; resources: { cpu: { quota: number; period: number } } } } };
  const current = await apps.readNamespacedDeployment({ namespace: LOOP_NAMESPACE, name: LOOP_DEPLOYMENT });
  return {
    path: reliefPath,
    throttle,
    remediation,
    before: { pod: first, cgroup: firstCgroup, kernel: kernelBefore, probe: probeBefore, podQuotaUs: firstPodQuotaUs },
    after: { pod: relieved, cgroup: relievedCgroup, quotaUs: await cpuQuota(relievedCgroup), kernel: relief.kernel, probe: relief.probe, podQuotaUs: await cpuQuota(podLevelCgroup(relieved)) },
    ociCpu: { ...info.Spec.linux.resources.cpu, cgroupsPath: info.Spec.linux.cgroupsPath },
    ...(birth === undefined ? {} : { birth }),
    deploymentLimit: current.spec?.template.spec?.containers.find((c) => c.name === 'app')?.resources?.limits?.['cpu'],
    timings: { toFinding: Date.parse(throttle.producedAt) - throttledFrom, toApplied: Date.parse(remediation.producedAt) - throttledFrom, toRelief: relievedAt - throttledFrom, toUnthrottled: relief.at - throttledFrom },
  };
};

/** The analysis' target: a throttled ratio below it is "not throttled". */
export const TARGET_THROTTLED_RATIO = DEFAULT_THROTTLE_CONFIG.targetThrottledRatio;
