/**
 * Throttle verdicts: what the kernel's CFS bandwidth counters say about one container over one
 * window, next to what averaged CPU metrics would show.
 *
 * The central quantity is the *wait share*: throttled run-queue time divided by the time the group
 * was active (active periods x period). It says how much of the container's busy time its runnable
 * work spent parked by the quota, which is what stretches request latency. The throttled-period
 * ratio (the number the kubernetes-mixin alert uses) is reported too, but alone it cannot tell a
 * container that lost 2 ms once in three active periods from one whose every request waits 80 ms.
 *
 * @module
 */

import { cfsDelta, limitCores, type CfsDelta, type ContainerCounters, type ContainerIdentity } from './cfs.ts';
import { DEFAULT_THROTTLE_CONFIG, type ThrottleConfig } from './throttle-config.ts';

/** Verdict kinds, from most to least in need of action. */
export const THROTTLE_VERDICTS = ['saturated', 'metrics-lie', 'startup-burst', 'idle-inflated', 'healthy', 'inconclusive'] as const;
export type ThrottleVerdictKind = (typeof THROTTLE_VERDICTS)[number];

/** Severities in increasing order. */
export const VERDICT_SEVERITIES = ['none', 'info', 'warning', 'critical'] as const;
export type VerdictSeverity = (typeof VERDICT_SEVERITIES)[number];

/** How mean CPU use was obtained. */
export type CpuUse =
  | {
      /** CPU time was measured (e.g. process_stats). */
      readonly source: 'measured';
      readonly usedNs: number;
      /** Mean use over the window as a share of the limit: what a dashboard of averages shows. */
      readonly meanShare: number;
    }
  | {
      /**
       * CPU time was not measured; the kernel bounds it: each throttled period used its whole quota
       * (plus any burst used), and no active period used more than quota + burst.
       */
      readonly source: 'kernel-bounds';
      readonly minShare: number;
      readonly maxShare: number;
    };

/** The numbers behind a verdict. Ratios are `null` when their denominator is zero. */
export interface ThrottleMeasures extends CfsDelta {
  readonly wallNs: number;
  readonly quotaNs: number | null;
  readonly periodNs: number;
  readonly burstNs: number;
  readonly limitCores: number | null;
  /** Throttled periods / active periods: the ratio the kubernetes-mixin alert computes. */
  readonly throttledRatio: number | null;
  /** Throttled run-queue seconds per wall-clock second. */
  readonly throttledSecondsPerSecond: number;
  /** Active periods x period / wall time: how much of the window the container had runnable work. */
  readonly activeShare: number;
  /** Throttled time / (active periods x period): how much of its busy time work spent waiting. */
  readonly waitShare: number | null;
  /** Mean throttled time per throttled period (ns). */
  readonly meanWaitPerThrottledPeriodNs: number | null;
  readonly cpuUse: CpuUse | null;
}

/** The finding for one container over one window. */
export interface ThrottleVerdict {
  readonly identity: ContainerIdentity;
  readonly window: { readonly startMs: number; readonly endMs: number };
  readonly kind: ThrottleVerdictKind;
  readonly severity: VerdictSeverity;
  /** Whether a user should act on this window (the limit is hurting work). */
  readonly actionable: boolean;
  /** Why, in words that carry the numbers. */
  readonly reasons: readonly string[];
  readonly measures: ThrottleMeasures;
}

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
const ms = (ns: number): string => `${(ns / 1e6).toFixed(1)} ms`;

/** Computes the window's measures from its counters (no judgement yet). */
export const throttleMeasures = (counters: ContainerCounters): ThrottleMeasures => {
  const delta = cfsDelta(counters.samples);
  const { quotaNs, periodNs } = counters.bandwidth;
  const burstNs = counters.bandwidth.burstNs ?? 0;
  const wallNs = (counters.window.endMs - counters.window.startMs) * 1e6;
  const cores = limitCores(counters.bandwidth);
  const activeNs = delta.periods * periodNs;
  let cpuUse: CpuUse | null = null;
  if (cores !== null && quotaNs !== null && wallNs > 0) {
    const capacityNs = wallNs * cores;
    if (counters.cpuUsedNs !== undefined) {
      cpuUse = { source: 'measured', usedNs: counters.cpuUsedNs, meanShare: counters.cpuUsedNs / capacityNs };
    } else {
      const minNs = delta.throttledPeriods * quotaNs + (delta.burstTimeNs ?? 0);
      const maxNs = Math.max(minNs, delta.periods * (quotaNs + burstNs));
      cpuUse = { source: 'kernel-bounds', minShare: minNs / capacityNs, maxShare: Math.min(maxNs / capacityNs, Math.max(1, minNs / capacityNs)) };
    }
  }
  return {
    ...delta,
    wallNs,
    quotaNs,
    periodNs,
    burstNs,
    limitCores: cores,
    throttledRatio: delta.periods > 0 ? delta.throttledPeriods / delta.periods : null,
    throttledSecondsPerSecond: wallNs > 0 ? delta.throttledTimeNs / wallNs : 0,
    activeShare: wallNs > 0 ? Math.min(1, activeNs / wallNs) : 0,
    waitShare: activeNs > 0 ? delta.throttledTimeNs / activeNs : null,
    meanWaitPerThrottledPeriodNs: delta.throttledPeriods > 0 ? delta.throttledTimeNs / delta.throttledPeriods : null,
    cpuUse,
  };
};

