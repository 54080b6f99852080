/**
 * A CPU limit that ends throttling, sized from the kernel's CFS counters rather than from averaged
 * use. Two estimates of the CPU the container wanted, the smaller (tighter) one wins:
 *
 * - **waiting work**: in a throttled period the group used its quota (plus any burst) and then its
 *   run queues waited, on average `W = throttled_time / nr_throttled`. Had the limit been
 *   `(quota + burst used + W) / period` cores, that work would have run instead of waiting. This is
 *   exact for work that stays runnable (a saturated container) and over-estimates short bursts,
 *   because the wait lasts until the period ends even when little work is left.
 * - **episodes**: a burst of work that outgrows the quota runs as an *episode* of throttled periods
 *   ended by one unthrottled period. With `T` throttled and `A` active periods there are at most
 *   `E = min(T, A - T)` episodes, each using the quota in its throttled periods plus a remainder of
 *   at most one quota (at most the CPU use left over, when it was measured). One episode's demand
 *   `D = (T * q + remainders) / E` fits in one period when the quota is at least `D`.
 *
 * The need times the headroom is rounded up, then bounded by the max step and the ceiling; the
 * expected throttled ratio after the change comes from the same model (docs/analysis.md).
 *
 * @module
 */

import type { ThrottleMeasures } from './throttle.ts';
import { DEFAULT_THROTTLE_CONFIG, type ThrottleConfig } from './throttle-config.ts';

/** Which estimate of the need was used. */
export type DemandModel = 'waiting-work' | 'episodes' | 'none';

/** A limit recommendation with the numbers that produced it. */
export interface LimitRecommendation {
  readonly currentCores: number;
  /** Estimated CPU need in cores (before headroom and bounds). */
  readonly neededCores: number;
  readonly model: DemandModel;
  /** Both estimates, for the record (`null` when an estimate does not apply). */
  readonly estimates: { readonly waitingWorkCores: number | null; readonly episodeCores: number | null };
  /** The recommended limit in cores, never below the current one. */
  readonly recommendedCores: number;
  /** The quota that implements it at the current period (ns). */
  readonly recommendedQuotaNs: number;
  /** What capped the recommendation below need x headroom, if anything. */
  readonly boundedBy: 'none' | 'max-step' | 'ceiling';
  /** Throttled ratio the model expects at the recommended limit. */
  readonly expectedThrottledRatio: number;
  readonly meetsTarget: boolean;
  readonly reasons: readonly string[];
}

/** Thrown when a recommendation is asked for a container without a CPU limit. */
export class RecommendationError extends Error {
  override readonly name = 'RecommendationError';
}

const roundUp = (value: number, step: number): number => {
  const units = Math.ceil(value / step - 1e-9);
  return Number((units * step).toFixed(9));
};

/** Burst CPU one throttled period could add on top of the quota (ns). */
const burstPerPeriodNs = (m: ThrottleMeasures): number => {
  if (m.burstNs <= 0 || m.burstTimeNs === undefined || m.burstTimeNs === 0) {
    return 0;
  }
  const perBurst = m.burstTimeNs / Math.max(1, m.bursts ?? 1);
  return Math.min(m.burstNs, perBurst);
};

interface Model {
  readonly needNs: number;
  readonly ratioAt: (quotaNs: number) => number;
}

const waitingModel = (m: ThrottleMeasures, quotaNs: number, burstNs: number): Model | null => {
  if (m.throttledPeriods === 0 || m.meanWaitPerThrottledPeriodNs === null) {
    return null;
  }
  const wait = m.meanWaitPerThrottledPeriodNs;
  const ratio = m.throttledRatio ?? 0;
  return {
    needNs: quotaNs + burstNs + wait,
    // Work that stays runnable keeps outgrowing any quota below its need: the same periods stay
    // throttled (with shorter waits) until the added quota covers the waiting work.
    ratioAt: (q) => (q - quotaNs >= wait ? 0 : ratio),
  };
};

