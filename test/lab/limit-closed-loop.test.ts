/**
 * Closed loop on the real kernel: a workload runs in a cgroup at limit L, the analysis reads the
 * kernel's counters and recommends L', the lab applies L' and runs the same workload again. The
 * throttled ratio must fall under the target while L' stays within the max step.
 *
 * Runs on cgroup v1 with the analysis lab's minimal runner (dev/quota-lab), as root; it fails, never
 * skips, when the host cannot create CPU-limited cgroups.
 */
import { assert, describe, expect, it } from 'vitest';
import { labCounters } from '../../dev/quota-lab/counters.ts';
import { runLabPod, type LabContainerSpec } from '../../dev/quota-lab/run.ts';
import { workloadSpec, type WorkloadSpec } from '../../dev/quota-lab/workload-spec.ts';
import { DEFAULT_THROTTLE_CONFIG, recommendLimit, throttleVerdict } from '../../shared/analysis/index.ts';

const PERIOD_US = 100_000;
const RUN_MS = 4_000;

interface Shape {
  readonly name: string;
  readonly limitCores: number;
  readonly burstUs?: number;
  readonly processes: readonly WorkloadSpec[];
}

const SHAPES: readonly Shape[] = [
  {
    name: 'one thread, 30 ms bursts every 250 ms, at 0.2 cores',
    limitCores: 0.2,
    processes: [workloadSpec({ durationMs: RUN_MS, workMs: 30, everyMs: 250 })],
  },
  {
    name: 'one thread always busy, at 0.6 cores',
    limitCores: 0.6,
    processes: [workloadSpec({ durationMs: RUN_MS, workMs: 50, everyMs: 50 })],
  },
  {
    name: 'two threads bursting together, 25 ms each every 300 ms, at 0.35 cores',
    limitCores: 0.35,
    processes: [workloadSpec({ durationMs: RUN_MS, workMs: 25, everyMs: 300 }), workloadSpec({ durationMs: RUN_MS, workMs: 25, everyMs: 300 })],
  },
  {
    name: 'one thread, 35 ms bursts every 300 ms, at 0.2 cores with a 5 ms burst allowance',
    limitCores: 0.2,
    burstUs: 5_000,
    processes: [workloadSpec({ durationMs: RUN_MS, workMs: 35, everyMs: 300 })],
  },
];

const container = (shape: Shape, cores: number): LabContainerSpec => ({
  name: 'app',
  quotaUs: Math.round(cores * PERIOD_US),
  periodUs: PERIOD_US,
  ...(shape.burstUs === undefined ? {} : { burstUs: shape.burstUs }),
  processes: shape.processes,
});

describe('limit closed loop on the real kernel', () => {
  it.each(SHAPES)('$name: the recommended limit ends the throttling within one step', async (shape) => {
    const before = await runLabPod({ name: 'before', containers: [container(shape, shape.limitCores)] });
    const verdict = throttleVerdict(labCounters(before.containers[0]!));
    assert.isTrue(verdict.actionable, verdict.reasons.join('; '));
    expect(verdict.measures.throttledRatio).toBeGreaterThan(DEFAULT_THROTTLE_CONFIG.targetThrottledRatio);

    const recommendation = recommendLimit(verdict.measures);
    expect(recommendation.recommendedCores).toBeGreaterThan(shape.limitCores);
    expect(recommendation.recommendedCores).toBeLessThanOrEqual(shape.limitCores * DEFAULT_THROTTLE_CONFIG.maxStepFactor + 1e-9);

    const after = await runLabPod({ name: 'after', containers: [container(shape, recommendation.recommendedCores)] });
    const measured = throttleVerdict(labCounters(after.containers[0]!));
    const summary = `L=${shape.limitCores} ratio=${verdict.measures.throttledRatio?.toFixed(3)} -> L'=${recommendation.recommendedCores} (${recommendation.model}, predicted ${recommendation.expectedThrottledRatio.toFixed(3)}) ratio=${measured.measures.throttledRatio?.toFixed(3)}`;
    assert.isBelow(measured.measures.throttledRatio ?? 0, DEFAULT_THROTTLE_CONFIG.targetThrottledRatio, summary);
    assert.isFalse(measured.actionable, summary);
  });
});
