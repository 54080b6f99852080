/**
 * From per-window container counters to `cpu.throttle` findings (pure).
 *
 * One observe run reads the last N windows from Pixie (N = the consecutive windows the analysis
 * needs), so the streak of actionable windows comes from the kernel's own history, not from state
 * kept between runs. Each workload is stepped through the windows in order; a window in which it
 * has no data breaks its streak. A finding is published for every workload container whose latest
 * verdict is not `healthy` or `inconclusive`.
 *
 * @module
 */
import {
  type ContainerCounters,
  DEFAULT_THROTTLE_CONFIG,
  VERDICT_SEVERITIES,
  stepWorkload,
  type ThrottleConfig,
  throttleVerdict,
  type ThrottleVerdict,
  type WorkloadState,
  type WorkloadVerdict,
} from '../analysis/index.ts';
import { stableId } from '../findings/codec.ts';
import { FINDING_SCHEMA_VERSION } from '../findings/schema.ts';
import type { FindingSeverity, KernelSource, PodThrottle, ThrottleFinding } from '../findings/types.ts';

/** A window's length as the summary names it: `5-minute`, or `10 s` for a manual window. */
const formatSeconds = (seconds: number): string => (seconds % 60 === 0 ? `${seconds / 60}-minute` : `${seconds} s`);

export interface WindowCounters {
  readonly window: { readonly start: Date; readonly end: Date };
  readonly counters: readonly ContainerCounters[];
}

export interface ThrottleFindingContext {
  readonly cluster: string;
  readonly source: KernelSource;
  readonly producedAt: Date;
  readonly config?: ThrottleConfig;
}

/** Verdict kinds that say nothing worth a message. */
const QUIET = new Set(['healthy', 'inconclusive']);

const SEVERITY: Readonly<Record<string, FindingSeverity>> = { none: 'info', info: 'info', warning: 'warning', critical: 'critical' };

const iso = (ms: number): string => new Date(ms).toISOString();

const workloadKey = (v: ThrottleVerdict): string =>
  `${v.identity.namespace ?? ''}\u0000${v.identity.owner?.kind ?? 'Pod'}\u0000${v.identity.owner?.name ?? v.identity.pod}`;

const podEvidence = (v: ThrottleVerdict): PodThrottle => {
  const m = v.measures;
  const periodUs = Math.round(m.periodNs / 1000);
  const cpuUse = m.cpuUse;
  return {
    pod: v.identity.pod,
    node: v.identity.node ?? '',
    counters: {
      periods: m.periods,
      throttledPeriods: m.throttledPeriods,
      throttledTimeNs: m.throttledTimeNs,
      ...(m.bursts === undefined ? {} : { bursts: m.bursts }),
      ...(m.burstTimeNs === undefined ? {} : { burstTimeNs: m.burstTimeNs }),
      quotaUs: Math.round((m.quotaNs ?? 0) / 1000),
      periodUs,
      ...(m.burstNs > 0 ? { burstUs: Math.round(m.burstNs / 1000) } : {}),
    },
    throttledRatio: m.throttledRatio ?? 0,
    throttledSecondsPerSecond: m.throttledSecondsPerSecond,
    ...(cpuUse?.source === 'measured' ? { meanUseOfLimit: cpuUse.meanShare, cpuSeconds: cpuUse.usedNs / 1e9 } : {}),
    counterReset: m.resets > 0,
  };
};

const thresholdsOf = (config: ThrottleConfig) =>
  (['minThrottledRatio', 'minWaitShare', 'minThrottledPeriods', 'saturatedUseShare', 'criticalWaitShare', 'targetThrottledRatio', 'consecutiveWindows'] as const).map(
    (name) => ({ name, value: config[name] }),
  );

