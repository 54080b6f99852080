/**
 * The quality benchmark's lab scenarios. Each is a pod of one or more containers with CPU limits and
 * workloads of timed CPU units; the ground truth comes from how the limit changes those units'
 * latency (ground-truth.ts), never from the counters the analysis reads.
 */
import type { LabContainerSpec, LabPodSpec } from '../../../dev/quota-lab/run.ts';
import { workloadSpec, type WorkloadSpec } from '../../../dev/quota-lab/workload-spec.ts';

export const RUN_MS = 5_000;

export interface Scenario {
  readonly name: string;
  /** What the scenario is meant to show (the ground truth is measured, not this). */
  readonly intent: string;
  readonly pod: LabPodSpec;
}

const w = (spec: Partial<WorkloadSpec>): WorkloadSpec => workloadSpec({ durationMs: RUN_MS, ...spec });
const ctr = (name: string, cores: number, processes: WorkloadSpec[], burstUs?: number): LabContainerSpec => ({
  name,
  quotaUs: Math.round(cores * 100_000),
  periodUs: 100_000,
  ...(burstUs === undefined ? {} : { burstUs }),
  processes,
});
const pod = (name: string, ...containers: LabContainerSpec[]): LabPodSpec => ({ name, containers });

export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'steady-under-limit',
    intent: '10 ms every 100 ms at 0.5 cores: never near the quota',
    pod: pod('steady-under', ctr('app', 0.5, [w({ workMs: 10, everyMs: 100 })])),
  },
  {
    name: 'steady-at-limit',
    intent: 'one thread always busy at 0.5 cores: saturated',
    pod: pod('steady-at', ctr('app', 0.5, [w({ workMs: 50, everyMs: 50 })])),
  },
  {
    name: 'steady-80pct-of-limit',
    intent: '40 ms every 100 ms at 0.5 cores: busy-looking metrics, no throttling',
    pod: pod('steady-80', ctr('app', 0.5, [w({ workMs: 40, everyMs: 100 })])),
  },
  {
    name: 'bursty-low-mean',
    intent: '40 ms bursts every 400 ms at 0.2 cores: mean use 50% of the limit, every burst throttled',
    pod: pod('bursty-low', ctr('app', 0.2, [w({ workMs: 40, everyMs: 400 })])),
  },
  {
    name: 'bursty-very-low-mean',
    intent: '60 ms bursts every second at 0.3 cores: mean use 20% of the limit',
    pod: pod('bursty-vlow', ctr('app', 0.3, [w({ workMs: 60, everyMs: 1_000 })])),
  },
  {
    name: 'idle',
    intent: '2 ms every 500 ms at 0.2 cores',
    pod: pod('idle', ctr('app', 0.2, [w({ workMs: 2, everyMs: 500 })])),
  },
  {
    name: 'bursty-burst-allowance-covers',
    intent: '28 ms bursts every 400 ms at 0.2 cores with a 20 ms burst allowance: the allowance absorbs them',
    pod: pod('burst-covers', ctr('app', 0.2, [w({ workMs: 28, everyMs: 400 })], 20_000)),
  },
  {
    name: 'bursty-burst-allowance-short',
    intent: '60 ms bursts every 400 ms at 0.2 cores with a 10 ms burst allowance: still throttled',
    pod: pod('burst-short', ctr('app', 0.2, [w({ workMs: 60, everyMs: 400 })], 10_000)),
  },
  {
    name: 'startup-burst-then-idle',
    intent: '150 ms of start-up work, then 2 ms every 500 ms, at 0.2 cores',
    pod: pod('startup', ctr('app', 0.2, [w({ startupWorkMs: 150, workMs: 2, everyMs: 500, offsetMs: 1_600 })])),
  },
  {
    name: 'jobs-at-one-core',
    intent: 'one thread, 250 ms jobs every 1.5 s at 1 core: one thread cannot outrun one core',
    pod: pod('jobs-1', ctr('app', 1, [w({ workMs: 250, everyMs: 1_500 })])),
  },
  {
    name: 'jobs-just-under-one-core',
    intent: 'one thread, 450 ms jobs every 1.5 s at 0.95 cores: each full period throttled, for about 5 ms',
    pod: pod('jobs-095', ctr('app', 0.95, [w({ workMs: 450, everyMs: 1_500 })])),
  },
  {
    name: 'busy-just-under-one-core',
    intent: 'one thread always busy at 0.95 cores: every period throttled, for about 5 ms',
    pod: pod('busy-095', ctr('app', 0.95, [w({ workMs: 100, everyMs: 100 })])),
  },
  {
    name: 'polling-just-over-quota',
    intent: '1.2 ms units every 10 ms at 0.1 cores, plus the runtime\'s own CPU per wake-up: saturated',
    pod: pod('polling', ctr('app', 0.1, [w({ workMs: 1.2, everyMs: 10 })])),
  },
  {
    name: 'two-threads-bursting',
    intent: 'two threads, 25 ms each every 300 ms together, at 0.3 cores',
    pod: pod('two-threads', ctr('app', 0.3, [w({ workMs: 25, everyMs: 300 }), w({ workMs: 25, everyMs: 300 })])),
  },
  {
    name: 'small-units-near-limit',
    intent: '5 ms every 20 ms at 0.3 cores: mean use 83% of the limit, short units',
    pod: pod('small-units', ctr('app', 0.3, [w({ workMs: 5, everyMs: 20 })])),
  },
  {
    name: 'pod-bursty-app-quiet-sidecar',
    intent: 'bursty app (40 ms every 300 ms at 0.2) next to a quiet sidecar (2 ms every 200 ms at 0.1)',
    pod: pod('multi-a', ctr('app', 0.2, [w({ workMs: 40, everyMs: 300 })]), ctr('sidecar', 0.1, [w({ workMs: 2, everyMs: 200 })])),
  },
  {
    name: 'pod-quiet-app-saturated-sidecar',
    intent: 'quiet app (5 ms every 200 ms at 0.5) next to a busy sidecar at 0.1 cores',
    pod: pod('multi-b', ctr('app', 0.5, [w({ workMs: 5, everyMs: 200 })]), ctr('sidecar', 0.1, [w({ workMs: 20, everyMs: 20 })])),
  },
];
