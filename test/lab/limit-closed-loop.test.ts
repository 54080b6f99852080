/**
 * Closed loop on the real kernel: a workload runs in a cgroup at limit L, the analysis reads the
 * kernel's counters and recommends L', the lab applies L' and runs the same workload again. The
 * throttled ratio must fall under the target while L' stays within the max step.
 *
 * Runs on cgroup v1 with the analysis lab's minimal runner (dev/quota-lab), as root; it fails, never
 * skips, when the host cannot create CPU-limited cgroups.
 */
import { assert, describe, expect, it } from 'vitest';
import { DEFAULT_THROTTLE_CONFIG } from '../../shared/analysis/index.ts';
import { CAPPED, closedLoop, SHAPES } from './limit-closed-loop-shapes.ts';

describe('limit closed loop on the real kernel', () => {
  it.each(SHAPES)('$name: the recommended limit ends the throttling within one step', async (shape) => {
    const { before, recommendation, after } = await closedLoop(shape);
    assert.isTrue(before.actionable, before.reasons.join('; '));
    expect(before.measures.throttledRatio).toBeGreaterThan(DEFAULT_THROTTLE_CONFIG.targetThrottledRatio);
    expect(recommendation.recommendedCores).toBeGreaterThan(shape.limitCores);
    expect(recommendation.recommendedCores).toBeLessThanOrEqual(shape.limitCores * DEFAULT_THROTTLE_CONFIG.maxStepFactor + 1e-9);
    const summary = `L=${shape.limitCores} ratio=${before.measures.throttledRatio?.toFixed(3)} -> L'=${recommendation.recommendedCores} (${recommendation.model}, predicted ${recommendation.expectedThrottledRatio.toFixed(3)}) ratio=${after.measures.throttledRatio?.toFixed(3)}`;
    assert.isBelow(after.measures.throttledRatio ?? 0, DEFAULT_THROTTLE_CONFIG.targetThrottledRatio, summary);
    assert.isFalse(after.actionable, summary);
  });

  it('when the max step caps the recommendation, the expected ratio says it will not suffice, and the kernel agrees', async () => {
    const { before, recommendation, after } = await closedLoop(CAPPED);
    expect(before.kind).toBe('saturated');
    expect(recommendation.boundedBy).toBe('max-step');
    expect(recommendation.recommendedCores).toBeCloseTo(CAPPED.limitCores * DEFAULT_THROTTLE_CONFIG.maxStepFactor, 9);
    expect(recommendation.meetsTarget).toBe(false);
    const measured = after.measures.throttledRatio ?? 0;
    assert.isAtMost(Math.abs(measured - recommendation.expectedThrottledRatio), 0.15, `predicted ${recommendation.expectedThrottledRatio}, measured ${measured}`);
  });
});
