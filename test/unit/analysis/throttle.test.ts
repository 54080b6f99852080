import { describe, expect, it } from 'vitest';
import {
  oneCgroupSamples,
  CountersError,
  DEFAULT_THROTTLE_CONFIG,
  cfsDelta,
  throttleConfig,
  ThrottleConfigError,
  throttleMeasures,
  throttleVerdict,
  type ContainerCounters,
} from '../../../shared/analysis/index.ts';
import { counters, MS, SHAPES, T0 } from './build.ts';

describe('throttleVerdict', () => {
  it('calls a container throttled every period at full use saturated, critical, with its numbers', () => {
    const v = throttleVerdict(counters(SHAPES.busy));
    expect(v.kind).toBe('saturated');
    expect(v.severity).toBe('critical');
    expect(v.actionable).toBe(true);
    expect(v.measures.throttledRatio).toBe(1);
    expect(v.measures.waitShare).toBeCloseTo(0.8, 9);
    expect(v.measures.throttledSecondsPerSecond).toBeCloseTo(0.8, 9);
    expect(v.measures.cpuUse).toEqual({ source: 'measured', usedNs: 12_000 * MS, meanShare: 1 });
    expect(v.reasons.join(' ')).toContain('600 of 600 active periods (100.0%)');
  });

  it('calls a bursty container with low mean use metrics-lie', () => {
    const v = throttleVerdict(counters(SHAPES.bursty));
    expect(v.kind).toBe('metrics-lie');
    expect(v.actionable).toBe(true);
    expect(v.measures.cpuUse).toMatchObject({ source: 'measured', meanShare: 0.3 });
    expect(v.measures.throttledRatio).toBeCloseTo(2 / 3, 9);
    // 120 throttled periods x 80 ms over 180 active periods of 100 ms.
    expect(v.measures.waitShare).toBeCloseTo(9_600 / 18_000, 9);
    expect(v.severity).toBe('critical');
    expect(v.reasons.join(' ')).toContain('averaged metrics show headroom');
  });

  it('does not act on a 20% ratio whose throttles each cost only 20 ms', () => {
    // 60 of 300 active periods throttled, but work waited only 4% of the active time.
    const v = throttleVerdict(counters({ periods: 300, throttled: 60, throttledMs: 60 * 20, usedMs: 4_000 }));
    expect(v.measures.waitShare).toBeCloseTo(0.04, 9);
    expect(v.kind).toBe('idle-inflated');
    expect(v.actionable).toBe(false);
  });

  it('grades waiting between minWaitShare and criticalWaitShare as warning', () => {
    const v = throttleVerdict(counters({ periods: 300, throttled: 90, throttledMs: 90 * 70, usedMs: 4_000 }));
    expect(v.measures.waitShare).toBeCloseTo(6_300 / 30_000, 9);
    expect(v.kind).toBe('metrics-lie');
    expect(v.severity).toBe('warning');
  });

  it('calls a high ratio over a few active periods with little waiting idle-inflated', () => {
    const v = throttleVerdict(counters({ periods: 30, throttled: 12, throttledMs: 12 * 2, usedMs: 300 }));
    expect(v.measures.throttledRatio).toBeCloseTo(0.4, 9);
    expect(v.kind).toBe('idle-inflated');
    expect(v.severity).toBe('info');
    expect(v.actionable).toBe(false);
    expect(v.reasons.join(' ')).toContain('little work waited');
  });

  it('calls too few throttled periods idle-inflated even when each waited long', () => {
    const v = throttleVerdict(counters({ periods: 4, throttled: 2, throttledMs: 160, usedMs: 60 }));
    expect(v.measures.waitShare).toBeCloseTo(0.4, 9);
    expect(v.kind).toBe('idle-inflated');
    expect(v.reasons.join(' ')).toContain('only 2 throttled periods');
  });

  it('calls no or rare throttling healthy', () => {
    expect(throttleVerdict(counters({ periods: 600, throttled: 0, throttledMs: 0, usedMs: 6_000 })).kind).toBe('healthy');
    const rare = throttleVerdict(counters({ periods: 600, throttled: 20, throttledMs: 20 * 80, usedMs: 6_000 }));
    expect(rare.measures.throttledRatio).toBeCloseTo(20 / 600, 9);
    expect(rare.kind).toBe('healthy');
    expect(rare.severity).toBe('none');
  });

  it('calls an idle container (no active period) healthy', () => {
    const v = throttleVerdict(counters({ periods: 0, throttled: 0, throttledMs: 0, usedMs: 0 }));
    expect(v.kind).toBe('healthy');
    expect(v.measures.throttledRatio).toBeNull();
    expect(v.measures.waitShare).toBeNull();
  });

  it('is inconclusive without a CPU limit', () => {
    const v = throttleVerdict(counters({ periods: 0, throttled: 0, throttledMs: 0, quotaMs: null }));
    expect(v.kind).toBe('inconclusive');
    expect(v.measures.limitCores).toBeNull();
    expect(v.measures.cpuUse).toBeNull();
  });

  it('is inconclusive for a window shorter than minWindowPeriods periods', () => {
    const v = throttleVerdict(counters({ ...SHAPES.busy, wallMs: 900, periods: 9, throttled: 9, throttledMs: 720, usedMs: 180 }));
    expect(v.kind).toBe('inconclusive');
    expect(v.reasons[0]).toContain('shorter than 10 periods');
    const ok = throttleVerdict(counters({ wallMs: 1_000, periods: 10, throttled: 10, throttledMs: 800, usedMs: 200 }));
    expect(ok.kind).toBe('saturated');
  });

  it('works from kernel bounds when process_stats is missing, and says so', () => {
    const busy = throttleVerdict(counters({ periods: 600, throttled: 600, throttledMs: 48_000 }));
    expect(busy.measures.cpuUse).toEqual({ source: 'kernel-bounds', minShare: 1, maxShare: 1 });
    expect(busy.kind).toBe('saturated');
    const bursty = throttleVerdict(counters({ periods: 180, throttled: 120, throttledMs: 9_600 }));
    expect(bursty.measures.cpuUse).toMatchObject({ source: 'kernel-bounds' });
    if (bursty.measures.cpuUse?.source !== 'kernel-bounds') {
      throw new Error('expected kernel bounds');
    }
    expect(bursty.measures.cpuUse.minShare).toBeCloseTo(0.2, 9);
    expect(bursty.measures.cpuUse.maxShare).toBeCloseTo(0.3, 9);
    expect(bursty.kind).toBe('metrics-lie');
    expect(bursty.reasons.join(' ')).toContain('kernel bounds');
  });

  it('counts burst time into the lower bound of use', () => {
    const m = throttleMeasures(counters({ periods: 100, throttled: 50, throttledMs: 2_000, burstMs: 10, bursts: 50, burstTimeMs: 500 }));
    if (m.cpuUse?.source !== 'kernel-bounds') {
      throw new Error('expected kernel bounds');
    }
    // (50 x 20 ms + 500 ms) / (60 s x 0.2 cores)
    expect(m.cpuUse.minShare).toBeCloseTo(1_500 / 12_000, 9);
    expect(m.bursts).toBe(50);
    expect(m.burstTimeNs).toBe(500 * MS);
  });

  it('recognises a start-up burst when later samples show throttling stopped', () => {
    const base = counters(SHAPES.bursty);
    const start = T0;
    const withStartup: ContainerCounters = {
      ...base,
      startedAtMs: start,
      samples: [
        { atMs: start, nrPeriods: 0, nrThrottled: 0, throttledTimeNs: 0 },
        { atMs: start + 10_000, nrPeriods: 100, nrThrottled: 90, throttledTimeNs: 90 * 80 * MS },
        { atMs: start + 40_000, nrPeriods: 130, nrThrottled: 90, throttledTimeNs: 90 * 80 * MS },
        { atMs: start + 60_000, nrPeriods: 150, nrThrottled: 90, throttledTimeNs: 90 * 80 * MS },
      ],
      cpuUsedNs: 3_000 * MS,
    };
    const v = throttleVerdict(withStartup);
    expect(v.kind).toBe('startup-burst');
    expect(v.actionable).toBe(false);
    expect(v.measures.throttledLastSeenMs).toBe(start + 10_000);
    // The same counters with throttling still growing after the grace period are actionable.
    const late: ContainerCounters = {
      ...withStartup,
      samples: [...withStartup.samples.slice(0, 3), { atMs: start + 60_000, nrPeriods: 150, nrThrottled: 100, throttledTimeNs: 100 * 80 * MS }],
    };
    expect(throttleVerdict(late).kind).toBe('metrics-lie');
    // Without a known start the start-up cannot be proven.
    const { startedAtMs: _unused, ...unknownStart } = withStartup;
    expect(throttleVerdict(unknownStart).kind).toBe('metrics-lie');
  });

  it('takes thresholds from the config', () => {
    const strict = throttleConfig({ minWaitShare: 0.9 });
    expect(throttleVerdict(counters(SHAPES.bursty), strict).kind).toBe('idle-inflated');
    const lowSaturation = throttleConfig({ saturatedUseShare: 0.25 });
    expect(throttleVerdict(counters(SHAPES.bursty), lowSaturation).kind).toBe('saturated');
  });
});

