/**
 * The closed loop shared by test/lab/limit-closed-loop.test.ts and test/bench/quality/closed-loop.ts:
 * run a workload at limit L, recommend L' from the kernel counters, run it again at L'.
 */
import { labCounters } from '../../dev/quota-lab/counters.ts';
import { runLabPod, type LabContainerSpec } from '../../dev/quota-lab/run.ts';
import { workloadSpec, type WorkloadSpec } from '../../dev/quota-lab/workload-spec.ts';
import { recommendLimit, throttleVerdict, type LimitRecommendation, type ThrottleConfig, type ThrottleVerdict } from '../../shared/analysis/index.ts';

const PERIOD_US = 100_000;
export const RUN_MS = 4_000;

export interface Shape {
  readonly name: string;
  readonly limitCores: number;
  readonly burstUs?: number;
  readonly processes: readonly WorkloadSpec[];
}

export const SHAPES: readonly Shape[] = [
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

/** A shape whose need is beyond one step: the recommendation is capped and must say it will not suffice. */
export const CAPPED: Shape = {
  name: 'one thread always busy, at 0.3 cores (needs more than one step)',
  limitCores: 0.3,
  processes: [workloadSpec({ durationMs: RUN_MS, workMs: 50, everyMs: 50 })],
};

const container = (shape: Shape, cores: number): LabContainerSpec => ({
  name: 'app',
  quotaUs: Math.round(cores * PERIOD_US),
  periodUs: PERIOD_US,
  ...(shape.burstUs === undefined ? {} : { burstUs: shape.burstUs }),
  processes: shape.processes,
});

export interface ClosedLoop {
  readonly before: ThrottleVerdict;
  readonly recommendation: LimitRecommendation;
  readonly after: ThrottleVerdict;
}

export const closedLoop = async (shape: Shape, config?: ThrottleConfig): Promise<ClosedLoop> => {
  const first = await runLabPod({ name: 'before', containers: [container(shape, shape.limitCores)] });
  const before = throttleVerdict(labCounters(first.containers[0]!), config);
  const recommendation = recommendLimit(before.measures, config);
  const second = await runLabPod({ name: 'after', containers: [container(shape, recommendation.recommendedCores)] });
  return { before, recommendation, after: throttleVerdict(labCounters(second.containers[0]!), config) };
};