const findingFor = (
  latest: WorkloadVerdict,
  container: WorkloadVerdict['containers'][number],
  verdicts: readonly ThrottleVerdict[],
  context: ThrottleFindingContext,
  config: ThrottleConfig,
): ThrottleFinding => {
  const first = verdicts[0];
  if (first === undefined) {
    throw new Error('a finding needs at least one pod verdict');
  }
  const pods = verdicts.map(podEvidence);
  const periods = pods.reduce((sum, p) => sum + p.counters.periods, 0);
  const throttled = pods.reduce((sum, p) => sum + p.counters.throttledPeriods, 0);
  const allMeasured = pods.every((p) => p.meanUseOfLimit !== undefined);
  const meanUse = allMeasured ? pods.reduce((sum, p) => sum + (p.meanUseOfLimit ?? 0), 0) / pods.length : undefined;
  const limitMillicores = Math.round(((first.measures.quotaNs ?? 0) / first.measures.periodNs) * 1000);
  const recommendation = container.recommendation;
  const namespace = first.identity.namespace ?? '';
  const workload = { kind: first.identity.owner?.kind ?? 'Pod', name: first.identity.owner?.name ?? first.identity.pod, container: container.container };
  const observedWindow = { start: iso(latest.window.startMs), end: iso(latest.window.endMs), seconds: (latest.window.endMs - latest.window.startMs) / 1000 };
  const worst = verdicts.reduce((a, b) => (VERDICT_SEVERITIES.indexOf(b.severity) > VERDICT_SEVERITIES.indexOf(a.severity) ? b : a));
  const ratio = periods === 0 ? 0 : throttled / periods;
  const use = meanUse === undefined ? 'CPU use not measured' : `mean use ${(meanUse * 100).toFixed(0)}% of the limit`;
  return {
    schemaVersion: FINDING_SCHEMA_VERSION,
    kind: 'cpu.throttle',
    id: stableId('cpu.throttle', { cluster: context.cluster, namespace, workload, window: observedWindow, pods: pods.map((p) => [p.pod, p.counters]) }),
    cluster: context.cluster,
    namespace,
    workload,
    observedWindow,
    severity: SEVERITY[worst.severity] ?? 'info',
    source: context.source,
    producedAt: context.producedAt.toISOString(),
    // A window is one schedule interval of observe-throttle (observedWindow.seconds); the streak counts them.
    summary: `${namespace}/${workload.name} ${container.container}: ${container.kind}: throttled in ${(ratio * 100).toFixed(0)}% of periods, ${use}; ${container.streak} consecutive ${formatSeconds(observedWindow.seconds)} window${container.streak === 1 ? '' : 's'}`,
    throttle: {
      verdict: container.kind,
      reason: [...new Set(verdicts.flatMap((v) => v.reasons))].join('; ').slice(0, 2000),
      throttledRatio: ratio,
      throttledSecondsPerSecond: pods.reduce((sum, p) => sum + p.throttledSecondsPerSecond, 0),
      ...(meanUse === undefined ? {} : { meanUseOfLimit: meanUse }),
      limitMillicores,
      ...(recommendation === undefined
        ? {}
        : {
            recommendedLimitMillicores: Math.ceil(recommendation.recommendedCores * 1000),
            expectedThrottledRatio: recommendation.expectedThrottledRatio,
          }),
      consecutiveWindows: container.streak,
      actionRecommended: container.recommendAction,
      pods,
      thresholds: thresholdsOf(config),
    },
  };
};

/** Analyses the windows (oldest first) and returns the findings of the latest one. */
export const throttleFindings = (windows: readonly WindowCounters[], context: ThrottleFindingContext): ThrottleFinding[] => {
  const config = context.config ?? DEFAULT_THROTTLE_CONFIG;
  const ordered = [...windows].sort((a, b) => a.window.end.getTime() - b.window.end.getTime());
  const latestEnd = ordered.at(-1)?.window.end.getTime();
  const states = new Map<string, WorkloadState>();
  const latest = new Map<string, { verdict: WorkloadVerdict; verdicts: ThrottleVerdict[] }>();
  for (const { window, counters } of ordered) {
    const byWorkload = new Map<string, ThrottleVerdict[]>();
    for (const c of counters) {
      const verdict = throttleVerdict(c, config);
      const key = workloadKey(verdict);
      byWorkload.set(key, [...(byWorkload.get(key) ?? []), verdict]);
    }
    for (const [key, verdicts] of byWorkload) {
      const step = stepWorkload(states.get(key), verdicts, config);
      states.set(key, step.state);
      if (window.end.getTime() === latestEnd) {
        latest.set(key, { verdict: step.verdict, verdicts });
      }
    }
  }
  const findings: ThrottleFinding[] = [];
  for (const { verdict, verdicts } of latest.values()) {
    for (const container of verdict.containers) {
      if (QUIET.has(container.kind)) {
        continue;
      }
      const ofContainer = verdicts.filter((v) => v.identity.container === container.container);
      findings.push(findingFor(verdict, container, ofContainer, context, config));
    }
  }
  return findings.sort((a, b) => a.id.localeCompare(b.id));
};