describe('counter resets (container restart)', () => {
  it('adds the counts since the reset, like Prometheus increase()', () => {
    const d = cfsDelta([
      { atMs: 0, nrPeriods: 1_000, nrThrottled: 500, throttledTimeNs: 40_000 * MS },
      { atMs: 20_000, nrPeriods: 1_200, nrThrottled: 600, throttledTimeNs: 48_000 * MS },
      { atMs: 40_000, nrPeriods: 50, nrThrottled: 30, throttledTimeNs: 2_400 * MS },
      { atMs: 60_000, nrPeriods: 250, nrThrottled: 130, throttledTimeNs: 10_400 * MS },
    ]);
    expect(d).toMatchObject({ periods: 200 + 50 + 200, throttledPeriods: 100 + 30 + 100, throttledTimeNs: (8_000 + 2_400 + 8_000) * MS, resets: 1 });
  });

  it('treats every counter as reset when one goes backwards', () => {
    const d = cfsDelta([
      { atMs: 0, nrPeriods: 1_000, nrThrottled: 500, throttledTimeNs: 40_000 * MS },
      { atMs: 1_000, nrPeriods: 1_010, nrThrottled: 5, throttledTimeNs: 400 * MS },
    ]);
    expect(d).toMatchObject({ periods: 1_010, throttledPeriods: 5, throttledTimeNs: 400 * MS, resets: 1 });
  });

  it('notes the reset in the verdict', () => {
    const c = counters(SHAPES.busy);
    const restarted: ContainerCounters = {
      ...c,
      samples: [c.samples[0]!, { atMs: T0 + 30_000, nrPeriods: 300, nrThrottled: 300, throttledTimeNs: 24_000 * MS }],
      window: { startMs: T0, endMs: T0 + 30_000 },
      cpuUsedNs: 6_000 * MS,
    };
    const v = throttleVerdict(restarted);
    expect(v.measures.resets).toBe(1);
    expect(v.kind).toBe('saturated');
    expect(v.reasons.join(' ')).toContain('counters reset 1 time');
  });

  it('drops burst counters when a sample lacks them', () => {
    const d = cfsDelta([
      { atMs: 0, nrPeriods: 1, nrThrottled: 0, throttledTimeNs: 0, nrBursts: 1, burstTimeNs: 5 },
      { atMs: 1, nrPeriods: 2, nrThrottled: 0, throttledTimeNs: 0 },
    ]);
    expect(d.bursts).toBeUndefined();
    expect(d.burstTimeNs).toBeUndefined();
  });

  it('is indifferent to the order of its samples', () => {
    const ordered = [
      { atMs: 1, nrPeriods: 10, nrThrottled: 2, throttledTimeNs: 100 },
      { atMs: 2, nrPeriods: 20, nrThrottled: 5, throttledTimeNs: 400 },
      { atMs: 3, nrPeriods: 3, nrThrottled: 1, throttledTimeNs: 50 },
      { atMs: 4, nrPeriods: 9, nrThrottled: 2, throttledTimeNs: 90 },
    ];
    const expected = cfsDelta(ordered);
    expect(expected).toMatchObject({ periods: 10 + 3 + 6, throttledPeriods: 3 + 1 + 1, resets: 1 });
    expect(cfsDelta([ordered[2]!, ordered[0]!, ordered[3]!, ordered[1]!])).toEqual(expected);
  });

  // cpu_throttle.pxl's rate limit is a read-then-write two CPUs can pass at once (CI saw two rows
  // of one cgroup 10 ns apart, out of order): the two rows carry crossed readings of one moment.
  it('oneCgroupSamples: duplicates and crossed concurrent reads of one cgroup add nothing and are no reset', () => {
    const rows = [
      { atMs: 1000, nrPeriods: 10, nrThrottled: 2, throttledTimeNs: 100, nrBursts: 0, burstTimeNs: 0 },
      // Two CPUs at once: the later time read the counters first.
      { atMs: 2000, nrPeriods: 19, nrThrottled: 4, throttledTimeNs: 300, nrBursts: 0, burstTimeNs: 0 },
      { atMs: 2000, nrPeriods: 20, nrThrottled: 5, throttledTimeNs: 400, nrBursts: 0, burstTimeNs: 0 },
      { atMs: 3000, nrPeriods: 30, nrThrottled: 7, throttledTimeNs: 700, nrBursts: 0, burstTimeNs: 0 },
    ];
    const crossed = [rows[0]!, rows[2]!, { ...rows[1]!, atMs: 2000 + 1e-5 }, rows[3]!];
    const clean = cfsDelta([rows[0]!, rows[2]!, rows[3]!]);
    expect(clean).toMatchObject({ periods: 20, throttledPeriods: 5, throttledTimeNs: 600, resets: 0 });
    // Taken as they come, the crossed pair would look like a counter reset.
    expect(cfsDelta(crossed).resets).toBe(1);
    expect(cfsDelta(oneCgroupSamples(crossed))).toEqual(clean);
    expect(cfsDelta(oneCgroupSamples([...crossed, ...crossed].reverse()))).toEqual(clean);
  });

  it('rejects bad samples with a clear error', () => {
    expect(() => cfsDelta([{ atMs: 0, nrPeriods: 1, nrThrottled: 0, throttledTimeNs: 0 }])).toThrow(CountersError);
    expect(() =>
      cfsDelta([
        { atMs: 0, nrPeriods: -1, nrThrottled: 0, throttledTimeNs: 0 },
        { atMs: 1, nrPeriods: 2, nrThrottled: 0, throttledTimeNs: 0 },
      ]),
    ).toThrow(/nrPeriods must be a finite non-negative number/);
  });
});

describe('throttleConfig', () => {
  it('keeps defaults and applies overrides', () => {
    expect(throttleConfig()).toEqual(DEFAULT_THROTTLE_CONFIG);
    expect(throttleConfig({ consecutiveWindows: 5 }).consecutiveWindows).toBe(5);
  });

  it('reports every out-of-range value together', () => {
    expect(() => throttleConfig({ minThrottledRatio: 2, consecutiveWindows: 1.5, headroom: Number.NaN })).toThrow(
      /minThrottledRatio must be a number in \[0, 1\], got 2; headroom .*; consecutiveWindows must be an integer/,
    );
    expect(() => throttleConfig({ maxStepFactor: 0.5 })).toThrow(ThrottleConfigError);
  });
});