/** Representative mean-use share: measured, or the middle of the kernel bounds. */
export const meanUseShare = (use: CpuUse): number =>
  use.source === 'measured' ? use.meanShare : (use.minShare + use.maxShare) / 2;

const describeUse = (use: CpuUse): string =>
  use.source === 'measured'
    ? `mean CPU use ${pct(use.meanShare)} of the limit`
    : `mean CPU use between ${pct(use.minShare)} and ${pct(use.maxShare)} of the limit (CPU time not measured; kernel bounds)`;

const isStartupOnly = (counters: ContainerCounters, m: ThrottleMeasures, config: ThrottleConfig): boolean => {
  const started = counters.startedAtMs;
  const lastSample = counters.samples[counters.samples.length - 1];
  if (started === undefined || lastSample === undefined || m.throttledLastSeenMs === undefined) {
    return false;
  }
  const graceEnd = started + config.startupGraceMs;
  // The throttling must have stopped inside the grace period AND the samples must show a stretch
  // after it without throttling; otherwise nothing proves it was only a start-up burst.
  return m.throttledLastSeenMs <= graceEnd && lastSample.atMs > graceEnd;
};

/**
 * Judges one container over one window.
 *
 * Order of the checks: no limit or too short a window gives `inconclusive`; too little throttling is
 * `healthy`; throttling during which work hardly waited is `idle-inflated`; throttling confined to
 * the start-up grace period is `startup-burst`; anything else is actionable: `saturated` when mean
 * use is near the limit, `metrics-lie` when averaged metrics would show headroom.
 */
export const throttleVerdict = (counters: ContainerCounters, config: ThrottleConfig = DEFAULT_THROTTLE_CONFIG): ThrottleVerdict => {
  const m = throttleMeasures(counters);
  const base = { identity: counters.identity, window: counters.window, measures: m };
  const verdict = (kind: ThrottleVerdictKind, severity: VerdictSeverity, reasons: string[]): ThrottleVerdict => ({
    ...base,
    kind,
    severity,
    actionable: kind === 'saturated' || kind === 'metrics-lie',
    reasons,
  });

  if (m.quotaNs === null) {
    return verdict('inconclusive', 'none', ['the container has no CPU limit, so the kernel never throttles it']);
  }
  const minWallNs = config.minWindowPeriods * m.periodNs;
  if (m.wallNs < minWallNs) {
    return verdict('inconclusive', 'none', [
      `the window (${ms(m.wallNs)}) is shorter than ${config.minWindowPeriods} periods of ${ms(m.periodNs)}`,
    ]);
  }
  const resetNote = m.resets > 0 ? [`counters reset ${m.resets} time(s) in the window (container restarted); totals count from each reset`] : [];
  const ratio = m.throttledRatio ?? 0;
  if (m.throttledPeriods === 0 || ratio < config.minThrottledRatio) {
    return verdict('healthy', 'none', [
      `throttled in ${m.throttledPeriods} of ${m.periods} active periods (${pct(ratio)}), under ${pct(config.minThrottledRatio)}`,
      ...resetNote,
    ]);
  }
  const waitShare = m.waitShare ?? 0;
  const throttledLine = `throttled in ${m.throttledPeriods} of ${m.periods} active periods (${pct(ratio)}); work waited ${ms(m.throttledTimeNs)} in total, ${pct(waitShare)} of the active time`;
  if (waitShare < config.minWaitShare || m.throttledPeriods < config.minThrottledPeriods) {
    return verdict('idle-inflated', 'info', [
      throttledLine,
      waitShare < config.minWaitShare
        ? `little work waited (under ${pct(config.minWaitShare)} of the active time): the ratio is inflated by few active periods`
        : `only ${m.throttledPeriods} throttled periods (fewer than ${config.minThrottledPeriods}): too little to act on`,
      ...resetNote,
    ]);
  }
  if (isStartupOnly(counters, m, config)) {
    return verdict('startup-burst', 'info', [
      throttledLine,
      `all throttling happened within ${ms(config.startupGraceMs * 1e6)} of the container start and stopped afterwards`,
      ...resetNote,
    ]);
  }
  const severity: VerdictSeverity = waitShare >= config.criticalWaitShare ? 'critical' : 'warning';
  const use = m.cpuUse;
  const useLine = use === null ? 'mean CPU use unknown' : describeUse(use);
  if (use !== null && meanUseShare(use) >= config.saturatedUseShare) {
    return verdict('saturated', severity, [throttledLine, `${useLine}: the limit is simply too low`, ...resetNote]);
  }
  return verdict('metrics-lie', severity, [
    throttledLine,
    `${useLine}: averaged metrics show headroom while the kernel makes work wait`,
    ...resetNote,
  ]);
};
