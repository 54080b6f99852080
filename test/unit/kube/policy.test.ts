import { DEFAULT_THROTTLE_CONFIG } from '../../../shared/analysis/throttle-config.ts';
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, effectivePolicy, formatCpu, parseCpuMillicores } from '../../../shared/kube/policy.ts';

const operator = { ...DEFAULT_POLICY, mode: 'apply' as const, maxStepFactor: 2, ceilingMillicores: 4000, cooldownMs: 3_600_000, minConsecutiveWindows: 2 };
const optedInNs = { 'kernel.gossip.io/remediation': 'enabled' };

describe('effectivePolicy', () => {
  it.each([
    ['namespace label opts in', 'shop', optedInNs, {}, true, /namespace label/],
    ['workload annotation opts in', 'shop', {}, { 'kernel.gossip.io/remediation': 'enabled' }, true, /workload annotation/],
    ['workload annotation opts out of an opted-in namespace', 'shop', optedInNs, { 'kernel.gossip.io/remediation': 'disabled' }, false, /disabled/],
    ['nothing opts in', 'shop', {}, {}, false, /not opted in/],
    ['kube-system never, whatever it says', 'kube-system', optedInNs, { 'kernel.gossip.io/remediation': 'enabled' }, false, /never remediated/],
  ])('%s', (_name, namespace, labels, annotations, optedIn, scope) => {
    const result = effectivePolicy(operator, namespace, labels, annotations);
    expect(result.optedIn).toBe(optedIn);
    expect(result.scope).toMatch(scope);
  });

  it('honours the operator deny list', () => {
    expect(effectivePolicy({ ...operator, deniedNamespaces: ['payments'] }, 'payments', optedInNs, {}).optedIn).toBe(false);
  });

  it('lets annotations tighten every guardrail', () => {
    const result = effectivePolicy(operator, 'shop', optedInNs, {
      'kernel.gossip.io/remediation-mode': 'recommend',
      'kernel.gossip.io/max-step-factor': '1.5',
      'kernel.gossip.io/cpu-limit-ceiling': '1500m',
      'kernel.gossip.io/cooldown': '2h',
      'kernel.gossip.io/min-consecutive-windows': '3',
    });
    expect(result.policy).toMatchObject({ mode: 'recommend', maxStepFactor: 1.5, ceilingMillicores: 1500, cooldownMs: 7_200_000, minConsecutiveWindows: 3 });
    expect(result.problems).toEqual([]);
  });

  it('reports a streak longer than observe-throttle reads (it could never be reached) and keeps the operator value', () => {
    const result = effectivePolicy(operator, 'shop', optedInNs, { 'kernel.gossip.io/min-consecutive-windows': String(DEFAULT_THROTTLE_CONFIG.consecutiveWindows + 1) });
    expect(result.policy.minConsecutiveWindows).toBe(operator.minConsecutiveWindows);
    expect(result.problems).toEqual([expect.stringMatching(/min-consecutive-windows=4 is not valid; ignored/)]);
  });

  it('never lets annotations loosen a guardrail', () => {
    const strict = { ...operator, mode: 'recommend' as const };
    const result = effectivePolicy(strict, 'shop', optedInNs, {
      'kernel.gossip.io/remediation-mode': 'apply',
      'kernel.gossip.io/max-step-factor': '10',
      'kernel.gossip.io/cpu-limit-ceiling': '64',
      'kernel.gossip.io/cooldown': '1s',
      'kernel.gossip.io/min-consecutive-windows': '1',
    });
    expect(result.policy).toMatchObject({ mode: 'recommend', maxStepFactor: 2, ceilingMillicores: 4000, cooldownMs: 3_600_000, minConsecutiveWindows: 2 });
  });

  it('reports unreadable annotations and keeps the operator value', () => {
    const result = effectivePolicy(operator, 'shop', optedInNs, {
      'kernel.gossip.io/remediation-mode': 'yolo',
      'kernel.gossip.io/cpu-limit-ceiling': 'lots',
      'kernel.gossip.io/remediation': 'maybe',
    });
    expect(result.policy.mode).toBe('apply');
    expect(result.policy.ceilingMillicores).toBe(4000);
    expect(result.problems).toEqual([
      'kernel.gossip.io/remediation=maybe is neither enabled nor disabled',
      'workload annotation kernel.gossip.io/remediation-mode=yolo is not valid; ignored',
      'workload annotation kernel.gossip.io/cpu-limit-ceiling=lots is not valid; ignored',
    ]);
  });
});

describe('namespace annotations', () => {
  it('tighten the operator policy, and the workload tightens further', () => {
    const result = effectivePolicy(operator, 'shop', optedInNs, { 'kernel.gossip.io/max-step-factor': '1.2' }, {
      'kernel.gossip.io/remediation-mode': 'recommend',
      'kernel.gossip.io/max-step-factor': '1.5',
      'kernel.gossip.io/cpu-limit-ceiling': '2',
    });
    expect(result.policy).toMatchObject({ mode: 'recommend', maxStepFactor: 1.2, ceilingMillicores: 2000 });
  });

  it('cannot be loosened by the workload', () => {
    const result = effectivePolicy(operator, 'shop', optedInNs, { 'kernel.gossip.io/remediation-mode': 'apply' }, { 'kernel.gossip.io/remediation-mode': 'off' });
    expect(result.policy.mode).toBe('off');
  });
});

describe('CPU quantities', () => {
  it.each([
    ['250m', 250],
    ['1', 1000],
    ['1.5', 1500],
    ['0.1', 100],
    ['2000m', 2000],
    // Kubernetes' quantity grammar (k8s.io/apimachinery/pkg/api/resource/quantity.go): the API
    // server stores 1000 cores as its canonical `1k`, and accepts exponents and binary suffixes.
    ['1k', 1_000_000],
    ['1e3', 1_000_000],
    ['1Ki', 1_024_000],
    // Below a millicore rounds up, as Kubernetes rounds CPU to 1m.
    ['1500u', 2],
  ])('parses %s', (raw, millicores) => {
    expect(parseCpuMillicores(raw)).toBe(millicores);
  });

  it.each(['', 'abc', '-1', '0', '1.5.5', '2 cores', '0m'])('rejects %j', (raw) => {
    expect(parseCpuMillicores(raw)).toBeUndefined();
  });

  it.each([
    [250, '250m'],
    [1000, '1'],
    [1500, '1500m'],
  ])('formats %i as %s', (millicores, text) => {
    expect(formatCpu(millicores)).toBe(text);
  });
});
