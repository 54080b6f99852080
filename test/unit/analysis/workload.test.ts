import { describe, expect, it } from 'vitest';
import { podVerdicts, stepWorkload, throttleConfig, throttleVerdict, WorkloadError, worstKind, type WorkloadState } from '../../../shared/analysis/index.ts';
import { counters, SHAPES, T0 } from './build.ts';

const WINDOW = 60_000;
const idle = { periods: 30, throttled: 12, throttledMs: 24, usedMs: 300 };
const healthy = { periods: 600, throttled: 0, throttledMs: 0, usedMs: 3_000 };

const windowOf = (n: number, shapes: Record<string, object>) =>
  Object.entries(shapes).map(([pod, shape]) => throttleVerdict(counters({ ...(shape as typeof healthy), pod, startMs: T0 + n * WINDOW })));

describe('podVerdicts', () => {
  it('gives a multi-container pod its worst container verdict', () => {
    const verdicts = [
      throttleVerdict(counters({ ...healthy, pod: 'p1', container: 'app' })),
      throttleVerdict(counters({ ...SHAPES.bursty, pod: 'p1', container: 'sidecar' })),
      throttleVerdict(counters({ ...healthy, pod: 'p2', container: 'app' })),
    ];
    const pods = podVerdicts(verdicts);
    expect(pods.map((p) => [p.pod, p.kind, p.actionable, p.containers.length])).toEqual([
      ['p1', 'metrics-lie', true, 2],
      ['p2', 'healthy', false, 1],
    ]);
  });

  it('orders kinds by need for action', () => {
    expect(worstKind(['healthy', 'idle-inflated', 'saturated', 'metrics-lie'])).toBe('saturated');
    expect(worstKind([])).toBe('inconclusive');
  });
});

describe('stepWorkload', () => {
  it('recommends action only after the configured number of consecutive actionable windows', () => {
    let state: WorkloadState | undefined;
    const seen: [number, boolean][] = [];
    for (let n = 0; n < 3; n++) {
      const step = stepWorkload(state, windowOf(n, { a: SHAPES.bursty, b: SHAPES.bursty }));
      state = step.state;
      seen.push([step.verdict.containers[0]!.streak, step.verdict.recommendAction]);
    }
    expect(seen).toEqual([
      [1, false],
      [2, false],
      [3, true],
    ]);
  });

  it('restarts the streak after a quiet window or a gap', () => {
    let step = stepWorkload(undefined, windowOf(0, { a: SHAPES.busy }));
    step = stepWorkload(step.state, windowOf(1, { a: SHAPES.busy }));
    step = stepWorkload(step.state, windowOf(2, { a: healthy }));
    expect(step.verdict.containers[0]!.streak).toBe(0);
    step = stepWorkload(step.state, windowOf(3, { a: SHAPES.busy }));
    expect(step.verdict.containers[0]!.streak).toBe(1);
    // Window 5 does not follow window 3: the streak starts over.
    step = stepWorkload(step.state, windowOf(5, { a: SHAPES.busy }));
    expect(step.verdict.consecutive).toBe(false);
    expect(step.verdict.containers[0]!.streak).toBe(1);
  });

  it('needs the configured share of pods to be actionable', () => {
    const oneOfThree = windowOf(0, { a: SHAPES.busy, b: healthy, c: idle });
    expect(stepWorkload(undefined, oneOfThree).verdict.containers[0]).toMatchObject({ pods: 3, actionablePods: 1, actionable: false, streak: 0 });
    const lenient = throttleConfig({ minPodShare: 0.3, consecutiveWindows: 1 });
    expect(stepWorkload(undefined, oneOfThree, lenient).verdict).toMatchObject({ recommendAction: true });
  });

  it('ignores inconclusive pods when counting the share', () => {
    const short = throttleVerdict(counters({ ...SHAPES.busy, pod: 'new', wallMs: 500, startMs: T0 }));
    expect(short.kind).toBe('inconclusive');
    const step = stepWorkload(undefined, [short, ...windowOf(0, { a: SHAPES.busy })], throttleConfig({ consecutiveWindows: 1 }));
    expect(step.verdict.containers[0]).toMatchObject({ pods: 1, actionablePods: 1, recommendAction: true });
  });

  it('recommends the largest limit among the actionable pods', () => {
    const step = stepWorkload(undefined, windowOf(0, { a: SHAPES.bursty, b: SHAPES.busy }), throttleConfig({ maxStepFactor: 10 }));
    expect(step.verdict.containers[0]!.recommendation?.recommendedCores).toBe(1.2);
  });

  it('judges each container name of multi-container pods separately', () => {
    const verdicts = [
      throttleVerdict(counters({ ...healthy, pod: 'p1', container: 'app' })),
      throttleVerdict(counters({ ...SHAPES.busy, pod: 'p1', container: 'proxy' })),
    ];
    const step = stepWorkload(undefined, verdicts);
    expect(step.verdict.containers.map((c) => [c.container, c.actionable])).toEqual([
      ['app', false],
      ['proxy', true],
    ]);
    expect(step.state.streaks).toEqual({ app: 0, proxy: 1 });
  });

  it('rejects empty and out-of-order windows', () => {
    expect(() => stepWorkload(undefined, [])).toThrow(WorkloadError);
    const step = stepWorkload(undefined, windowOf(2, { a: healthy }));
    expect(() => stepWorkload(step.state, windowOf(1, { a: healthy }))).toThrow(/not after the last one/);
  });
});