const episodeModel = (m: ThrottleMeasures, quotaNs: number, burstNs: number): Model | null => {
  const t = m.throttledPeriods;
  const a = m.periods;
  const episodes = Math.min(t, a - t);
  if (t === 0 || episodes < 1) {
    return null;
  }
  const perThrottled = quotaNs + burstNs;
  const usedInThrottled = t * perThrottled;
  const leftover =
    m.cpuUse?.source === 'measured' ? Math.max(0, m.cpuUse.usedNs - usedInThrottled) : Number.POSITIVE_INFINITY;
  const remainders = Math.min(leftover, episodes * perThrottled);
  const demand = (usedInThrottled + remainders) / episodes;
  const otherPeriods = Math.max(0, a - t - episodes);
  return {
    needNs: demand,
    ratioAt: (q) => {
      const perEpisode = Math.max(1, Math.ceil(demand / (q + burstNs) - 1e-9));
      return (episodes * (perEpisode - 1)) / (otherPeriods + episodes * perEpisode);
    },
  };
};

/**
 * Recommends a CPU limit for one container from its window measures. Without throttling the
 * recommendation keeps the current limit. Throws {@link RecommendationError} when the container
 * has no limit.
 */
export const recommendLimit = (m: ThrottleMeasures, config: ThrottleConfig = DEFAULT_THROTTLE_CONFIG): LimitRecommendation => {
  if (m.quotaNs === null || m.limitCores === null) {
    throw new RecommendationError('cannot size a limit for a container without one (no CPU quota)');
  }
  const quotaNs = m.quotaNs;
  const period = m.periodNs;
  const current = m.limitCores;
  const burst = burstPerPeriodNs(m);
  const waiting = waitingModel(m, quotaNs, burst);
  const episode = episodeModel(m, quotaNs, burst);
  const estimates = {
    waitingWorkCores: waiting === null ? null : waiting.needNs / period,
    episodeCores: episode === null ? null : episode.needNs / period,
  };
  const chosen: { model: DemandModel; m: Model } | null =
    waiting !== null && episode !== null
      ? episode.needNs < waiting.needNs
        ? { model: 'episodes', m: episode }
        : { model: 'waiting-work', m: waiting }
      : waiting !== null
        ? { model: 'waiting-work', m: waiting }
        : null;
  const observedRatio = m.throttledRatio ?? 0;
  if (chosen === null) {
    return {
      currentCores: current,
      neededCores: current,
      model: 'none',
      estimates,
      recommendedCores: current,
      recommendedQuotaNs: quotaNs,
      boundedBy: 'none',
      expectedThrottledRatio: observedRatio,
      meetsTarget: observedRatio <= config.targetThrottledRatio,
      reasons: ['no throttling in the window: keep the current limit'],
    };
  }
  const neededCores = chosen.m.needNs / period;
  const wanted = Math.max(current, roundUp(neededCores * config.headroom, config.granularityCores));
  const stepCap = current * config.maxStepFactor;
  let recommended = wanted;
  let boundedBy: LimitRecommendation['boundedBy'] = 'none';
  if (recommended > config.ceilingCores) {
    recommended = Math.max(current, config.ceilingCores);
    boundedBy = 'ceiling';
  }
  if (recommended > stepCap) {
    recommended = Math.max(current, Math.floor(stepCap / config.granularityCores + 1e-9) * config.granularityCores);
    recommended = Number(recommended.toFixed(9));
    boundedBy = 'max-step';
  }
  const recommendedQuotaNs = Math.round(recommended * period);
  const expected = chosen.m.ratioAt(recommendedQuotaNs);
  const reasons = [
    `${chosen.model} model: the container wanted ${neededCores.toFixed(3)} cores while throttled at ${current.toFixed(3)}`,
    boundedBy === 'none'
      ? `recommend ${recommended.toFixed(3)} cores (need x ${config.headroom} headroom)`
      : `recommend ${recommended.toFixed(3)} cores, capped by the ${boundedBy === 'max-step' ? `max step (x${config.maxStepFactor})` : `ceiling (${config.ceilingCores} cores)`}`,
    `expected throttled ratio ${(expected * 100).toFixed(1)}% (target ${(config.targetThrottledRatio * 100).toFixed(1)}%)`,
  ];
  if (neededCores <= current) {
    reasons.push('the counters show no demand beyond the limit: the throttling may come from a parent cgroup');
  }
  return {
    currentCores: current,
    neededCores,
    model: chosen.model,
    estimates,
    recommendedCores: recommended,
    recommendedQuotaNs,
    boundedBy,
    expectedThrottledRatio: expected,
    meetsTarget: expected <= config.targetThrottledRatio,
    reasons,
  };
};
