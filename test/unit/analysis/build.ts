/**
 * Builds ContainerCounters the way a probe reports them: cumulative counters that start from
 * whatever the cgroup had already counted, sampled at the window's edges (or at given instants).
 */
import type { CfsSample, ContainerCounters } from '../../../shared/analysis/index.ts';

export const MS = 1e6;
export const T0 = 1_800_000_000_000;

export interface WindowSpec {
  /** Window length (ms). */
  readonly wallMs?: number;
  readonly periods: number;
  readonly throttled: number;
  readonly throttledMs: number;
  readonly quotaMs?: number | null;
  readonly periodMs?: number;
  readonly burstMs?: number;
  readonly usedMs?: number;
  readonly bursts?: number;
  readonly burstTimeMs?: number;
  readonly pod?: string;
  readonly container?: string;
  readonly startMs?: number;
}

/** Counters already accumulated before the window: the analysis must only use differences. */
const BASE = { nrPeriods: 91_234, nrThrottled: 4_321, throttledTimeNs: 987_654_321_000, nrBursts: 17, burstTimeNs: 55_000_000 };

export const counters = (spec: WindowSpec): ContainerCounters => {
  const startMs = spec.startMs ?? T0;
  const wallMs = spec.wallMs ?? 60_000;
  const first: CfsSample = { atMs: startMs, ...BASE };
  const last: CfsSample = {
    atMs: startMs + wallMs,
    nrPeriods: BASE.nrPeriods + spec.periods,
    nrThrottled: BASE.nrThrottled + spec.throttled,
    throttledTimeNs: BASE.throttledTimeNs + spec.throttledMs * MS,
    nrBursts: BASE.nrBursts + (spec.bursts ?? 0),
    burstTimeNs: BASE.burstTimeNs + (spec.burstTimeMs ?? 0) * MS,
  };
  const quota = spec.quotaMs === undefined ? 20 : spec.quotaMs;
  return {
    identity: { namespace: 'shop', pod: spec.pod ?? 'web-7d9f-abcde', container: spec.container ?? 'app', owner: { kind: 'Deployment', name: 'web' } },
    window: { startMs, endMs: startMs + wallMs },
    samples: [first, last],
    bandwidth: {
      quotaNs: quota === null ? null : quota * MS,
      periodNs: (spec.periodMs ?? 100) * MS,
      ...(spec.burstMs === undefined ? {} : { burstNs: spec.burstMs * MS }),
    },
    ...(spec.usedMs === undefined ? {} : { cpuUsedNs: spec.usedMs * MS }),
  };
};

/**
 * Reference shapes over a 60 s window at a 0.2-core limit (quota 20 ms / 100 ms), derived from how
 * CFS bandwidth control accounts them:
 * - busy: one thread always runnable: every period throttled after 20 ms, waiting 80 ms.
 * - bursty: one 60 ms burst per second: 3 active periods per burst, the first 2 throttled (80 ms each).
 */
export const SHAPES = {
  busy: { periods: 600, throttled: 600, throttledMs: 600 * 80, usedMs: 600 * 20 },
  bursty: { periods: 180, throttled: 120, throttledMs: 120 * 80, usedMs: 60 * 60 },
} as const satisfies Record<string, WindowSpec>;
