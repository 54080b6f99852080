import { describe, expect, it } from 'vitest';
import { recommendLimit, RecommendationError, throttleConfig, throttleMeasures } from '../../../shared/analysis/index.ts';
import { counters, MS, SHAPES } from './build.ts';

describe('recommendLimit', () => {
  it('sizes a saturated container from the work that waited, capped by the max step', () => {
    const r = recommendLimit(throttleMeasures(counters(SHAPES.busy)));
    // One always-runnable thread: 20 ms quota + 80 ms waiting per period = 1 core.
    expect(r.model).toBe('waiting-work');
    expect(r.neededCores).toBeCloseTo(1, 9);
    expect(r.estimates.episodeCores).toBeNull();
    expect(r.recommendedCores).toBe(0.4);
    expect(r.boundedBy).toBe('max-step');
    expect(r.recommendedQuotaNs).toBe(40 * MS);
    // 20 ms more quota does not cover 80 ms of waiting work: every period stays throttled.
    expect(r.expectedThrottledRatio).toBe(1);
    expect(r.meetsTarget).toBe(false);
  });

  it('reaches the need times headroom when the step allows it, and expects no throttling', () => {
    const r = recommendLimit(throttleMeasures(counters(SHAPES.busy)), throttleConfig({ maxStepFactor: 10 }));
    expect(r.recommendedCores).toBe(1.2);
    expect(r.boundedBy).toBe('none');
    expect(r.expectedThrottledRatio).toBe(0);
    expect(r.meetsTarget).toBe(true);
  });

  it('sizes bursts by episode: a 60 ms burst needs 60 ms of quota, not the 1 core its waits suggest', () => {
    const r = recommendLimit(throttleMeasures(counters(SHAPES.bursty)), throttleConfig({ maxStepFactor: 4 }));
    expect(r.estimates.waitingWorkCores).toBeCloseTo(1, 9);
    expect(r.estimates.episodeCores).toBeCloseTo(0.6, 9);
    expect(r.model).toBe('episodes');
    expect(r.recommendedCores).toBe(0.72);
    expect(r.expectedThrottledRatio).toBe(0);
  });

  it('predicts the throttling left when the step cap stops short of the need', () => {
    const r = recommendLimit(throttleMeasures(counters(SHAPES.bursty)));
    expect(r.recommendedCores).toBe(0.4);
    expect(r.boundedBy).toBe('max-step');
    // 60 ms bursts at 40 ms quota: 2 periods per burst, 1 throttled.
    expect(r.expectedThrottledRatio).toBeCloseTo(0.5, 9);
  });

  it('without process_stats bounds each episode remainder by one quota', () => {
    const r = recommendLimit(throttleMeasures(counters({ periods: 180, throttled: 120, throttledMs: 120 * 80 })), throttleConfig({ maxStepFactor: 4 }));
    expect(r.estimates.episodeCores).toBeCloseTo(0.6, 9);
  });

  it('counts the burst allowance as capacity already given', () => {
    // 10 ms burst allowance used in full in each throttled period.
    const m = throttleMeasures(counters({ periods: 600, throttled: 600, throttledMs: 600 * 70, usedMs: 600 * 30, burstMs: 10, bursts: 600, burstTimeMs: 6_000 }));
    const r = recommendLimit(m, throttleConfig({ maxStepFactor: 10 }));
    expect(r.neededCores).toBeCloseTo((20 + 10 + 70) / 100, 9);
  });

  it('respects the ceiling but never recommends below the current limit', () => {
    const r = recommendLimit(throttleMeasures(counters(SHAPES.busy)), throttleConfig({ ceilingCores: 0.3, maxStepFactor: 10 }));
    expect(r.recommendedCores).toBe(0.3);
    expect(r.boundedBy).toBe('ceiling');
    const below = recommendLimit(throttleMeasures(counters(SHAPES.busy)), throttleConfig({ ceilingCores: 0.1 }));
    expect(below.recommendedCores).toBe(0.2);
  });

  it('keeps the limit when nothing was throttled', () => {
    const r = recommendLimit(throttleMeasures(counters({ periods: 600, throttled: 0, throttledMs: 0, usedMs: 3_000 })));
    expect(r.model).toBe('none');
    expect(r.recommendedCores).toBe(0.2);
    expect(r.meetsTarget).toBe(true);
  });

  it('rounds up to the granularity', () => {
    const r = recommendLimit(throttleMeasures(counters(SHAPES.busy)), throttleConfig({ maxStepFactor: 10, granularityCores: 0.25 }));
    expect(r.recommendedCores).toBe(1.25);
  });

  it('refuses a container without a limit', () => {
    expect(() => recommendLimit(throttleMeasures(counters({ periods: 0, throttled: 0, throttledMs: 0, quotaMs: null })))).toThrow(RecommendationError);
  });
});
